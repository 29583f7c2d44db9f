"""Faults under load against a real 2-worker ``ewp-node serve`` (issue 7, findings 3-4 and the fault test).

A bounded load of signed Echo requests runs while a worker is killed with ``kill -9`` and (PostgreSQL) the
database is stopped and started again. Every request the client got an answer for must be in the audit log
afterwards, exactly once; while the database is away the answers are 503 with Retry-After (never 500); the node
recovers by itself. PostgreSQL runs as a private cluster (initdb/pg_ctl in a temporary folder, on a free
loopback port), never the shared server on 5432. Replays are refused across the node's workers.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from lxml import etree
from sqlalchemy import select
from werkzeug.serving import make_server
from werkzeug.wrappers import Response

from ewp_node.app import manifest_bytes
from ewp_node.config import HeiConfig, Settings
from ewp_node.context import KeyPair
from ewp_node.home import HomeSpec, create_home
from ewp_node.manifest import build_manifest
from ewp_node.registry.local import CATALOGUE_PATH, build_catalogue
from ewp_node.sandbox import free_port
from ewp_node.security.httpsig import sign_request
from ewp_node.security.keys import fingerprint, public_key_b64
from ewp_node.store.audit import AuditEntry, Direction
from ewp_node.store.db import make_engine
from ewp_node.xml import ns

pytestmark = pytest.mark.slow  # about 45 s: real servers, a private PostgreSQL cluster

NODE_HEI = "node.fault.example.eu"
PARTNER_HEI = "partner.fault.example.eu"
ECHO = "/ewp/echo?echo=fault"
#: Upper bound of every wait in this file (seconds).
WAIT = 30.0
CLIENTS = 4


def wait_for(produce: Callable[[], object], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not produce():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


# -- a private PostgreSQL cluster ------------------------------------------------------------------------------


@dataclass
class PrivateCluster:
    bindir: Path
    root: Path
    port: int
    as_postgres: list[str]

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def pg_ctl(self, *args: str) -> None:
        subprocess.run([*self.as_postgres, str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), *args],
                       check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
        self.pg_ctl("-l", str(self.root / "postgres.log"), "-w", "-t", "30", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("-m", mode, "-w", "-t", "30", "stop")


@contextmanager
def private_postgres() -> Iterator[PrivateCluster]:
    initdbs = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not initdbs:
        pytest.skip("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (initdb, pg_ctl): "
                    "the PostgreSQL fault test needs a private cluster; install the postgresql package")
    as_postgres: list[str] = []
    root = Path(tempfile.mkdtemp(prefix="ewp-fault-pg-"))
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
        as_postgres = ["runuser", "-u", "postgres", "--"]
    cluster = PrivateCluster(initdbs[-1].parent, root, free_port(), as_postgres)
    try:
        subprocess.run([*as_postgres, str(cluster.bindir / "initdb"), "-D", str(root / "data"), "-A", "trust",
                        "-U", "postgres", "-E", "UTF8", "--no-sync"], check=True, capture_output=True, timeout=120)
        cluster.start()
        yield cluster
    finally:
        try:
            cluster.stop("immediate")
        except (subprocess.SubprocessError, OSError):
            pass  # not running
        shutil.rmtree(root, ignore_errors=True)


# -- a 2-worker node and its registry --------------------------------------------------------------------------


@dataclass
class Node:
    base_url: str
    host: str
    database_url: str
    partner: RSAPrivateKey
    process: subprocess.Popen[bytes]
    log: Path

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text()
        return [int(pid) for pid in children.split()]

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


def _catalogue(settings: Settings, partner: RSAPrivateKey, partner_server: RSAPrivateKey) -> bytes:
    node = etree.fromstring(manifest_bytes(settings, KeyPair.load(settings.client_key_path),
                                           KeyPair.load(settings.server_key_path)))
    partner_settings = Settings(home=settings.home, base_url="https://partner.fault.example.eu",
                                heis=(HeiConfig(id=PARTNER_HEI, names={"en": "Partner"}),))
    other = build_manifest(partner_settings, [], partner_settings.heis[0], public_key_b64(partner.public_key()),
                           public_key_b64(partner_server.public_key()))
    return build_catalogue([node, other])


@contextmanager
def running_node(work: Path, database_url: str | None) -> Iterator[Node]:
    """``ewp-node serve --workers 2`` on plain HTTP on loopback, its catalogue from a loopback registry."""
    partner, partner_server = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))
    holder: dict[str, bytes] = {}
    registry = make_server("127.0.0.1", 0, lambda environ, start: Response(
        holder["catalogue"], mimetype="application/xml")(environ, start), threaded=True)
    threading.Thread(target=registry.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    port = free_port()
    settings = create_home(work / "home", HomeSpec(
        hei_id=NODE_HEI, hei_name="Fault Node", base_url=f"http://127.0.0.1:{port}", database_url=database_url,
        registry_url=f"http://127.0.0.1:{registry.server_port}{CATALOGUE_PATH}", extra={"allow_http": True}))
    holder["catalogue"] = _catalogue(settings, partner, partner_server)
    log = work / "node.log"
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ewp_node.cli", "serve", str(settings.home), "--bind", f"127.0.0.1:{port}",
             "--workers", "2"], stdout=out, stderr=out, start_new_session=True,
            env={**os.environ, "EWP_NODE_ALLOW_HTTP": "1", "PYTHONUNBUFFERED": "1"})
    node = Node(settings.base_url, settings.host, settings.database_url, partner, process, log)
    try:
        wait_for(lambda: _up(node), "the node to start")
        yield node
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)
        registry.shutdown()
        registry.server_close()


def _up(node: Node) -> bool:
    if node.process.poll() is not None:
        pytest.fail(f"the node exited: {node.log_tail()}")
    try:
        return requests.get(node.base_url + "/manifest.xml", timeout=2).ok
    except requests.RequestException:
        return False


def signed_echo_headers(node: Node) -> dict[str, str]:
    return sign_request(method="GET", target=ECHO, headers={"Host": node.host}, body=b"", private_key=node.partner,
                        key_id=fingerprint(node.partner.public_key()), now=datetime.now(UTC))


# -- the load ----------------------------------------------------------------------------------------------------


@dataclass
class Load:
    """Signed Echo requests from ``CLIENTS`` threads until stopped; each on a fresh connection."""

    node: Node
    #: ``(request id, status, seconds since the load started)`` of each answered request.
    answers: list[tuple[str, int, float]] = field(default_factory=list)
    bad_503s: list[str] = field(default_factory=list)
    unanswered: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.started = time.monotonic()
        self._threads = [threading.Thread(target=self._client, daemon=True) for _ in range(CLIENTS)]
        for thread in self._threads:
            thread.start()

    def _client(self) -> None:
        while not self.stop.is_set():
            headers = signed_echo_headers(self.node)
            try:
                response = requests.get(self.node.base_url + ECHO, headers=headers, timeout=10)
            except requests.RequestException:
                self.unanswered += 1  # e.g. in flight on the killed worker: no answer, nothing to audit
                continue
            if response.status_code == 503 and not (response.headers.get("Retry-After") and etree.fromstring(
                    response.content).tag == f"{{{ns.COMMON}}}error-response"):
                self.bad_503s.append(response.text[:200])
            self.answers.append((headers["X-Request-Id"], response.status_code, time.monotonic() - self.started))

    def finish(self) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=15)

    def statuses(self) -> Counter[int]:
        return Counter(status for _, status, _ in self.answers)


def _audited(database_url: str) -> Counter[str]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return Counter(connection.scalars(select(AuditEntry.request_id).where(
                AuditEntry.direction == Direction.IN, AuditEntry.request_id.is_not(None))))
    finally:
        engine.dispose()


def _assert_every_answer_audited_once(load: Load) -> None:
    answered = {request_id for request_id, _, _ in load.answers}
    missing: set[str] = set()

    def complete() -> bool:
        nonlocal missing
        missing = answered - set(_audited(load.node.database_url))
        return not missing

    try:
        wait_for(complete, "every answered request in the audit log")
    except pytest.fail.Exception:
        pytest.fail(f"{len(missing)} of {len(answered)} answered requests are not in the audit log; "
                    f"node log: {load.node.log_tail()}")
    counts = _audited(load.node.database_url)
    assert [rid for rid in answered if counts[rid] != 1] == []


def _kill_one_worker(node: Node) -> int:
    victim = node.worker_pids()[0]
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: len([p for p in node.worker_pids() if p != victim]) == 2, "gunicorn to replace the worker")
    return victim


# -- tests -------------------------------------------------------------------------------------------------------


def test_a_replay_is_refused_by_every_worker(tmp_path: Path) -> None:
    with running_node(tmp_path, None) as node:
        headers = signed_echo_headers(node)
        statuses = []
        for _ in range(6):  # fresh connections: gunicorn spreads them over both workers
            with requests.Session() as session:
                statuses.append(session.get(node.base_url + ECHO, headers=headers, timeout=10).status_code)
    assert sorted(statuses) == [200] + [400] * 5


def test_kill_9_of_a_worker_loses_no_audit_row_on_sqlite(tmp_path: Path) -> None:
    with running_node(tmp_path, None) as node:
        load = Load(node)
        time.sleep(3)
        _kill_one_worker(node)
        time.sleep(3)
        load.finish()
        assert load.statuses().keys() == {200}, load.statuses()
        _assert_every_answer_audited_once(load)


def test_postgres_restart_and_kill_9_lose_no_audit_row_and_answer_503(tmp_path: Path) -> None:
    with private_postgres() as cluster, running_node(tmp_path, cluster.url) as node:
        load = Load(node)
        time.sleep(2)
        _kill_one_worker(node)
        time.sleep(2)
        cluster.stop("fast")
        stopped = time.monotonic() - load.started
        time.sleep(3)
        cluster.start()
        restarted = time.monotonic() - load.started
        wait_for(lambda: any(status == 200 and at > restarted for _, status, at in load.answers),
                 "the node to answer 200 again after the restart")
        time.sleep(1)
        load.finish()

        statuses = load.statuses()
        assert set(statuses) <= {200, 503}, statuses
        assert any(status == 503 and stopped <= at for _, status, at in load.answers), statuses
        assert load.bad_503s == []
        _assert_every_answer_audited_once(load)

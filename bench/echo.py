"""Signed Echo throughput on the production server, against a bare-crypto baseline. Prints one JSON object.

What runs: a temporary node home (``ewp_node.home.create_home``, SQLite audit log, fresh keys) is served by
``ewp-node serve`` (granian, ``workers = cores``, 4 app threads each) on plain HTTP on 127.0.0.1; its
registry catalogue (the node's manifest plus a partner whose client key signs every request) comes from a
tiny local HTTP server, so the node looks the key up and verifies the signature for real. Every request is a
``GET /ewp/echo?echo=bench`` signed by the partner (distinct X-Request-Id, fresh Date) and asks for a signed
response (``Accept-Signature: rsa-sha256``). The baseline (``bench/_echo_baseline.py``) is a bare Flask app
on the same server options doing one RSA verify and one RSA sign per request.

How: requests are signed before the timed part. The load is ``wrk`` (``bench/echo.lua`` replays the
pre-signed raw requests, each thread its own slice) or, without wrk, Python threads taking the next unused
request from one shared pool; same connections and duration for both apps. Both servers run side by side
and are loaded in turn, ``--rounds`` times (baseline, then node): the machine's drift (a VM's neighbours) reaches
both alike, and the round with the median ratio is reported, with every round's ratios in ``rounds``: many short
rounds by default, since a VM's drift moves single rounds by +-20% (the median of 3 rounds of 10 s swung
0.73-0.81 between runs of one build; in a run of 15 rounds of 3 s the middle five lay within 0.78-0.80).
Each baseline load sizes the node's next pool of freshly signed requests, so no id repeats (the node answers a
replayed X-Request-Id with 400). A node load's server CPU is counted until the node is quiet again (its
background worker inserts the last second's audit rows after the load). After the last round, ``--sample``
fresh signed requests are sent with ``requests`` and their responses checked with ``verify_response``.

Reading the output:
  ``req_per_s`` / ``baseline_req_per_s`` / ``ratio_to_baseline``: target ratio >= 0.85, i.e. the security
  layer, routing, XML, replay guard and audit log cost at most ~18% over the bare crypto.
  ``efficiency`` = ``req_per_s / (cores / (sign_us + verify_us))``: the share of the pure-crypto ceiling
  (one RSA-2048 sign + one verify per request on every core) that the node reaches.
  ``replay_check_us`` (SQLite, PostgreSQL) and ``audit_record_us``: the replay guard's claim and the
  audit journal write, per request, timed in-process (``bench/_request_path_costs.py``).
  ``errors``: node responses that were not 2xx (every round), socket errors, and sample responses failing
  verification.
  ``server_cpu_us_per_req`` (and the baseline's): CPU of all server processes per completed request, from
  /proc; ``cpu_ratio_to_baseline`` = baseline / node CPU per request, steadier than the req/s ratio when
  ``foreign_cpu_s`` (CPU other processes took from the machine during the run) is not ~0: rerun then.
  The load generator shares the machine's cores with the server (``transport``: ``http-loopback``).

    .venv/bin/python bench/echo.py [--duration 4] [--rounds 9] [--connections 16] [--load auto|wrk|python]
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import logging
import math
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing import get_context
from pathlib import Path

import requests
from _request_path_costs import request_path_costs  # bench/ sibling (the script's folder is on sys.path)
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from lxml import etree

from ewp_node.app import manifest_bytes
from ewp_node.config import HeiConfig, Settings
from ewp_node.context import KeyPair
from ewp_node.home import HomeSpec, create_home
from ewp_node.manifest import build_manifest
from ewp_node.registry.catalogue import CatalogueIndex
from ewp_node.registry.local import CATALOGUE_PATH, build_catalogue
from ewp_node.security.errors import SecurityError, UntrustedServerKey
from ewp_node.security.httpsig import HeaderView, parse_signature_params, sign_request, verify_response
from ewp_node.security.keys import fingerprint, public_key_b64
from ewp_node.server import default_workers

log = logging.getLogger("bench.echo")

BENCH_DIR = Path(__file__).resolve().parent
LUA_SCRIPT = BENCH_DIR / "echo.lua"
BASELINE_SCRIPT = BENCH_DIR / "_echo_baseline.py"
NODE_HEI = "node.bench.example.eu"
PARTNER_HEI = "partner.bench.example.eu"
ECHO_PATH = "/ewp/echo?echo=bench"
#: App threads per worker: ``ewp_node.server.serve``'s default, used by ``ewp-node serve``.
THREADS = 4
TARGET_RATIO = 0.85
STARTUP_TIMEOUT = 30.0
#: Requests signed for the baseline (it checks no id, so they are replayed in a cycle).
BASELINE_POOL = 2000
#: Node pool = baseline req/s x duration x this margin (the node should not outrun the bare crypto app).
POOL_MARGIN = 1.5
MAX_POOL = 80_000


# -- crypto micro-measure -----------------------------------------------------------------------------------


def _median_us(operation: Callable[[], object], batch: int, batches: int) -> float:
    samples = []
    for _ in range(batches):
        start = time.perf_counter()
        for _ in range(batch):
            operation()
        samples.append((time.perf_counter() - start) / batch * 1e6)
    return statistics.median(samples)


def measure_crypto(key: RSAPrivateKey) -> tuple[float, float]:
    """Median microseconds of one RSA-2048 PKCS#1 v1.5 SHA-256 sign and one verify, in this process."""
    text = b"x-request-id: 00000000-0000-4000-8000-000000000000\n" * 6
    signature = key.sign(text, padding.PKCS1v15(), hashes.SHA256())
    public = key.public_key()
    sign_us = _median_us(lambda: key.sign(text, padding.PKCS1v15(), hashes.SHA256()), 40, 15)
    verify_us = _median_us(lambda: public.verify(signature, text, padding.PKCS1v15(), hashes.SHA256()), 200, 15)
    return sign_us, verify_us


# -- node home and registry ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Partner:
    """The partner whose client signs every request (its keys only live in the catalogue and here)."""

    client: RSAPrivateKey
    server: RSAPrivateKey

    @property
    def key_id(self) -> str:
        return fingerprint(self.client.public_key())


def partner_manifest(home: Path, partner: Partner) -> etree._Element:
    settings = Settings(home=home, base_url="https://partner.bench.example.eu",
                        heis=(HeiConfig(id=PARTNER_HEI, names={"en": "Bench Partner"}),))
    return build_manifest(settings, [], settings.heis[0], public_key_b64(partner.client.public_key()),
                          public_key_b64(partner.server.public_key()))


def catalogue_for(settings: Settings, partner: Partner) -> bytes:
    """The catalogue a Registry would publish for the node and the partner."""
    node = etree.fromstring(manifest_bytes(settings, KeyPair.load(settings.client_key_path),
                                           KeyPair.load(settings.server_key_path)))
    return build_catalogue([node, partner_manifest(settings.home, partner)])


def make_node_home(home: Path, port: int, catalogue_url: str) -> Settings:
    spec = HomeSpec(hei_id=NODE_HEI, hei_name="Bench Node", base_url=f"http://127.0.0.1:{port}",
                    registry_url=catalogue_url, extra={"allow_http": True})
    return create_home(home, spec)


@contextmanager
def catalogue_server(port: int, holder: dict[str, bytes]) -> Iterator[str]:
    """Serve ``holder["body"]`` at ``CATALOGUE_PATH`` on 127.0.0.1 (with an ETag) until the block ends."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            body = holder["body"]
            etag = f'"{hash(body) & 0xFFFFFFFF:08x}"'
            if self.path != CATALOGUE_PATH:
                self.send_error(404)
            elif self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.end_headers()
            else:
                self.send_response(200)
                self.send_header("Content-Type", "application/xml")
                self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            log.debug("catalogue server: " + format, *args)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, name="catalogue", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}{CATALOGUE_PATH}"
    finally:
        server.shutdown()
        server.server_close()


# -- pre-signed requests ------------------------------------------------------------------------------------


def raw_request(method: str, target: str, headers: dict[str, str]) -> str:
    lines = [f"{method} {target} HTTP/1.1", *(f"{name}: {value}" for name, value in headers.items())]
    return "\r\n".join(lines) + "\r\n\r\n"


def _sign_batch(job: tuple[bytes, str, int]) -> list[str]:
    """Sign ``count`` Echo requests (a process-pool task: the key travels as PEM)."""
    pem, host, count = job
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    key_id = fingerprint(key.public_key())
    out = []
    for _ in range(count):
        headers = sign_request(method="GET", target=ECHO_PATH, headers={"Host": host, "Accept-Signature": "rsa-sha256"},
                               body=b"", private_key=key, key_id=key_id, now=datetime.now(UTC))
        out.append(raw_request("GET", ECHO_PATH, headers))
    return out


def sign_requests(key: RSAPrivateKey, host: str, count: int, processes: int) -> list[str]:
    """``count`` signed raw requests, each with its own X-Request-Id, signed on ``processes`` cores."""
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    chunk = math.ceil(count / processes)
    jobs = [(pem, host, min(chunk, count - i)) for i in range(0, count, chunk)]
    with ProcessPoolExecutor(max_workers=processes, mp_context=get_context("fork")) as pool:
        return [raw for batch in pool.map(_sign_batch, jobs) for raw in batch]


def write_requests(path: Path, raws: list[str]) -> Path:
    path.write_bytes("".join(raws).encode("latin-1"))
    return path


# -- servers ------------------------------------------------------------------------------------------------


class ServerProcess:
    """A server (``ewp_node.server.serve``) in its own process group; stopped with SIGTERM (then SIGKILL)."""

    def __init__(self, name: str, command: list[str], log_path: Path, up_url: str) -> None:
        self.name, self.command, self.log_path, self.up_url = name, command, log_path, up_url
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ServerProcess:
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(self.command, stdout=out, stderr=out, start_new_session=True,
                                            env={**os.environ, "EWP_NODE_ALLOW_HTTP": "1", "PYTHONUNBUFFERED": "1"})
        self._wait_until_up()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _wait_until_up(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log_tail()}")
            try:
                if requests.get(self.up_url, timeout=2).status_code < 500:
                    self.wait_until_quiet()
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not come up in {STARTUP_TIMEOUT:.0f} s: {self.log_tail()}")

    def wait_until_quiet(self, step_s: float = 0.5, busy_share: float = 0.05, limit_s: float = 20.0) -> None:
        """Wait until the server's processes (workers, and the node's outbox worker, which imports and runs its
        first scheduled jobs after the node answers) use under ``busy_share`` of a core: the load measures the
        steady state, not start-up."""
        deadline = time.monotonic() + limit_s
        before = sum(self.cpu_seconds().values())
        while time.monotonic() < deadline:
            time.sleep(step_s)
            after = sum(self.cpu_seconds().values())
            if after - before < busy_share * step_s:
                return
            before = after
        log.warning("%s still busy %.0f s after start-up: measuring anyway", self.name, limit_s)

    def cpu_seconds(self) -> dict[int, float]:
        """User + system CPU so far of each process of the server (master and workers), by pid: /proc, Linux."""
        assert self.process is not None
        pgid, ticks, out = self.process.pid, os.sysconf("SC_CLK_TCK"), {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()  # from field 3 (state) on: pgrp is 5, utime 14, stime 15
            if int(fields[2]) == pgid:
                out[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
        return out

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def node_server(settings: Settings, port: int, workers: int, log_path: Path) -> ServerProcess:
    command = [sys.executable, "-m", "ewp_node.cli", "serve", str(settings.home), "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers)]
    return ServerProcess("node", command, log_path, f"http://127.0.0.1:{port}/manifest.xml")


def baseline_server(key_path: Path, port: int, workers: int, log_path: Path) -> ServerProcess:
    command = [sys.executable, str(BASELINE_SCRIPT), str(key_path), f"127.0.0.1:{port}", str(workers)]
    return ServerProcess("baseline", command, log_path, f"http://127.0.0.1:{port}/")


# -- load ---------------------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    requests: int
    duration_s: float
    statuses: dict[str, int]
    socket_errors: int
    ids_reused: int
    latency_ms: dict[str, float] = field(default_factory=dict)
    client_cpu_s: float = 0.0
    #: CPU seconds other processes of the machine (not the server, not the load generator) used meanwhile.
    foreign_cpu_s: float = 0.0
    #: CPU seconds each server process (the main process first, then workers) used during the load.
    server_cpu_s: list[float] = field(default_factory=list)

    @property
    def req_per_s(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def server_cpu_us_per_req(self) -> float:
        return sum(self.server_cpu_s) / self.requests * 1e6 if self.requests else 0.0

    @property
    def errors(self) -> int:
        return self.socket_errors + sum(n for code, n in self.statuses.items() if not code.startswith("2"))


def wrk_threads(cores: int) -> int:
    return max(1, min(4, cores // 2))


def run_wrk(port: int, requests_file: Path, duration: int, connections: int, threads: int) -> LoadResult:
    env = {**os.environ, "ECHO_BENCH_REQUESTS": str(requests_file), "ECHO_BENCH_THREADS": str(threads)}
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s",
               str(LUA_SCRIPT), f"http://127.0.0.1:{port}/"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=duration + 30, check=False)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("ECHO_BENCH_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stdout[-1000:]} {done.stderr[-1000:]}")
    data = json.loads(line.removeprefix("ECHO_BENCH_JSON "))
    return LoadResult(
        requests=data["requests"], duration_s=data["duration_us"] / 1e6, statuses=data["statuses"],
        socket_errors=sum(data["socket_errors"].values()), ids_reused=data["wrapped"],
        latency_ms={name: round(us / 1000, 2) for name, us in data["latency_us"].items()},
    )


def _python_client(port: int, take: Callable[[], str | None], deadline: float,
                   out: list[tuple[int, float]]) -> None:
    """One connection sending the next unused request of the shared pool until ``deadline`` or until the pool
    runs out (reconnects after a closed connection)."""
    sock: socket.socket | None = None
    while time.monotonic() < deadline and (raw := take()) is not None:
        started = time.perf_counter()
        try:
            if sock is None:
                sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(raw.encode("latin-1"))
            response = http.client.HTTPResponse(sock)
            response.begin()
            response.read()
            out.append((response.status, time.perf_counter() - started))
            if response.will_close:
                sock.close()
                sock = None
        except OSError:
            out.append((0, time.perf_counter() - started))
            if sock is not None:
                sock.close()
            sock = None
    if sock is not None:
        sock.close()


def run_python_load(port: int, raws: list[str], duration: int, connections: int, cycle: bool) -> LoadResult:
    """Fallback load generator: one thread per connection (costs far more client CPU than wrk). The threads
    share one pool (a thread may run far more requests than another), so no request is sent twice unless
    ``cycle`` (the baseline, which checks no id) replays the pool."""
    deadline = time.monotonic() + duration
    results: list[list[tuple[int, float]]] = [[] for _ in range(connections)]
    pool = itertools.cycle(raws) if cycle else iter(raws)
    lock = threading.Lock()

    def take() -> str | None:
        with lock:
            return next(pool, None)

    threads = [threading.Thread(target=_python_client, args=(port, take, deadline, results[i]))
               for i in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    flat = [item for per_thread in results for item in per_thread]
    statuses = Counter(str(status) for status, _ in flat if status)
    latencies = sorted(seconds * 1000 for _, seconds in flat) or [0.0]
    if not cycle and len(flat) >= len(raws):
        log.warning("the pool of %d signed requests ran out before the end of the load", len(raws))
    return LoadResult(
        requests=sum(1 for status, _ in flat if status), duration_s=elapsed, statuses=dict(statuses),
        socket_errors=sum(1 for status, _ in flat if not status), ids_reused=0,
        latency_ms={name: round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 2)
                    for name, q in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0))},
    )


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent busy so far (all cores, all processes): /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    idle, iowait = fields[3], fields[4]
    return (sum(fields[:8]) - idle - iowait) / os.sysconf("SC_CLK_TCK")


def _cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def run_load(kind: str, server: ServerProcess, port: int, raws: list[str], requests_file: Path, duration: int,
             connections: int, cores: int, *, cycle: bool = False, settle: bool = False) -> LoadResult:
    """Load ``server`` for ``duration`` seconds; also records the CPU the server and the load generator used
    (with ``settle``, the server's CPU until its processes are quiet again: the node's background worker inserts
    the last second's audit rows after the load)."""
    who = resource.RUSAGE_CHILDREN if kind == "wrk" else resource.RUSAGE_SELF
    client_before, server_before, busy_before = _cpu_seconds(who), server.cpu_seconds(), machine_busy_seconds()
    if kind == "wrk":
        result = run_wrk(port, requests_file, duration, connections, wrk_threads(cores))
    else:
        result = run_python_load(port, raws, duration, connections, cycle)
    if settle:
        server.wait_until_quiet()
    server_after = server.cpu_seconds()
    result.server_cpu_s = [round(server_after[pid] - server_before.get(pid, 0.0), 2) for pid in sorted(server_after)]
    result.client_cpu_s = _cpu_seconds(who) - client_before
    busy = machine_busy_seconds() - busy_before
    result.foreign_cpu_s = max(0.0, busy - sum(result.server_cpu_s) - result.client_cpu_s)
    return result


# -- response signatures ------------------------------------------------------------------------------------


def _server_key_resolver(index: CatalogueIndex) -> Callable[[str], RSAPublicKey]:
    def resolve(key_id: str) -> RSAPublicKey:
        key = index.server_key(key_id)
        if key is None:
            raise UntrustedServerKey(f"{key_id} is not a server key in the catalogue")
        return key

    return resolve


def verify_sample(port: int, partner: Partner, catalogue: bytes, count: int) -> tuple[int, list[str]]:
    """Send ``count`` fresh signed Echo requests; verify each response's signature against the catalogue."""
    resolve = _server_key_resolver(CatalogueIndex.from_bytes(catalogue))
    host = f"127.0.0.1:{port}"
    failures: list[str] = []
    with requests.Session() as session:
        for _ in range(count):
            request_id = str(uuid.uuid4())
            headers = sign_request(method="GET", target=ECHO_PATH, body=b"", private_key=partner.client,
                                   headers={"Host": host, "Accept-Signature": "rsa-sha256",
                                            "Accept-Encoding": "identity"},
                                   key_id=partner.key_id, now=datetime.now(UTC), request_id=request_id)
            response = session.get(f"http://{host}{ECHO_PATH}", headers=headers, timeout=10)
            try:
                if response.status_code != 200:
                    raise SecurityError(f"HTTP {response.status_code}")
                verify_response(headers=HeaderView(response.headers.items()), body=response.content,
                                now=datetime.now(UTC), request_method="GET", request_target=ECHO_PATH,
                                request_id=request_id,
                                request_signature=parse_signature_params(headers["Authorization"]).signature,
                                resolve_server_key=resolve)
            except SecurityError as exc:
                failures.append(str(exc))
    return count - len(failures), failures


# -- the run ------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=4, help="seconds of load per app and round (default 4)")
    parser.add_argument("--rounds", type=int, default=9,
                        help="baseline and node loads taken in turn this many times; the median round is reported "
                             "(default 9)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--sample", type=int, default=50, help="node responses whose signature is verified")
    parser.add_argument("--load", choices=("auto", "wrk", "python"), default="auto",
                        help="load generator (auto: wrk if installed)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (server logs)")
    return parser.parse_args(argv)


def node_pool_size(baseline_rps: float, duration: int) -> int:
    return max(BASELINE_POOL, min(MAX_POOL, math.ceil(baseline_rps * duration * POOL_MARGIN)))


def run(args: argparse.Namespace, work: Path) -> dict[str, object]:
    cores = os.cpu_count() or 1
    workers = default_workers()
    load = args.load if args.load != "auto" else ("wrk" if shutil.which("wrk") else "python")
    partner = Partner(*(rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2)))
    sign_us, verify_us = measure_crypto(partner.client)
    log.info("RSA-2048: sign %.0f us, verify %.1f us; %d cores, load: %s", sign_us, verify_us, cores, load)

    node_port, baseline_port, catalogue_port = free_port(), free_port(), free_port()
    holder: dict[str, bytes] = {}
    with catalogue_server(catalogue_port, holder) as catalogue_url:
        settings = make_node_home(work / "home", node_port, catalogue_url)
        holder["body"] = catalogue_for(settings, partner)
        host = settings.host

        baseline_raws = sign_requests(partner.client, host, BASELINE_POOL, cores)
        baseline_file = write_requests(work / "baseline-requests.http", baseline_raws)
        rounds: list[tuple[LoadResult, LoadResult]] = []
        with (baseline_server(settings.server_key_path, baseline_port, workers, work / "baseline.log") as base_server,
              node_server(settings, node_port, workers, work / "node.log") as server):
            log.info("baseline on :%d, node on :%d; %d round(s) of %d s of load each, %d connections",
                     baseline_port, node_port, args.rounds, args.duration, args.connections)
            for number in range(1, args.rounds + 1):
                baseline = run_load(load, base_server, baseline_port, baseline_raws, baseline_file, args.duration,
                                    args.connections, cores, cycle=True)
                # fresh ids (a replayed one is answered 400) and fresh dates, for as many requests as the baseline
                # managed and a margin
                count = node_pool_size(baseline.req_per_s, args.duration)
                raws = sign_requests(partner.client, host, count, cores)
                requests_file = write_requests(work / f"node-requests-{number}.http", raws)
                node = run_load(load, server, node_port, raws, requests_file, args.duration, args.connections, cores,
                                settle=True)
                log.info("round %d: baseline %.0f req/s %s, node %.0f req/s %s (%d signed)", number,
                         baseline.req_per_s, baseline.statuses, node.req_per_s, node.statuses, count)
                rounds.append((node, baseline))
            verified, failures = verify_sample(node_port, partner, holder["body"], args.sample)
            if failures:
                log.warning("sample failures: %s; node log: %s", failures[:3], server.log_tail())
    node, baseline = median_round(rounds)
    return report(args, cores, workers, load, sign_us, verify_us, rounds, count, verified, failures)


def round_ratio(node: LoadResult, baseline: LoadResult) -> float:
    return node.req_per_s / baseline.req_per_s if baseline.req_per_s else 0.0


def median_round(rounds: list[tuple[LoadResult, LoadResult]]) -> tuple[LoadResult, LoadResult]:
    """The round whose ratio is the median (the lower middle one for an even count)."""
    ordered = sorted(rounds, key=lambda pair: round_ratio(*pair))
    return ordered[(len(ordered) - 1) // 2]


def report(args: argparse.Namespace, cores: int, workers: int, load: str, sign_us: float, verify_us: float,
           rounds: list[tuple[LoadResult, LoadResult]], pool: int, verified: int,
           failures: list[str]) -> dict[str, object]:
    ceiling = cores / ((sign_us + verify_us) / 1e6)
    node, baseline = median_round(rounds)
    ratio = round_ratio(node, baseline)
    return {
        "req_per_s": round(node.req_per_s, 1),
        "baseline_req_per_s": round(baseline.req_per_s, 1),
        "ratio_to_baseline": round(ratio, 3),
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio >= TARGET_RATIO,
        "sign_us": round(sign_us, 1),
        "verify_us": round(verify_us, 1),
        "cores": cores,
        "crypto_ceiling_req_per_s": round(ceiling, 1),
        "efficiency": round(node.req_per_s / ceiling, 4),
        "rounds": [{"ratio": round(round_ratio(n, b), 3),
                    "cpu_ratio": round(b.server_cpu_us_per_req / n.server_cpu_us_per_req, 3)
                    if n.server_cpu_us_per_req else 0.0} for n, b in rounds],
        "errors": sum(n.errors for n, _ in rounds) + len(failures),
        "baseline_errors": sum(b.errors for _, b in rounds),
        "statuses": node.statuses,
        "baseline_statuses": baseline.statuses,
        "requests": node.requests,
        "baseline_requests": baseline.requests,
        "server_cpu_us_per_req": round(node.server_cpu_us_per_req),
        "baseline_server_cpu_us_per_req": round(baseline.server_cpu_us_per_req),
        "cpu_ratio_to_baseline": round(baseline.server_cpu_us_per_req / node.server_cpu_us_per_req, 3)
        if node.server_cpu_us_per_req else 0.0,
        "server_process_cpu_s": node.server_cpu_s,
        "baseline_server_process_cpu_s": baseline.server_cpu_s,
        "load_generator_cpu_s": round(node.client_cpu_s, 2),
        "baseline_load_generator_cpu_s": round(baseline.client_cpu_s, 2),
        "foreign_cpu_s": round(node.foreign_cpu_s, 2),
        "baseline_foreign_cpu_s": round(baseline.foreign_cpu_s, 2),
        "latency_ms": node.latency_ms,
        "baseline_latency_ms": baseline.latency_ms,
        "signed_requests": pool,
        "ids_reused": sum(n.ids_reused for n, _ in rounds),
        "sample_verified": verified,
        "sample_size": args.sample,
        "sample_failures": failures[:5],
        "transport": "http-loopback",
        "server": f"granian (ASGI, buffering bridge), {workers} workers x {THREADS} app threads",
        "load_generator": f"wrk -t{wrk_threads(cores)}" if load == "wrk" else "python threads",
        "connections": args.connections,
        "duration_s": args.duration,
        "schema_validation": False,
        "audit_log": "sqlite",
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s: %(message)s")
    work = Path(tempfile.mkdtemp(prefix="ewp-bench-echo-"))
    try:
        result = run(args, work)
        result.update(request_path_costs(work))
    finally:
        if args.keep:
            log.info("kept %s", work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

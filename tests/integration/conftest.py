"""A real ``ewp-node serve`` (2 workers, plain HTTP on 127.0.0.1) whose registry knows one partner: the
fixture ``served`` of the server and hostile-traffic tests. Every wait is bounded."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from lxml import etree
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from ewp_node.app import manifest_bytes
from ewp_node.config import HeiConfig, Settings
from ewp_node.context import KeyPair
from ewp_node.home import HomeSpec, create_home
from ewp_node.manifest import build_manifest
from ewp_node.registry.local import CATALOGUE_PATH, build_catalogue
from ewp_node.sandbox import free_port
from ewp_node.security.httpsig import sign_request
from ewp_node.security.keys import fingerprint, public_key_b64
from ewp_node.xml import ns

NODE_HEI = "node.served.example.eu"
PARTNER_HEI = "partner.served.example.eu"
STARTUP_TIMEOUT = 30.0
ERROR_RESPONSE = f"{{{ns.COMMON}}}error-response"


@dataclass
class ServedNode:
    """A running node and the partner whose client key the node's registry trusts."""

    settings: Settings
    port: int
    partner_key: RSAPrivateKey
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def signed_headers(self, method: str, target: str, body: bytes = b"",
                       headers: dict[str, str] | None = None) -> dict[str, str]:
        """Headers of a request signed by the partner (fresh X-Request-Id and Date), asking for a signed answer."""
        return sign_request(method=method, target=target, body=body, private_key=self.partner_key,
                            key_id=fingerprint(self.partner_key.public_key()), now=datetime.now(UTC),
                            headers={"Host": self.host, "Accept-Signature": "rsa-sha256", **(headers or {})})

    def get(self, target: str, timeout: float = 10.0) -> requests.Response:
        """A signed GET of ``target`` (path and query, sent as is)."""
        return requests.get(self.url + target, headers=self.signed_headers("GET", target), timeout=timeout)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]


def raw_exchange(port: int, data: bytes, timeout: float = 10.0) -> bytes:
    """Send raw bytes on a fresh connection; everything the server answers until it closes (or ``timeout``)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        try:
            while chunk := sock.recv(65536):
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks) and _complete(b"".join(chunks)):
                    break
        except TimeoutError:
            pass
    return b"".join(chunks)


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False


def parse_raw(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    """(status, headers by lower-case name, body) of a raw HTTP/1.1 answer."""
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def assert_error_response(status: int, content_type: str | None, body: bytes) -> etree._Element:
    """The answer is an EWP ``<error-response>`` (XML, never an HTML page)."""
    assert content_type is not None and "xml" in content_type, (status, content_type, body[:200])
    root = etree.fromstring(body)
    assert root.tag == ERROR_RESPONSE, (status, body[:300])
    return root


def _partner_manifest(home: Path, client: RSAPrivateKey, server: RSAPrivateKey) -> etree._Element:
    settings = Settings(home=home, base_url="https://partner.served.example.eu",
                        heis=(HeiConfig(id=PARTNER_HEI, names={"en": "Served Partner"}),))
    return build_manifest(settings, [], settings.heis[0], public_key_b64(client.public_key()),
                          public_key_b64(server.public_key()))


class _Catalogue:
    """The registry catalogue on 127.0.0.1, served by a werkzeug thread."""

    def __init__(self, port: int) -> None:
        self.body = b""
        self.url = f"http://127.0.0.1:{port}{CATALOGUE_PATH}"

        @Request.application  # type: ignore[arg-type]
        def app(request: Request) -> Response:
            if request.path != CATALOGUE_PATH:
                return Response(status=404)
            return Response(self.body, content_type="application/xml")

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log lines in the test output
        self._server: BaseWSGIServer = make_server("127.0.0.1", port, app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, name="catalogue", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def start_node(work: Path, *, workers: int = 2, extra: dict[str, object] | None = None,
               args: Sequence[str] = ()) -> Iterator[ServedNode]:
    """Generator behind the ``served`` fixture: yields a node once it answers, stops it afterwards."""
    port = free_port()
    catalogue = _Catalogue(free_port())
    client, server = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))
    spec = HomeSpec(hei_id=NODE_HEI, hei_name="Served Node", base_url=f"http://127.0.0.1:{port}",
                    registry_url=catalogue.url, extra={"allow_http": True, **(extra or {})})
    env = {**os.environ, "EWP_NODE_ALLOW_HTTP": "1", "PYTHONUNBUFFERED": "1"}
    settings = create_home(work / "home", spec)
    node_manifest = etree.fromstring(manifest_bytes(settings, KeyPair.load(settings.client_key_path),
                                                    KeyPair.load(settings.server_key_path)))
    catalogue.body = build_catalogue([node_manifest, _partner_manifest(work, client, server)])
    log_path = work / "serve.log"
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "ewp_node.cli", "serve", str(settings.home), "--bind", f"127.0.0.1:{port}",
             "--workers", str(workers), *args],
            stdout=log_file, stderr=log_file, env=env, start_new_session=True)
    node = ServedNode(settings=settings, port=port, partner_key=client, process=process, log_path=log_path)
    try:
        _wait_until_up(node, workers)
        yield node
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait(timeout=5)
        catalogue.close()


def _wait_until_up(node: ServedNode, workers: int) -> None:
    """Until every worker answers a signed Echo (each worker fetches the catalogue when it starts)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    answered = 0
    while time.monotonic() < deadline:
        if node.process.poll() is not None:
            raise RuntimeError(f"serve exited: {node.log_tail()}")
        try:
            answered = answered + 1 if node.get("/ewp/echo?echo=up", timeout=3).status_code == 200 else 0
        except requests.RequestException:
            answered = 0
        if answered >= 4 * workers:
            return
        time.sleep(0.1)
    raise RuntimeError(f"serve did not come up within {STARTUP_TIMEOUT:.0f} s: {node.log_tail()}")


class SlowClients:
    """``count`` connections that send a request line and one header, then one byte every ``interval`` s
    (re-opened when the server closes them), plus ``idle`` connections that send nothing; until closed."""

    HEAD = b"GET /ewp/echo?echo=slow HTTP/1.1\r\nHost: slow\r\n"

    def __init__(self, port: int, count: int, idle: int = 0, interval: float = 5.0, reopen: bool = False) -> None:
        self.port, self.interval, self.reopen = port, interval, reopen
        self.sockets = [self._open(self.HEAD) for _ in range(count)]
        self.idle = [self._open(b"") for _ in range(idle)]
        self.closed_by_server = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drip, name="slow-clients", daemon=True)
        self._thread.start()

    def _open(self, first: bytes) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        if first:
            sock.sendall(first)
        return sock

    def _drip(self) -> None:
        while not self._stop.wait(self.interval):
            for index, sock in enumerate(self.sockets):
                try:
                    sock.send(b"X")
                except OSError:
                    self.closed_by_server += 1
                    sock.close()
                    if self.reopen and not self._stop.is_set():
                        self.sockets[index] = self._open(self.HEAD)

    def open_count(self) -> int:
        """Slow connections the server has neither closed nor answered yet."""
        still_open = 0
        for sock in self.sockets:
            sock.setblocking(False)
            try:
                sock.recv(1, socket.MSG_PEEK)  # EOF or an answer: the server is done with it
            except BlockingIOError:
                still_open += 1
            except OSError:
                pass
            finally:
                sock.setblocking(True)
        return still_open

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        for sock in self.sockets + self.idle:
            sock.close()

    def __enter__(self) -> SlowClients:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedNode]:
    yield from start_node(tmp_path_factory.mktemp("served"))

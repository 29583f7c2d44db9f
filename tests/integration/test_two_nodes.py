"""Two real nodes (ewp-node serve over HTTPS on loopback) and a local registry: signed calls both ways, unknown keys,
the audit log, a registry outage and the early refresh for a partner that appears after a node started.

Everything runs on 127.0.0.1 and every wait is bounded. The registry outage test stops the sandbox's registry,
so it runs last.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from flask import Flask, Response
from lxml import etree
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, make_server

from ewp_node.app import create_app
from ewp_node.client import EwpClient
from ewp_node.config import HeiConfig, Settings, load_settings
from ewp_node.context import NodeContext, build_context
from ewp_node.manifest import build_manifest
from ewp_node.registry.fetch import RegistryClient
from ewp_node.registry.local import CATALOGUE_PATH, LocalRegistry
from ewp_node.responses import serialize
from ewp_node.sandbox import Sandbox, SandboxNode
from ewp_node.security.httpsig import sign_request
from ewp_node.security.keys import fingerprint, public_key_b64
from ewp_node.store.audit import AuditEntry, Direction
from ewp_node.xml import ns

pytestmark = pytest.mark.slow  # about 13 s: two serve nodes start and stop

T = TypeVar("T")
#: Upper bound of every wait in this file (seconds).
WAIT = 15.0
CALL_TIMEOUT = 10.0


def wait_for(produce: Callable[[], T | None], what: str, timeout: float = WAIT) -> T:
    """Poll ``produce`` until it returns a truthy value; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = produce()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with Sandbox(tmp_path_factory.mktemp("sandbox"), nodes=2) as running:
        yield running


@pytest.fixture
def node_context(sandbox: Sandbox) -> Iterator[Callable[..., NodeContext]]:
    """``node_context(node, registry=None)``: the services of a sandbox node home, in this process."""
    built: list[NodeContext] = []

    def build(node: SandboxNode, registry: RegistryClient | None = None) -> NodeContext:
        ctx = build_context(load_settings(node.home), registry=registry)
        built.append(ctx)
        return ctx

    yield build
    for ctx in built:
        ctx.audit.close()


def _echo(ctx: NodeContext, partner: SandboxNode, values: list[str], method: str = "POST"):  # type: ignore[no-untyped-def]
    """Call the partner's Echo through the registry; retries (bounded) while a freshly started partner
    does not know our key yet (its catalogue refresh is rate-limited)."""
    client = EwpClient(ctx, timeout=CALL_TIMEOUT)

    def attempt():  # type: ignore[no-untyped-def]
        response = client.call(partner.hei_id, "echo", params=[("echo", v) for v in values], method=method)
        return response if response.status != 403 else None

    return wait_for(attempt, f"{partner.hei_id} to know our key")


def _echo_values(root: etree._Element) -> tuple[list[str], list[str]]:
    return ([e.text or "" for e in root.iterfind(f"{{{ns.ECHO}}}hei-id")],
            [e.text or "" for e in root.iterfind(f"{{{ns.ECHO}}}echo")])


def _send_signed(node_base_url: str, key: RSAPrivateKey, ca: Path, echo: str = "x") -> requests.Response:
    """A signed GET to a node's Echo with an arbitrary key."""
    target = f"/ewp/echo?echo={echo}"
    host = urlsplit(node_base_url).netloc
    headers = sign_request(method="GET", target=target, headers={"Host": host, "Accept-Signature": "rsa-sha256"},
                           body=b"", private_key=key, key_id=fingerprint(key.public_key()), now=datetime.now(UTC))
    return requests.get(node_base_url + target, headers=headers, verify=str(ca), timeout=CALL_TIMEOUT)


# -- signed calls ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_signed_echo_both_ways(sandbox: Sandbox, node_context, method: str) -> None:  # type: ignore[no-untyped-def]
    a, b = sandbox.nodes
    for caller, callee in ((a, b), (b, a)):
        response = _echo(node_context(caller), callee, ["x", "y", "x"], method)
        assert response.status == 200, response.body
        assert response.signature_verified
        assert response.url.startswith(callee.base_url)
        assert _echo_values(response.root) == ([caller.hei_id], ["x", "y", "x"])


def test_a_key_unknown_to_the_registry_gets_403(sandbox: Sandbox) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    response = _send_signed(sandbox.nodes[1].base_url, stranger, sandbox.ca.cert_path)
    assert response.status_code == 403
    assert etree.fromstring(response.content).tag == f"{{{ns.COMMON}}}error-response"
    assert response.headers["X-EWP-Verification-Message"].startswith("key:")


def _audit_rows(ctx: NodeContext, direction: Direction, request_ids: set[str]) -> list[AuditEntry]:
    with ctx.sessions() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.direction == direction,
                                                              AuditEntry.request_id.in_(request_ids))))


def test_the_audit_log_has_both_sides_of_each_exchange(sandbox: Sandbox, node_context) -> None:  # type: ignore[no-untyped-def]
    a, b = sandbox.nodes
    ctx_a, ctx_b = node_context(a), node_context(b)
    started = datetime.now(UTC) - timedelta(seconds=1)
    _echo(ctx_a, b, ["audited"])
    ctx_a.audit.flush()
    with ctx_a.sessions() as session:
        out = list(session.scalars(select(AuditEntry).where(AuditEntry.direction == Direction.OUT,
                                                             AuditEntry.partner_hei == b.hei_id)))
    recent = [row for row in out if row.at >= started]  # the store returns aware UTC datetimes
    assert recent and all(row.api == "echo" and row.request_id and row.key_id == ctx_a.client_key.key_id
                          for row in recent)
    ok_ids = {row.request_id for row in recent if row.status == 200}
    assert ok_ids
    # b's server workers flush their audit sink every second: wait for the IN side, bounded.
    rows = wait_for(lambda: _audit_rows(ctx_b, Direction.IN, ok_ids), "the IN rows of the callee")
    assert {row.status for row in rows} == {200}
    assert all(row.api == "echo" and row.partner_hei == a.hei_id for row in rows)
    refused = _send_signed(b.base_url, rsa.generate_private_key(public_exponent=65537, key_size=2048),
                           sandbox.ca.cert_path)
    request_id = refused.request.headers["X-Request-Id"]
    [row] = wait_for(lambda: _audit_rows(ctx_b, Direction.IN, {request_id}), "the IN row of a refused call")
    assert row.status == 403 and row.message and row.message.startswith("key:")


# -- early refresh for a key published after the node started ---------------------------------------------------


class _TlsServer:
    """A WSGI app on 127.0.0.1 over TLS with a sandbox certificate, in a thread."""

    def __init__(self, app: Flask | Callable[..., object], sandbox: Sandbox, name: str) -> None:
        cert, key = sandbox.ca.issue_server_certificate(sandbox.directory / f"{name}-tls")
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True,  # type: ignore[arg-type]
                                                  ssl_context=(str(cert), str(key)))
        self.url = f"https://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name=name, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


class _Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def late_partner_network(sandbox: Sandbox, tmp_path: Path) -> Iterator[dict[str, object]]:
    """A registry listing node A and a late partner whose manifest is 404 until ``publish()`` is called."""
    late_key, late_server_key = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))
    late = Settings(home=tmp_path, base_url="https://late.example.eu",
                    heis=(HeiConfig(id="late-partner.example.eu", names={"en": "Late Partner"}),))
    manifest = serialize(build_manifest(late, [], late.heis[0], public_key_b64(late_key.public_key()),
                                        public_key_b64(late_server_key.public_key())))
    published: list[bytes] = []
    manifests = Flask("late-partner")

    @manifests.get("/manifest.xml")
    def serve_manifest() -> Response:
        return Response(published[0], mimetype="application/xml") if published else Response(status=404)

    manifest_server = _TlsServer(manifests, sandbox, "late-manifest")
    registry = LocalRegistry([f"{sandbox.nodes[0].base_url}/manifest.xml", f"{manifest_server.url}/manifest.xml"],
                             verify=str(sandbox.ca.cert_path), rebuild_interval=0)
    fetches: list[float] = []
    registry_app = registry.wsgi_app()

    def counting(environ, start_response):  # type: ignore[no-untyped-def]
        if environ.get("PATH_INFO") == CATALOGUE_PATH:
            fetches.append(time.monotonic())
        return registry_app(environ, start_response)

    registry_server = _TlsServer(counting, sandbox, "late-registry")
    yield {"key": late_key, "publish": lambda: published.append(manifest), "fetches": fetches,
           "catalogue_url": registry_server.url + CATALOGUE_PATH}
    registry_server.close()
    manifest_server.close()


def test_a_partner_published_after_start_is_accepted_through_the_rate_limited_early_refresh(
        sandbox: Sandbox, late_partner_network, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    net = late_partner_network
    fetches: list[float] = net["fetches"]  # type: ignore[assignment]
    clock = _Clock()
    registry = RegistryClient(net["catalogue_url"], tmp_path / "cache", verify=str(sandbox.ca.cert_path),  # type: ignore[arg-type]
                              min_refresh_interval=timedelta(seconds=60), max_age=timedelta(days=1), clock=clock)
    ctx = build_context(load_settings(sandbox.nodes[0].home), registry=registry)
    try:
        app = create_app(ctx)  # node A, started before the partner exists (no background refresh here)
        client = app.test_client()

        def call(key: RSAPrivateKey) -> int:
            target = "/ewp/echo?echo=hello"
            headers = sign_request(method="GET", target=target, headers={"Host": ctx.settings.host}, body=b"",
                                   private_key=key, key_id=fingerprint(key.public_key()), now=datetime.now(UTC))
            return client.get(target, headers=headers, base_url=ctx.settings.base_url).status_code

        assert registry.index.lookup("late-partner.example.eu", "discovery") is None
        assert len(fetches) == 1
        net["publish"]()  # type: ignore[operator]
        assert call(net["key"]) == 403, "within a minute of the last fetch the early refresh is rate-limited"  # type: ignore[arg-type]
        assert len(fetches) == 1
        clock.advance(timedelta(seconds=61))
        # the unknown key is answered 403 at once and triggers an early refresh in the background that finds it
        wait_for(lambda: call(net["key"]) == 200, "the early refresh to publish the late partner's key")  # type: ignore[arg-type]
        assert len(fetches) == 2
        strangers = [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(3)]
        assert [call(key) for key in strangers] == [403, 403, 403]
        time.sleep(1.5)
        assert len(fetches) == 2, "a flood of unknown keys must not hammer the registry"
        clock.advance(timedelta(seconds=61))
        time.sleep(1.1)  # one early-refresh attempt per second and process
        assert call(strangers[0]) == 403
        wait_for(lambda: len(fetches) == 3, "the next early refresh once the interval passed")
    finally:
        ctx.audit.close()


# -- registry outage (stops the sandbox registry: keep last) -----------------------------------------------------


def test_a_registry_outage_leaves_the_disk_copy_and_calls_working(sandbox: Sandbox, node_context) -> None:  # type: ignore[no-untyped-def]
    a, b = sandbox.nodes
    settings = load_settings(a.home)

    def fresh_client() -> RegistryClient:
        return RegistryClient(settings.registry_url, settings.cache_dir, verify=str(sandbox.ca.cert_path),
                              timeout=CALL_TIMEOUT)

    wait_for(lambda: fresh_client().index.lookup(b.hei_id, "echo"), "node A's disk copy to list node B")
    assert sandbox._server is not None
    sandbox._server.shutdown()
    sandbox._server.server_close()

    registry = fresh_client()
    assert registry.index.lookup(b.hei_id, "echo") is not None  # from the disk copy, no network
    assert registry.refresh(force=True) is False
    assert registry.last_error and "Connection" in registry.last_error
    assert registry.index.lookup(b.hei_id, "echo") is not None
    for caller, callee, reg in ((a, b, registry), (b, a, None)):
        response = _echo(node_context(caller, registry=reg), callee, ["still", "working"])
        assert response.status == 200 and response.signature_verified
        assert _echo_values(response.root) == ([caller.hei_id], ["still", "working"])

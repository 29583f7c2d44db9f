"""Shared fixtures: the official specs folder, the official validator, a clean environment, a fixed clock."""

from __future__ import annotations

import os
import shutil
import signal
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree
from sqlalchemy import Engine, text

from ewp_node.store.db import make_engine

# A suite started from a background shell job (``./dev test &``) inherits an ignored SIGINT, and so would every
# node and command it starts: the tests that stop them with Ctrl-C (SIGINT) need it to reach them.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

REPO = Path(__file__).resolve().parent.parent
#: The official EWP XSDs, examples and vectors live beside the repository, never inside it.
SPECS_DIR = Path(os.environ.get("EWP_SPECS_DIR", REPO.parent / "shared" / "ewp-specs")).resolve()


def _require_specs() -> Path:
    if not (SPECS_DIR / "catalog.xml").is_file():
        pytest.skip(f"official EWP specs not found at {SPECS_DIR} (set EWP_SPECS_DIR): conformance check skipped")
    return SPECS_DIR


@pytest.fixture(scope="session")
def specs_dir() -> Path:
    """The official specs folder (skips the test, naming the path, where it is absent)."""
    return _require_specs()


@pytest.fixture(scope="session")
def vectors_dir(specs_dir: Path) -> Path:
    return specs_dir / "vectors"


@pytest.fixture(scope="session")
def official_schemas(specs_dir: Path):  # type: ignore[no-untyped-def]
    from ewp_node.xml.schemas import OfficialSchemas

    return OfficialSchemas(specs_dir)


@pytest.fixture(scope="session")
def validate_official(official_schemas) -> Callable[[etree._Element | bytes], None]:  # type: ignore[no-untyped-def]
    """``validate_official(doc)`` fails the test with the schema errors unless ``doc`` is valid."""
    from ewp_node.xml.schemas import SchemaViolation

    def check(document: etree._Element | bytes) -> None:
        try:
            official_schemas.validate(document)
        except SchemaViolation as exc:
            pytest.fail(str(exc))

    return check


@pytest.fixture(autouse=True)
def _reset_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests never see the operator's ``EWP_NODE_*`` settings."""
    for name in list(os.environ):
        if name.startswith("EWP_NODE_"):
            monkeypatch.delenv(name)
    yield


POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def postgres_engine() -> Iterator[object]:
    """An engine on a fresh schema of the shared PostgreSQL ``test`` database (``search_path``), dropped
    afterwards, so concurrent runs cannot collide; skips with a message when PostgreSQL is not reachable."""

    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    admin = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    try:
        with admin.connect():
            pass
    except OperationalError as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL} ({type(exc.orig).__name__}); "
                    "start it or deselect with -m 'not postgres'")
    schema = f"ewp_test_{uuid.uuid4().hex[:12]}"
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def now() -> datetime:
    """A fixed, timezone-aware clock value (the vectors' verification time)."""
    return datetime(2025, 1, 7, 12, 0, 30, tzinfo=UTC)


# -- a running node behind the real security chain -----------------------------------------------------------

PARTNER_HEI = "partner.example.eu"
_KEY_POOL: list = []


def _fresh_key():  # type: ignore[no-untyped-def]
    """A 2048-bit RSA key; keys are reused across tests (key generation is the slow part)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    if not _KEY_POOL:
        _KEY_POOL.extend(rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(4))
    return _KEY_POOL.pop(0)


class StaticRegistry:
    """A registry whose catalogue is built once from manifests (no network, no refresh)."""

    def __init__(self) -> None:
        self.index = None
        self.unknown_key_refreshes = 0

    def set_manifests(self, manifests: list) -> None:  # type: ignore[type-arg]
        from ewp_node.registry.catalogue import CatalogueIndex
        from ewp_node.registry.local import build_catalogue

        self.catalogue = build_catalogue(manifests)
        self.index = CatalogueIndex.from_bytes(self.catalogue)

    last_refresh = None
    last_error = None

    def refresh(self, force: bool = False) -> bool:
        return self.index is not None

    def refresh_for_unknown_key(self, key_id: str) -> None:
        self.unknown_key_refreshes += 1

    def stop(self, timeout: float = 5.0) -> None:
        pass


class TestNode:
    """A node app with a temporary SQLite store, a static registry and a signing partner."""

    __test__ = False

    def __init__(self, ctx, partner_key, partner_server_key) -> None:  # type: ignore[no-untyped-def]
        from ewp_node.app import create_app
        from ewp_node.security.keys import fingerprint

        self.ctx = ctx
        self.app = create_app(ctx)
        self.app.testing = False
        self.client = self.app.test_client()
        self.partner_key = partner_key
        self.partner_key_id = fingerprint(partner_key.public_key())
        self.partner_server_key = partner_server_key

    def call(self, method: str, path: str, params=(), *, accept_signature: bool = True,  # type: ignore[no-untyped-def]
             key=None, headers=None, body: bytes | None = None, sign: bool = True):
        """Send a request signed like a partner's client (the real chain verifies it)."""
        from urllib.parse import urlencode

        from ewp_node.security.httpsig import sign_request
        from ewp_node.security.keys import fingerprint

        key = key or self.partner_key
        query = ""
        if method in ("GET", "HEAD"):
            query = urlencode(list(params))
            payload = b""
        else:
            payload = body if body is not None else urlencode(list(params)).encode()
        extra = dict(headers or {})
        if method not in ("GET", "HEAD") and body is None and "Content-Type" not in extra:
            extra["Content-Type"] = "application/x-www-form-urlencoded"
        if accept_signature:
            extra.setdefault("Accept-Signature", "rsa-sha256")
        target = path + (f"?{query}" if query else "")
        send = {"Host": self.ctx.settings.host, **extra}
        if sign:
            send = sign_request(method=method, target=target, headers=send, body=payload, private_key=key,
                                key_id=fingerprint(key.public_key()), now=datetime.now(UTC))
        return self.client.open(target, method=method, data=payload, headers=send,
                                base_url=self.ctx.settings.base_url)


def _node_context(home: Path, base_url: str, heis, registry: StaticRegistry, *, limits=None,  # type: ignore[no-untyped-def]
                  validate: bool = True, rsa_aes128gcm: bool = False):
    """A NodeContext on a fresh migrated SQLite file, with pooled keys and the given registry."""
    from ewp_node.audit import AuditSink
    from ewp_node.config import HeiConfig, Settings
    from ewp_node.context import KeyPair, NodeContext, journal_dir
    from ewp_node.security.keys import fingerprint
    from ewp_node.store.db import make_engine, session_factory, upgrade_database
    from ewp_node.store.replay import ReplayGuard

    home.mkdir()
    settings = Settings(
        home=home, base_url=base_url,
        heis=tuple(HeiConfig(id=h, names={"en": f"University {h}"}) for h in heis),
        database_url=f"sqlite:///{home / 'db.sqlite3'}", limits=dict(limits or {}),
        specs_dir=SPECS_DIR if validate and (SPECS_DIR / "catalog.xml").is_file() else None,
        rsa_aes128gcm=rsa_aes128gcm,
    )
    engine = make_engine(settings.database_url)
    upgrade_database(engine)
    sessions = session_factory(engine)
    client_key, server_key = _fresh_key(), _fresh_key()
    ctx = NodeContext(
        settings=settings, sessions=sessions, registry=registry,
        client_key=KeyPair(client_key, fingerprint(client_key.public_key())),
        server_key=KeyPair(server_key, fingerprint(server_key.public_key())),
        audit=AuditSink(engine, journal_dir(settings)), replay=ReplayGuard(engine),
    )
    if settings.specs_dir is not None:
        from ewp_node.xml.schemas import OfficialSchemas

        ctx.schemas = OfficialSchemas(settings.specs_dir)
    return ctx


def _manifests_of(ctx):  # type: ignore[no-untyped-def]
    from lxml import etree

    from ewp_node.app import manifest_bytes

    return [etree.fromstring(manifest_bytes(ctx.settings, ctx.client_key, ctx.server_key, h.id))
            for h in ctx.settings.heis]


def _reuse_keys(*keys) -> None:  # type: ignore[no-untyped-def]
    """Give keys back to the pool, each once: a test that made one node sign with another's key must not hand
    that key out twice (two "different" hosts of a later test would then share it)."""
    for key in keys:
        if all(key is not pooled for pooled in _KEY_POOL):
            _KEY_POOL.append(key)


def _release(ctx) -> None:  # type: ignore[no-untyped-def]
    ctx.audit.close()
    _reuse_keys(ctx.client_key.private, ctx.server_key.private)


@pytest.fixture
def make_node(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Factory: ``make_node(heis=("uni-a.example.eu",), limits=None, partner_heis=(PARTNER_HEI,))``."""
    from ewp_node.config import HeiConfig, Settings
    from ewp_node.manifest import build_manifest
    from ewp_node.security.keys import public_key_b64

    created: list[TestNode] = []

    def factory(heis=("uni-a.example.eu",), limits=None, partner_heis=(PARTNER_HEI,),  # type: ignore[no-untyped-def]
                validate: bool = True, rsa_aes128gcm: bool = False) -> TestNode:
        home = tmp_path / f"node{len(created)}"
        registry = StaticRegistry()
        ctx = _node_context(home, "https://node.test.example.eu", heis, registry, limits=limits,
                            validate=validate, rsa_aes128gcm=rsa_aes128gcm)
        partner_client, partner_server = _fresh_key(), _fresh_key()
        manifests = _manifests_of(ctx)
        partner_settings = Settings(home=home, base_url="https://partner.test.example.eu",
                                    heis=tuple(HeiConfig(id=h, names={"en": h}) for h in partner_heis))
        for hei in partner_settings.heis:
            manifests.append(build_manifest(partner_settings, [], hei, public_key_b64(partner_client.public_key()),
                                            public_key_b64(partner_server.public_key())))
        registry.set_manifests(manifests)
        node = TestNode(ctx, partner_client, partner_server)
        created.append(node)
        return node

    yield factory
    for node in created:
        _release(node.ctx)
        _reuse_keys(node.partner_key, node.partner_server_key)


class FlaskAdapter(requests.adapters.BaseAdapter):
    """A ``requests`` transport that hands each request to a Flask app in-process, by host[:port]."""

    def __init__(self, apps) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.apps = apps

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):  # type: ignore[no-untyped-def]
        import io
        from urllib.parse import urlsplit

        import urllib3

        parts = urlsplit(request.url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        body = request.body or b""
        answer = self.apps[parts.netloc].test_client().open(
            target, method=request.method, data=body.encode() if isinstance(body, str) else body,
            headers=dict(request.headers), base_url=f"{parts.scheme}://{parts.netloc}")
        raw = urllib3.HTTPResponse(body=io.BytesIO(answer.data), headers=list(answer.headers.items()),
                                   status=answer.status_code, preload_content=False, decode_content=False)
        return requests.adapters.HTTPAdapter().build_response(request, raw)

    def close(self) -> None:
        pass


class NodePair:
    """Nodes ``a`` and ``b`` in one registry, each with its app; :meth:`client` calls the other in-process."""

    def __init__(self, a, b) -> None:  # type: ignore[no-untyped-def]
        from ewp_node.app import create_app

        self.a, self.b = a, b
        self.apps = {ctx.settings.host: create_app(ctx) for ctx in (a, b)}

    def client(self, ctx, audit=None):  # type: ignore[no-untyped-def]
        """A real ``EwpClient`` of node ``ctx`` whose HTTP goes to the apps of this pair (``audit``: its audit
        hook, the node's log by default)."""
        from ewp_node.client import EwpClient

        session = requests.Session()
        session.mount("https://", FlaskAdapter(self.apps))
        return EwpClient(ctx, session=session, audit=audit)


@pytest.fixture
def make_pair(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Factory: ``make_pair(a_heis=..., b_heis=..., edit_manifests=None, **b_options) -> NodePair``;
    ``edit_manifests(manifests)`` may change the manifests before the registry indexes them."""
    pairs: list[NodePair] = []

    def factory(a_heis=("uni-a.example.eu",), b_heis=("uni-b.example.eu",), edit_manifests=None,  # type: ignore[no-untyped-def]
                **b_options) -> NodePair:
        registry = StaticRegistry()
        a = _node_context(tmp_path / f"pair{len(pairs)}-a", "https://a.test.example.eu", a_heis, registry)
        b = _node_context(tmp_path / f"pair{len(pairs)}-b", "https://b.test.example.eu", b_heis, registry,
                          **b_options)
        manifests = _manifests_of(a) + _manifests_of(b)
        if edit_manifests is not None:
            edit_manifests(manifests)
        registry.set_manifests(manifests)
        pairs.append(NodePair(a, b))
        return pairs[-1]

    yield factory
    for pair in pairs:
        _release(pair.a)
        _release(pair.b)


# -- an empty store on SQLite and on PostgreSQL -----------------------------------------------------------------------

@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    """An empty database of each kind: a SQLite file, or a fresh PostgreSQL schema (``postgres_engine``)."""
    if request.param == "postgresql":
        yield request.getfixturevalue("postgres_engine")
        return
    engine = make_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite store in the test's folder."""
    from ewp_node.store.db import upgrade_database

    engine = make_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    upgrade_database(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def fast_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2 parameters for console tests (production keeps the library's defaults)."""
    from argon2 import PasswordHasher

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    monkeypatch.setattr("ewp_node.office.accounts._hasher", cheap)


CHROMIUM = os.environ.get("EWP_CHROMIUM", "/usr/bin/chromium")
#: Flags for a root, offline, throw-away browser (no sandbox as root; no calls to Google's hosts).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One browser per test module: Playwright's sync API keeps an asyncio loop running while it lives, so it
    must be gone before later tests call ``asyncio.run``."""
    if not Path(CHROMIUM).is_file() and shutil.which("chromium") is None:
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM} (./dev test installs it as root)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser tests need the playwright package (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield instance
        instance.close()

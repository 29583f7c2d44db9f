"""Fixtures of the outbox tests: a migrated database of each kind, named by a URL that worker processes can
open too (PostgreSQL: a schema of its own through ``search_path`` in the URL, dropped afterwards)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from ewp_node.cnr.loopback import LoopbackPartner
from ewp_node.config import load_settings
from ewp_node.context import NodeContext, build_context
from ewp_node.home import HomeSpec, create_home
from ewp_node.store.db import make_engine, session_factory, upgrade_database

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_url() -> Iterator[str]:
    admin = make_engine(PG_URL)
    schema = f"cnr_{uuid.uuid4().hex[:10]}"
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001 - no server: skip with the reason
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc}")
    try:
        yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database of each kind, migrated to head."""
    urls = iter([f"sqlite:///{tmp_path / 'outbox.sqlite3'}"]) if request.param == "sqlite" else _postgres_url()
    url = next(urls)
    engine = make_engine(url)
    upgrade_database(engine)
    engine.dispose()
    yield url
    next(urls, None)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


OURS = "uni-a.example.eu"


@pytest.fixture
def partner() -> Iterator[LoopbackPartner]:
    """A loopback partner HEI receiving every CNR API (at most 2 ids per request), with its own catalogue."""
    with LoopbackPartner(max_ids=2) as loopback:
        yield loopback


@pytest.fixture
def node_home(tmp_path: Path, database_url: str, partner: LoopbackPartner, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A node home of ``OURS`` on the test database whose registry is the partner's catalogue."""
    monkeypatch.setenv("EWP_NODE_ALLOW_HTTP", "1")  # loopback only: the partner and its catalogue are http
    home = tmp_path / "home"
    create_home(home, HomeSpec(hei_id=OURS, hei_name="University A", base_url="http://127.0.0.1:9",
                               registry_url=partner.catalogue_url, database_url=database_url))
    return home


@pytest.fixture
def node(node_home: Path) -> Iterator[NodeContext]:
    ctx = build_context(load_settings(node_home))
    yield ctx
    ctx.audit.close()

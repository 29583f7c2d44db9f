"""Storage fixtures: an empty database of each kind (SQLite file; PostgreSQL schema of its own per test, dropped
afterwards, so concurrent runs on the shared ``test`` database cannot collide)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from ewp_node.store.db import alembic_config, make_engine

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'migrations.sqlite3'}")
    yield engine
    engine.dispose()


def _postgres_engine() -> Iterator[Engine]:
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


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of each kind; left at base (PostgreSQL: its schema dropped)."""
    engines = _sqlite_engine(tmp_path) if request.param == "sqlite" else _postgres_engine()
    engine = next(engines)
    yield engine
    command.downgrade(alembic_config(engine), "base")
    next(engines, None)



"""Engine and session factory, and schema upgrades through Alembic."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str, *, synchronous_commit: bool = True) -> Engine:
    """An engine for ``url``: SQLite files get WAL and foreign keys; PostgreSQL uses psycopg 3.

    :param synchronous_commit: False (PostgreSQL): a commit returns before its WAL reaches the disk (about
        0.2 ms instead of one fsync, several ms): a crash of the database server (not a restart) forgets the
        last fraction of a second of commits. Only for data that may be lost that way, never the audit log.
        SQLite's ``synchronous=NORMAL`` in WAL mode already commits without an fsync.
    """
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    options = {} if synchronous_commit else {"connect_args": {"options": "-c synchronous_commit=off"}}
    return create_engine(url, pool_pre_ping=True, **options)


def dialect_insert(bind: Engine | Connection | Session, table: Any) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into ``table`` (model or Table) offering ``ON CONFLICT`` in the bind's dialect (PostgreSQL and
    SQLite spell it the same way)."""
    name = bind.get_bind().dialect.name if isinstance(bind, Session) else bind.dialect.name
    return postgresql.insert(table) if name == "postgresql" else sqlite.insert(table)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade_database(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with the project's migrations."""
    command.upgrade(alembic_config(engine), revision)

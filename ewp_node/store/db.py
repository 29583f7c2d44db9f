"""Engine and session factory, and schema upgrades through Alembic."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session, sessionmaker

from ewp_node.store.base import as_utc

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


#: Page size of new SQLite files. An audited exchange's capture (~2 KiB for a signed Echo) took a 4 KiB page of
#: its own, written twice (WAL, then checkpoint): 16 KiB pages hold seven and halve the audit collector's
#: database CPU per exchange (27-32 -> 13-14 us). Files made before keep their page size.
SQLITE_PAGE_SIZE = 16384


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")  # a new file only (before WAL fixes it)
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


@cache
def driver_insert(dialect_name: str, table: str, columns: tuple[str, ...], unique: str) -> str:
    """``INSERT INTO table (columns) VALUES (...) ON CONFLICT (unique) DO NOTHING`` in the driver's own
    positional parameter style (``?`` for sqlite3, ``%s`` for psycopg), for :meth:`Connection.exec_driver_sql`:
    rows go to the driver's ``executemany`` as tuples, without SQLAlchemy's per-row bind processing (for the
    audit collector, the busiest writer, that cost more CPU than the database's own work)."""
    mark = "?" if dialect_name == "sqlite" else "%s"
    return (f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(mark for _ in columns)}) "
            f"ON CONFLICT ({unique}) DO NOTHING")


def insert_rows(connection: Connection, table: str, columns: tuple[str, ...], unique: str,
                rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert ``rows`` (values already as the driver takes them: :func:`stored_datetime`) in one
    ``executemany``, skipping rows whose ``unique`` value is stored already (the caller commits)."""
    if rows:
        connection.exec_driver_sql(driver_insert(connection.dialect.name, table, columns, unique), rows)


def stored_datetime(dialect: Dialect) -> Callable[[datetime], Any]:
    """How a ``UtcDateTime`` value reaches the driver of ``dialect`` (as SQLAlchemy binds it: UTC, and on
    SQLite SQLAlchemy's own text format, so rows read back as any other).

    :raises ValueError: from the returned function, for a naive datetime.
    """
    text = sqlite.DATETIME().bind_processor(dialect) if dialect.name == "sqlite" else None

    def bind(value: datetime) -> Any:
        value = as_utc(value)
        return text(value) if text is not None else value

    return bind


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

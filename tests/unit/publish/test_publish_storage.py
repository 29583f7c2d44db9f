"""The published-data store on SQLite and PostgreSQL: migration up and down, upsert idempotence, reads."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, event, text

from ewp_node.publish import repository as repo
from ewp_node.publish.export import export_document
from ewp_node.publish.importer import import_document
from ewp_node.store.db import alembic_config, make_engine, session_factory, upgrade_database

HEI = "uni-a.example.eu"
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _postgres_engine() -> Iterator[Engine]:
    """An engine on a private schema of the test database, dropped afterwards (tests can run in parallel)."""
    admin = make_engine(PG_URL)
    schema = f"pub_{uuid.uuid4().hex[:10]}"
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001 - no server: skip with the reason
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc}")
    engine = make_engine(PG_URL)

    @event.listens_for(engine, "connect")
    def _search_path(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f'SET search_path TO "{schema}"')
        dbapi_connection.commit()

    try:
        yield engine
    finally:
        from alembic import command

        command.downgrade(alembic_config(engine), "base")
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request, tmp_path) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}")
        yield engine
        engine.dispose()
    else:
        yield from _postgres_engine()


def test_store_round_trip(engine, small_document) -> None:  # type: ignore[no-untyped-def]
    from alembic import command

    upgrade_database(engine)
    command.check(alembic_config(engine))  # models and migrations agree
    sessions = session_factory(engine)
    t0 = datetime(2025, 3, 1, tzinfo=UTC)
    assert import_document(sessions, small_document, {HEI}, source="s.json", now=t0).changed
    assert not import_document(sessions, small_document, {HEI}, source="s.json", now=t0 + timedelta(days=1)).changed
    with sessions() as session:
        assert repo.los_ids(session, HEI) == ["CR/alg1", "CR/ana1"]
        assert repo.los_ids(session, HEI, t0 + timedelta(hours=1)) == []
        window = repo.LoiWindow(after=datetime(2025, 1, 1).date())
        [course] = [s.record() for s in repo.courses_by(session, HEI, "los_code", ["MATH101"], window)]
        assert [i["loi_id"] for i in course["instances"]] == ["CRI/alg1-2025"]
        assert [o["ounit_id"] for o in repo.ounits_by(session, HEI, "ounit_code", ["SCI", "NOPE"])] == ["sci"]
        assert repo.ounit_ids(session, HEI) == ["root", "sci"]
        exported = export_document(session, HEI)
    assert not import_document(sessions, exported, {HEI}, source="export", now=t0 + timedelta(days=2)).changed
    small_document["courses"][0]["titles"] = ["Linear algebra"]  # a course with LOIs, kept by id
    assert import_document(sessions, small_document, {HEI}, source="s.json", now=t0 + timedelta(days=3)).changed
    with sessions() as session:
        [course] = [s.record() for s in repo.courses_by(session, HEI, "los_id", ["CR/alg1"])]
    assert course["titles"] == [{"text": "Linear algebra"}] and len(course["instances"]) == 2

"""The published-data store on SQLite and PostgreSQL: migration up and down, upsert idempotence, reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ewp_node.publish import repository as repo
from ewp_node.publish.export import export_document
from ewp_node.publish.importer import import_document
from ewp_node.store.db import alembic_config, session_factory, upgrade_database

HEI = "uni-a.example.eu"


@pytest.fixture
def engine(store_engine):  # type: ignore[no-untyped-def]
    return store_engine


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

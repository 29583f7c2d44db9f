"""The transcript tables on SQLite and PostgreSQL: migration 0008 agrees with the models; issuing replaces a
mobility's transcript; get/index/stats queries see only what they should; received transcripts round-trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command

from ewp_node.store.db import alembic_config, session_factory, upgrade_database
from ewp_node.tors import repository as repo
from ewp_node.tors.records import ConvertedResult, IssuedTranscript, ReceiptState, Recognition

R, S, OTHER = "uni-b.example.eu", "uni-a.example.eu", "uni-c.example.eu"
T0 = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def sessions(store_engine):  # type: ignore[no-untyped-def]
    upgrade_database(store_engine)
    command.check(alembic_config(store_engine))  # models and migration 0008 agree
    return session_factory(store_engine)


def _issued(omobility_id: str, sending: str = S, year: str = "2026/2027", at: datetime = T0) -> IssuedTranscript:
    return IssuedTranscript(R, sending, omobility_id, year, f"<elmo>{omobility_id}</elmo>".encode(),
                            b"<gradeConversionTable/>", at, at)


def test_issued_transcripts(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as session:
        for transcript in (_issued("m-1"), _issued("m-2", at=T0 + timedelta(days=2)), _issued("m-3", OTHER),
                           _issued("m-old", year="2019/2020")):
            repo.save_issued(session, transcript)
    with sessions.begin() as session:  # a correction replaces the transcript, keeps its first issue time
        repo.save_issued(session, IssuedTranscript(R, S, "m-1", "2026/2027", b"<elmo>fixed</elmo>", b"",
                                                   T0 + timedelta(days=5), T0 + timedelta(days=5)))
    with sessions() as session:
        [fixed, second] = repo.issued_by_ids(session, {R}, {S}, ["m-1", "m-3", "nope", "m-2"])
        assert (fixed.elmo, fixed.conversion_table, fixed.issued_at) == (b"<elmo>fixed</elmo>", b"", T0)
        assert second.omobility_id == "m-2" and second.modified_at == T0 + timedelta(days=2)
        assert repo.issued_by_ids(session, {"unknown.example.eu"}, {S}, ["m-1"]) == []
        assert repo.issued_index(session, {R}, {S}) == ["m-1", "m-2", "m-old"]
        assert repo.issued_index(session, {R}, {S}, T0 + timedelta(days=1)) == ["m-1", "m-2"]
        assert repo.issued_index(session, {R}, {OTHER}) == ["m-3"]
        assert repo.issued_stats(session, {R}) == [("2026/2027", 3)]  # 2019/2020 is before the stats start


def test_received_transcripts(sessions) -> None:  # type: ignore[no-untyped-def]
    recognition = Recognition((ConvertedResult("C1", "Course", "6", "28", True, "14", "why", ("14", "13.5"),
                                               "Planned"),), ("Missing",))
    with sessions.begin() as session:
        accepted = repo.add_received(session, sending_hei_id=S, receiving_hei_id=R, omobility_id="m-1",
                                     elmo=b"<elmo/>", received_at=T0, recognition=recognition)
        repo.add_received(session, sending_hei_id=S, receiving_hei_id=R, omobility_id="m-1", elmo=b"<bad/>",
                          received_at=T0, rejected_because="InvalidSignature: altered")
    with sessions() as session:
        first, second = repo.received(session, {S})
        assert first == accepted and first.recognition == recognition
        assert (second.state, second.reason, second.recognition) == (ReceiptState.REJECTED, "InvalidSignature: altered",
                                                                      None)
        assert repo.received_by_id(session, {S}, second.id) == (second, b"<bad/>")
        assert repo.received_by_id(session, {OTHER}, second.id) is None
        assert repo.received(session, {OTHER}) == []

"""``enqueue`` in the caller's transaction: rows written or rolled back with the change, duplicates merged, a row
in flight not reused, bad values refused; operators' ``retry`` and ``send-now`` (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from ewp_node.cnr.outbox import OutboxRow, OutboxState, enqueue, get_entry, list_entries, make_due_now, retry

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
OURS, THEIRS = "uni-a.example.eu", "uni-b.example.eu"


def _enqueue(session: Session, ids: list[str], kind: str = "iia-cnr", now: datetime = T0) -> list[int]:
    return enqueue(session, kind, owner_hei=OURS, partner_hei=THEIRS, object_ids=ids, now=now)


def test_rows_are_written_with_the_callers_transaction(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        [row_id] = _enqueue(session, ["iia-1"])
    with pytest.raises(RuntimeError), sessions.begin() as session:
        _enqueue(session, ["iia-2"])
        raise RuntimeError("the change failed")  # its notification goes with it
    with sessions() as session:
        entries = list_entries(session)
    assert [(e.id, e.kind, e.owner_hei, e.partner_hei, e.object_id, e.state, e.attempts) for e in entries] == [
        (row_id, "iia-cnr", OURS, THEIRS, "iia-1", OutboxState.PENDING, 0)]
    assert entries[0].created_at == entries[0].next_attempt_at == T0


def test_duplicate_enqueues_are_merged_into_the_pending_row(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        first = _enqueue(session, ["iia-1", "iia-2", "iia-1"])
    with sessions.begin() as session:
        again = _enqueue(session, ["iia-2", "iia-3", "iia-1"], now=T0 + timedelta(seconds=5))
        other_kind = _enqueue(session, ["iia-1"], kind="iia-approval-cnr")
    assert len(first) == 2 and again[0] == first[1] and again[2] == first[0]
    assert again[1] not in first and other_kind[0] not in first
    with sessions() as session:
        assert len(list_entries(session)) == 4


def test_a_row_being_sent_is_not_reused(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        [held] = _enqueue(session, ["iia-1"])
        session.execute(update(OutboxRow).where(OutboxRow.id == held)
                        .values(locked_until=T0 + timedelta(minutes=5), claimed_by="worker-1"))
    with sessions.begin() as session:
        [fresh] = _enqueue(session, ["iia-1"], now=T0 + timedelta(seconds=1))
    assert fresh != held  # the partner may already have read the old state: it must hear again
    with sessions.begin() as session:  # once the lease ran out (its worker died) both rows are free: no third
        assert _enqueue(session, ["iia-1"], now=T0 + timedelta(minutes=6)) == [fresh]
        assert len(list_entries(session)) == 2


def test_finished_rows_are_not_reused(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        [done] = _enqueue(session, ["iia-1"])
        session.execute(update(OutboxRow).where(OutboxRow.id == done).values(state=OutboxState.DELIVERED))
    with sessions.begin() as session:
        assert _enqueue(session, ["iia-1"]) != [done]


@pytest.mark.parametrize(("kind", "partner", "object_id"), [
    ("", THEIRS, "1"), ("k" * 65, THEIRS, "1"), ("iia-cnr", "", "1"), ("iia-cnr", THEIRS, ""),
    ("iia-cnr", THEIRS, "x" * 256),
])
def test_bad_values_are_refused(sessions: sessionmaker[Session], kind: str, partner: str, object_id: str) -> None:
    with pytest.raises(ValueError, match="outbox"), sessions.begin() as session:
        enqueue(session, kind, owner_hei=OURS, partner_hei=partner, object_ids=[object_id])


def test_retry_and_send_now(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        failed, later = _enqueue(session, ["iia-1", "iia-2"])
        session.execute(update(OutboxRow).where(OutboxRow.id == failed)
                        .values(state=OutboxState.FAILED, given_up_at=T0, last_status=400))
        session.execute(update(OutboxRow).where(OutboxRow.id == later)
                        .values(next_attempt_at=T0 + timedelta(hours=1)))
    moment = T0 + timedelta(minutes=1)
    with sessions.begin() as session:
        assert retry(session, failed, now=moment)
        assert not retry(session, later, now=moment)  # pending already
        assert not retry(session, 999, now=moment)
        assert make_due_now(session, now=moment) == 1
    with sessions() as session:
        again, brought = get_entry(session, failed), get_entry(session, later)
    assert again is not None and brought is not None
    assert (again.state, again.given_up_at, again.next_attempt_at) == (OutboxState.PENDING, None, moment)
    assert brought.next_attempt_at == moment

"""The outbox worker against a loopback partner, on SQLite and PostgreSQL, with a clock of its own: retries with
back-off until delivered exactly once, 4xx failed and never retried, giving up after the configured time,
duplicates merged, batches cut to the partner's limit, every attempt in the audit log."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from ewp_node.cli import main
from ewp_node.cnr.inbound import MAX_IDS_PER_CNR, queue_follow_up
from ewp_node.cnr.loopback import LoopbackPartner
from ewp_node.cnr.outbox import OutboxEntry, OutboxRow, OutboxState, enqueue, get_entry
from ewp_node.cnr.senders import Delivery, SendServices, register_sender
from ewp_node.cnr.worker import OutboxWorker, RetryPolicy, build_worker
from ewp_node.context import NodeContext
from ewp_node.store.audit import AuditEntry, Direction
from ewp_node.store.base import utc_now

OURS = "uni-a.example.eu"
FIRST_DELAY = timedelta(seconds=10)


class Clock:
    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def worker(node: NodeContext, clock: Clock) -> OutboxWorker:
    return build_worker(node, first_delay=FIRST_DELAY, timeout=1, clock=clock)


def _enqueue(ctx: NodeContext, clock: Clock, ids: list[str], kind: str = "iia-cnr",
             partner_hei: str = "partner.example.eu") -> list[int]:
    with ctx.sessions.begin() as session:
        return enqueue(session, kind, owner_hei=OURS, partner_hei=partner_hei, object_ids=ids, now=clock())


def _entry(sessions: sessionmaker[Session], row_id: int) -> OutboxEntry:
    with sessions() as session:
        entry = get_entry(session, row_id)
    assert entry is not None
    return entry


def _audit(ctx: NodeContext) -> list[AuditEntry]:
    ctx.audit.flush()
    with ctx.sessions() as session:
        return list(session.query(AuditEntry).order_by(AuditEntry.id))


def test_partner_down_for_three_attempts_then_up_is_delivered_exactly_once(
        node: NodeContext, worker: OutboxWorker, partner: LoopbackPartner, clock: Clock) -> None:
    partner.script("drop", 503, ("sleep", 3))  # connection closed, server error, no answer within the timeout
    [row] = _enqueue(node, clock, ["iia-1"])
    for attempt, status in enumerate([None, 503, None], start=1):
        assert worker.run_once() == 1
        entry = _entry(node.sessions, row)
        assert (entry.state, entry.attempts, entry.last_status) == (OutboxState.PENDING, attempt, status)
        assert entry.last_attempt_at == clock()
        wait = (entry.next_attempt_at - clock()) / (FIRST_DELAY * 2 ** (attempt - 1))
        assert 0.75 <= wait <= 1.0  # 2^n back-off, less up to a quarter of jitter
        assert worker.run_once() == 0  # not due before its time
        clock.advance(entry.next_attempt_at - clock())
    assert worker.run_once() == 1
    entry = _entry(node.sessions, row)
    assert (entry.state, entry.attempts, entry.last_status, entry.delivered_at) == (
        OutboxState.DELIVERED, 4, 200, clock())
    clock.advance(timedelta(days=2))
    assert worker.run_once() == 0
    assert partner.ids("iia-cnr", "iia_id") == ["iia-1"]  # accepted exactly once
    assert [c.answer for c in partner.received] == ["drop", "503", "sleep", "200"]
    assert all(c.signed and c.params == (("iia_id", "iia-1"),) for c in partner.received)  # v3: no notifier_hei_id
    audit = [a for a in _audit(node) if a.api == "iia-cnr"]
    assert [(a.direction, a.partner_hei, a.status) for a in audit] == [
        (Direction.OUT, "partner.example.eu", status) for status in (0, 503, 0, 200)]
    assert [a.message.split(";")[0] for a in audit] == [f"outbox #{row} attempt {n}" for n in (1, 2, 3, 4)]


def test_a_partner_answering_400_is_not_retried_and_shown_failed(
        node: NodeContext, node_home: Path, worker: OutboxWorker, partner: LoopbackPartner, clock: Clock,
        capsys: pytest.CaptureFixture[str]) -> None:
    partner.script(400)
    [row] = _enqueue(node, clock, ["iia-1"])
    assert worker.run_once() == 1
    clock.advance(timedelta(hours=3))
    assert worker.run_once() == 0
    entry = _entry(node.sessions, row)
    assert (entry.state, entry.attempts, entry.last_status) == (OutboxState.FAILED, 1, 400)
    assert "not retried" in (entry.last_error or "") and entry.given_up_at is not None
    assert len(partner.received) == 1
    assert main(["cnr", str(node_home), "list"]) == 0
    listing = capsys.readouterr().out
    assert "failed 1" in listing
    assert f"#{row:<6} failed    iia-cnr {OURS} -> partner.example.eu id=iia-1 attempts=1" in listing
    assert "not retried; last: 400" in listing


def test_give_up_after_the_configured_time_then_an_operator_retry(
        node: NodeContext, node_home: Path, partner: LoopbackPartner, clock: Clock,
        capsys: pytest.CaptureFixture[str]) -> None:
    node.settings = dataclasses.replace(node.settings, outbox_give_up_hours=1)
    worker = build_worker(node, first_delay=FIRST_DELAY, timeout=1, clock=clock)
    partner.script(503, 503, 503, 503)
    [row] = _enqueue(node, clock, ["iia-1"])
    deadline = clock() + timedelta(hours=1)
    for _ in range(4):  # attempts at 0, 20, 40 and 60 minutes: the last one runs out of time
        assert worker.run_once() == 1
        entry = _entry(node.sessions, row)
        assert entry.next_attempt_at <= deadline
        clock.advance(timedelta(minutes=20))
    entry = _entry(node.sessions, row)
    assert (entry.state, entry.attempts, entry.last_status) == (OutboxState.GAVE_UP, 4, 503)
    assert entry.given_up_at == deadline
    clock.advance(timedelta(days=1))
    assert worker.run_once() == 0
    assert main(["cnr", str(node_home), "list", "--state", "gave-up"]) == 0
    assert f"#{row:<6} gave-up" in capsys.readouterr().out
    assert main(["cnr", str(node_home), "retry", str(row)]) == 0
    assert main(["cnr", str(node_home), "retry", str(row)]) == 1  # pending already
    assert "only failed or given-up rows are" in capsys.readouterr().err
    assert worker.run_once() == 1
    assert _entry(node.sessions, row).state is OutboxState.DELIVERED


def test_duplicates_enqueued_side_by_side_are_delivered_once(
        node: NodeContext, worker: OutboxWorker, partner: LoopbackPartner, clock: Clock) -> None:
    with node.sessions.begin() as session:  # what two concurrent transactions can leave behind
        rows = [OutboxRow(kind="iia-cnr", owner_hei=OURS, partner_hei="partner.example.eu", object_id="iia-1",
                          state=OutboxState.PENDING, attempts=0, created_at=clock(), due_since=clock(),
                          next_attempt_at=clock()) for _ in range(2)]
        session.add_all(rows)
    assert worker.run_once() == 2
    first, second = (_entry(node.sessions, r.id) for r in rows)
    assert first.state is OutboxState.DELIVERED
    assert (second.state, second.merged_into) == (OutboxState.MERGED, first.id)
    assert partner.ids("iia-cnr", "iia_id") == ["iia-1"]


def test_ids_of_one_partner_go_together_within_its_limit(
        node: NodeContext, worker: OutboxWorker, partner: LoopbackPartner, clock: Clock) -> None:
    rows = _enqueue(node, clock, [f"m{i}" for i in range(5)], kind="omobility-la-cnr")
    assert worker.run_once() == 5
    assert all(_entry(node.sessions, r).state is OutboxState.DELIVERED for r in rows)
    requests = [c for c in partner.received if c.api == "omobility-la-cnr"]
    assert [c.values("omobility_id") for c in requests] == [["m0", "m1"], ["m2", "m3"], ["m4"]]  # max-omobility-ids 2
    assert all(c.values("sending_hei_id") == [OURS] for c in requests)  # LA CNR v1 names the sending HEI


def test_a_partner_without_the_api_fails_and_an_unknown_kind_waits(
        node: NodeContext, worker: OutboxWorker, partner: LoopbackPartner, clock: Clock) -> None:
    [nowhere] = _enqueue(node, clock, ["iia-1"], partner_hei="nowhere.example.eu")
    [unknown] = _enqueue(node, clock, ["x"], kind="no-such-kind")
    assert worker.run_once() == 2
    refused, waiting = _entry(node.sessions, nowhere), _entry(node.sessions, unknown)
    assert refused.state is OutboxState.FAILED and "no 'iia-cnr' API" in (refused.last_error or "")
    assert waiting.state is OutboxState.PENDING and "no sender registered" in (waiting.last_error or "")
    assert partner.received == []
    messages = [a.message or "" for a in _audit(node)]
    assert any(f"outbox #{nowhere} attempt 1: the registry lists no" in m for m in messages)
    assert any(f"outbox #{unknown} attempt 1: no sender registered" in m for m in messages)


def test_retry_policy_doubles_caps_and_jitters() -> None:
    policy = RetryPolicy(first_delay=timedelta(seconds=30), max_delay=timedelta(hours=1), jitter=0.25)
    assert [policy.delay(n, lambda: 0.0) for n in (1, 2, 3)] == [timedelta(seconds=s) for s in (30, 60, 120)]
    assert policy.delay(30, lambda: 0.0) == timedelta(hours=1)
    assert policy.delay(1, lambda: 1.0) == timedelta(seconds=22.5)


def test_claims_take_at_most_a_batch_and_never_a_held_row(node: NodeContext, clock: Clock) -> None:
    _enqueue(node, clock, [f"iia-{i}" for i in range(50)])
    first = OutboxWorker(node.sessions, None, None, worker_id="w1", batch_size=20)  # type: ignore[arg-type]
    second = OutboxWorker(node.sessions, None, None, worker_id="w2", batch_size=20)  # type: ignore[arg-type]
    a, b, c = first.claim(clock()), second.claim(clock()), second.claim(clock())
    assert (len(a), len(b), len(c)) == (20, 20, 10)
    assert len({row.id for row in a + b + c}) == 50
    assert second.claim(clock()) == []
    clock.advance(first.lease + timedelta(seconds=1))  # the claims' leases ran out: their workers are gone
    assert len(second.claim(clock())) == 20


FETCHED: list[Delivery] = []


def _fetch(services: SendServices, delivery: Delivery) -> int:
    FETCHED.append(delivery)
    return 200


def test_a_received_cnr_queues_one_follow_up_fetch_that_the_worker_runs(
        node: NodeContext, worker: OutboxWorker, clock: Clock) -> None:
    FETCHED.clear()
    register_sender("test-fetch", _fetch, max_batch=10)  # again for the second database: the same function
    with node.sessions.begin() as session:  # what a CNR handler does before answering 200
        first = queue_follow_up(session, "test-fetch", our_hei=OURS, notifier_hei="partner.example.eu",
                                object_ids=["iia-1", "iia-2"])
    with node.sessions.begin() as session:  # the same CNR again before the fetch ran: merged
        again = queue_follow_up(session, "test-fetch", our_hei=OURS, notifier_hei="partner.example.eu",
                                object_ids=["iia-2"])
    assert again == first[1:]
    with pytest.raises(ValueError, match="at most"), node.sessions.begin() as session:
        queue_follow_up(session, "test-fetch", our_hei=OURS, notifier_hei="partner.example.eu",
                        object_ids=[str(i) for i in range(MAX_IDS_PER_CNR + 1)])
    clock.advance(timedelta(seconds=5))
    assert worker.run_once() == 2
    [delivery] = FETCHED
    assert (delivery.kind, delivery.owner_hei, delivery.partner_hei, delivery.object_ids, delivery.attempt) == (
        "test-fetch", OURS, "partner.example.eu", ("iia-1", "iia-2"), 1)
    assert all(_entry(node.sessions, r).state is OutboxState.DELIVERED for r in first)
    with pytest.raises(ValueError, match="already registered"):
        register_sender("test-fetch", lambda services, delivery: 200)


def test_send_now_sends_pending_rows_at_once(node: NodeContext, node_home: Path, worker: OutboxWorker,
                                             partner: LoopbackPartner, clock: Clock,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    partner.script(503)
    [row] = _enqueue(node, clock, ["iia-1"])
    assert worker.run_once() == 1
    assert _entry(node.sessions, row).next_attempt_at > utc_now()  # waiting for its back-off
    assert main(["cnr", str(node_home), "send-now"]) == 0
    entry = _entry(node.sessions, row)
    assert (entry.state, entry.attempts) == (OutboxState.DELIVERED, 2)
    assert f"#{row:<6} delivered" in capsys.readouterr().out
    assert partner.ids("iia-cnr", "iia_id") == ["iia-1"]

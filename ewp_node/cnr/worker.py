"""The outbox worker: claims due rows, sends them through their kind's sender, records each outcome.

Claim: one ``UPDATE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED) RETURNING`` that sets a lease
(``locked_until``, ``claimed_by``) and counts the attempt. On PostgreSQL ``SKIP LOCKED`` lets several workers
(several nodes on one database) claim side by side, never the same row; SQLite has one writer at a time, so the
same statement is atomic there. A worker that dies mid-delivery leaves its lease to run out; the row is then
claimed again (at-least-once delivery: a CNR sent twice is harmless, one never sent is not).

Outcome: 2xx delivered; 4xx (or a :class:`~ewp_node.cnr.senders.DeliveryRefused`) failed and never retried;
anything else (5xx, timeout, refused connection, unverifiable answer) retried after 2^n x ``first_delay``,
capped at ``max_delay``, less up to ``jitter`` of it, until ``give_up_after`` from the moment the row became
due. Outcomes are written only while the worker still holds the lease.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import requests
from lxml import etree
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from ewp_node.client import AuditHook, EwpClient, PartnerRefused, PartnerUnavailable
from ewp_node.client.pipeline import ANSWER_DEADLINE_S
from ewp_node.cnr.outbox import ERROR_LENGTH, OutboxRow, OutboxState, not_held
from ewp_node.cnr.senders import Delivery, DeliveryRefused, Sender, SendServices, load_sender_modules, sender_for
from ewp_node.registry.fetch import RegistryUnavailable
from ewp_node.security.errors import SecurityError
from ewp_node.store.audit import Direction, Exchange
from ewp_node.store.base import utc_now

#: Failures that mean the partner did not answer at all.
_NO_ANSWER = (PartnerUnavailable, requests.RequestException, OSError)

if TYPE_CHECKING:
    from ewp_node.context import NodeContext

log = logging.getLogger(__name__)

#: Failures a partner or the network causes: retried, logged on the row and in the audit log, no trace.
_EXPECTED_FAILURES = (PartnerUnavailable, RegistryUnavailable, SecurityError, requests.RequestException, OSError,
                      SQLAlchemyError, etree.XMLSyntaxError)


@dataclass(frozen=True)
class RetryPolicy:
    """When to try again, and when to stop."""

    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)
    give_up_after: timedelta = timedelta(hours=24)
    #: Fraction of each delay taken off at random, so that rows failing together do not retry together.
    jitter: float = 0.25

    def delay(self, attempts: int, draw: Callable[[], float] = random.random) -> timedelta:
        """The wait after the ``attempts``-th failed attempt: 2^(n-1) x first_delay, capped, jittered."""
        base = min(self.max_delay, self.first_delay * 2 ** min(max(attempts - 1, 0), 40))
        return base * (1 - self.jitter * draw())


@dataclass(frozen=True)
class ClaimedRow:
    id: int
    kind: str
    owner_hei: str
    partner_hei: str
    object_id: str
    #: Attempts including the one just claimed.
    attempts: int
    due_since: datetime


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to: the new state, and the status and error to show."""

    state: OutboxState
    status: int | None = None
    error: str | None = None
    #: No answer at all (connection refused or dropped, timeout): the partner's other rows in this pass wait.
    unreachable: bool = False


class AttemptAudit:
    """The audit hook of the worker's client: passes every exchange on, and counts them per thread so the
    worker can log an attempt that never reached the network (no API in the registry, no sender)."""

    def __init__(self, sink: AuditHook) -> None:
        self._sink = sink
        self._local = threading.local()

    def __call__(self, exchange: Exchange) -> None:
        self._local.count = self.count() + 1
        self._sink(exchange)

    def count(self) -> int:
        return int(getattr(self._local, "count", 0))


def default_worker_id() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class OutboxWorker:
    """Delivers due outbox rows; run :meth:`run` in a thread or process, or :meth:`run_once` by hand."""

    def __init__(self, sessions: sessionmaker[Session], services: SendServices, audit: AttemptAudit, *,
                 policy: RetryPolicy = RetryPolicy(), worker_id: str | None = None, batch_size: int = 20,
                 lease: timedelta = timedelta(minutes=5), send_margin: timedelta = timedelta(seconds=60),
                 clock: Callable[[], datetime] = utc_now, draw: Callable[[], float] = random.random) -> None:
        """
        :param lease: how long a claim holds its rows; a dead worker's rows wait this long.
        :param send_margin: a group is sent only if at least this much of the lease is left (one call's
            answer deadline and then some); the rest of the batch is handed back unsent.
        """
        if send_margin >= lease:
            raise ValueError("the lease must be longer than the send margin")
        self.sessions, self.services, self.audit, self.policy = sessions, services, audit, policy
        self.worker_id = (worker_id or default_worker_id())[:64]
        self.batch_size, self.lease, self.send_margin = batch_size, lease, send_margin
        self._clock, self._draw = clock, draw

    # -- one pass -----------------------------------------------------------------------------------------

    def run_once(self) -> int:
        """Claim up to ``batch_size`` due rows and deliver them. :returns: how many rows were claimed."""
        claimed_at = self._clock()
        rows = self.claim(claimed_at)
        groups = self._group(self._merge_duplicates(rows))
        outcomes: list[tuple[list[ClaimedRow], Outcome]] = []
        unsent: list[ClaimedRow] = []
        silent: dict[str, str] = {}  # partners that did not answer in this pass -> why
        for sender, group in groups:
            if unsent or self._clock() > claimed_at + self.lease - self.send_margin:
                unsent.extend(group)
                continue
            partner = group[0].partner_hei
            outcome = self._attempt(sender, group, silent.get(partner))
            if outcome.unreachable:
                silent.setdefault(partner, f"not sent: the partner did not answer #{group[0].id} just before")
            outcomes.append((group, outcome))
        self._record(outcomes, unsent)
        return len(rows)

    def claim(self, now: datetime) -> list[ClaimedRow]:
        due = (select(OutboxRow.id)
               .where(OutboxRow.state == OutboxState.PENDING, OutboxRow.next_attempt_at <= now, not_held(now))
               .order_by(OutboxRow.next_attempt_at, OutboxRow.id).limit(self.batch_size)
               .with_for_update(skip_locked=True).cte("due"))  # a CTE runs once: a subquery may be re-run per row
        with self.sessions.begin() as session:
            result = session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(select(due.c.id)), OutboxRow.state == OutboxState.PENDING, not_held(now))
                .values(locked_until=now + self.lease, claimed_by=self.worker_id, attempts=OutboxRow.attempts + 1,
                        last_attempt_at=now)
                .returning(OutboxRow.id, OutboxRow.kind, OutboxRow.owner_hei, OutboxRow.partner_hei,
                           OutboxRow.object_id, OutboxRow.attempts, OutboxRow.due_since)
            )
            rows = [ClaimedRow(*values) for values in result]
        return sorted(rows, key=lambda row: row.id)

    def _merge_duplicates(self, rows: list[ClaimedRow]) -> list[ClaimedRow]:
        """Rows about the same kind, owner, partner and object (enqueued by concurrent transactions) are
        delivered once: the later ones are marked merged into the first."""
        first: dict[tuple[str, str, str, str], ClaimedRow] = {}
        merged: dict[int, list[int]] = {}
        for row in rows:
            lead = first.setdefault((row.kind, row.owner_hei, row.partner_hei, row.object_id), row)
            if lead is not row:
                merged.setdefault(lead.id, []).append(row.id)
        if merged:
            with self.sessions.begin() as session:
                for lead_id, ids in merged.items():
                    session.execute(self._mine(ids).values(state=OutboxState.MERGED, merged_into=lead_id,
                                                           locked_until=None))
        return list(first.values())

    def _group(self, rows: list[ClaimedRow]) -> list[tuple[Sender | None, list[ClaimedRow]]]:
        """Rows of one kind, owner and partner, cut to the sender's batch size (unknown kinds one by one)."""
        groups: list[tuple[Sender | None, list[ClaimedRow]]] = []
        open_groups: dict[tuple[str, str, str], list[ClaimedRow]] = {}
        for row in rows:
            sender = sender_for(row.kind)
            key = (row.kind, row.owner_hei, row.partner_hei)
            group = open_groups.get(key)
            if sender is None or group is None or len(group) >= sender.max_batch:
                group = open_groups[key] = []
                groups.append((sender, group))
            group.append(row)
        return groups

    # -- one attempt --------------------------------------------------------------------------------------

    def _attempt(self, sender: Sender | None, group: list[ClaimedRow], skip: str | None = None) -> Outcome:
        """Send one group, or (``skip``: its partner did not answer in this pass) count it failed unsent."""
        lead = group[0]
        delivery = Delivery(kind=lead.kind, owner_hei=lead.owner_hei, partner_hei=lead.partner_hei,
                            object_ids=tuple(row.object_id for row in group), row_ids=tuple(row.id for row in group),
                            attempt=max(row.attempts for row in group))
        exchanges_before = self.audit.count()
        if skip is not None:
            outcome = Outcome(OutboxState.PENDING, error=skip, unreachable=True)
        elif sender is None:
            outcome = Outcome(OutboxState.PENDING, error=f"no sender registered for kind {lead.kind!r}")
        else:
            outcome = self._send(sender, delivery)
        if self.audit.count() == exchanges_before:  # nothing reached the network: say so in the audit log
            self.audit(Exchange(at=self._clock(), direction=Direction.OUT, api=lead.kind, method="POST",
                                status=outcome.status or 0, duration_ms=0, partner_hei=lead.partner_hei,
                                message=f"outbox #{lead.id} attempt {delivery.attempt}: {outcome.error}"))
        return outcome

    def _send(self, sender: Sender, delivery: Delivery) -> Outcome:
        try:
            status = sender.send(self.services, delivery)
        except (DeliveryRefused, PartnerRefused) as exc:  # e.g. the partner publishes no such API
            return Outcome(OutboxState.FAILED, error=str(exc))
        except Exception as exc:  # transport, verification, the partner's XML, our database: all retried
            if not isinstance(exc, _EXPECTED_FAILURES):  # a bug in a sender: keep the trace for its authors
                log.exception("outbox sender %s failed on rows %s", delivery.kind, delivery.row_ids)
            return Outcome(OutboxState.PENDING, error=f"{type(exc).__name__}: {exc}",
                           unreachable=isinstance(exc, _NO_ANSWER))
        if 200 <= status < 300:
            return Outcome(OutboxState.DELIVERED, status)
        if 400 <= status < 500:
            return Outcome(OutboxState.FAILED, status, f"the partner refused it with HTTP {status}: not retried")
        return Outcome(OutboxState.PENDING, status, f"the partner answered HTTP {status}")

    # -- writing outcomes ---------------------------------------------------------------------------------

    def _mine(self, ids: Sequence[int]) -> Any:
        """An UPDATE of those rows that this worker still holds (a row whose lease ran out may be another's)."""
        return update(OutboxRow).where(OutboxRow.id.in_(ids), OutboxRow.claimed_by == self.worker_id,
                                       OutboxRow.state == OutboxState.PENDING)

    def _record(self, outcomes: list[tuple[list[ClaimedRow], Outcome]], unsent: list[ClaimedRow]) -> None:
        """Write a batch's outcomes in one transaction (a crash before it re-sends the batch: at least once),
        and hand back the rows left unsent because the lease ran short (their attempt did not happen)."""
        now = self._clock()
        with self.sessions.begin() as session:
            for group, outcome in outcomes:
                error = outcome.error[:ERROR_LENGTH] if outcome.error else None
                common = {"locked_until": None, "last_status": outcome.status, "last_error": error}
                if outcome.state is OutboxState.DELIVERED:
                    session.execute(self._mine([r.id for r in group]).values(state=OutboxState.DELIVERED,
                                                                              delivered_at=now, **common))
                elif outcome.state is OutboxState.FAILED:
                    session.execute(self._mine([r.id for r in group]).values(state=OutboxState.FAILED,
                                                                              given_up_at=now, **common))
                else:
                    for row in group:
                        session.execute(self._mine([row.id]).values(**self._retry_values(row, now), **common))
            if unsent:
                session.execute(self._mine([r.id for r in unsent]).values(locked_until=None,
                                                                           attempts=OutboxRow.attempts - 1))

    def _retry_values(self, row: ClaimedRow, now: datetime) -> dict[str, Any]:
        deadline = row.due_since + self.policy.give_up_after
        if now >= deadline:
            return {"state": OutboxState.GAVE_UP, "given_up_at": now}
        return {"next_attempt_at": min(now + self.policy.delay(row.attempts, self._draw), deadline)}

    # -- running ------------------------------------------------------------------------------------------

    def run(self, stop: threading.Event, poll_seconds: float = 1.0) -> None:
        """Deliver until ``stop`` is set; a pass that found nothing waits ``poll_seconds``."""
        while not stop.is_set():
            try:
                busy = self.run_once() > 0
            except SQLAlchemyError as exc:  # database away: keep the worker alive and try again
                log.warning("outbox worker: database error, retrying: %s", exc)
                busy = False
            if not busy:
                stop.wait(poll_seconds)

    def drain(self) -> int:
        """Run passes until no row is due now (``send-now``). :returns: how many rows were claimed."""
        total = 0
        while (claimed := self.run_once()) > 0:
            total += claimed
        return total


def build_worker(ctx: NodeContext, *, first_delay: timedelta = RetryPolicy.first_delay,
                 lease: timedelta = timedelta(minutes=5), timeout: float = 30, batch_size: int = 20,
                 clock: Callable[[], datetime] = utc_now) -> OutboxWorker:
    """A worker for a node's services: every sender module loaded, the client auditing into the node's log,
    giving up after the node's ``outbox_give_up_hours``."""
    load_sender_modules()
    audit = AttemptAudit(ctx.audit.record)
    services = SendServices(client=EwpClient(ctx, audit=audit, timeout=timeout), sessions=ctx.sessions,
                            settings=ctx.settings)
    policy = RetryPolicy(first_delay=first_delay, give_up_after=timedelta(hours=ctx.settings.outbox_give_up_hours))
    return OutboxWorker(ctx.sessions, services, audit, policy=policy, lease=lease, batch_size=batch_size,
                        send_margin=min(timedelta(seconds=ANSWER_DEADLINE_S + timeout), lease / 2), clock=clock)

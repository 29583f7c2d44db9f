"""The outbox row and :func:`enqueue`: a notification written in the same transaction as the change behind it.

One row is one thing to tell (or fetch from) one partner HEI about one object: ``kind`` names what to do
(``iia-cnr``, ``omobility-la-cnr``, ``iia-fetch``...; see :mod:`ewp_node.cnr.senders`), ``owner_hei`` is our
HEI on whose behalf it is done, ``partner_hei`` the other side, ``object_id`` the id the partner must hear about.
The worker (:mod:`ewp_node.cnr.worker`) claims due rows, sends them and records the outcome on the row.

States: ``pending`` (waiting or being sent: ``locked_until`` in the future means a worker holds it),
``delivered``, ``failed`` (the partner refused it with a 4xx, or has no such API: never retried),
``gave-up`` (still failing when the give-up time ran out), ``merged`` (a duplicate found at claim time,
delivered as part of the row named in ``merged_into``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Index, Integer, String, func, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from ewp_node.store.base import Base, utc_now

#: Longest kind name, partner id and object id a row holds.
KIND_LENGTH, HEI_LENGTH, OBJECT_ID_LENGTH, ERROR_LENGTH = 64, 255, 255, 500


class OutboxState(enum.Enum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    GAVE_UP = "gave-up"
    MERGED = "merged"


class OutboxRow(Base):
    """One queued notification (or follow-up fetch) and the history of its delivery."""

    __tablename__ = "cnr_outbox"
    __table_args__ = (
        Index("ix_cnr_outbox_due", "state", "next_attempt_at"),
        Index("ix_cnr_outbox_key", "kind", "partner_hei", "object_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(KIND_LENGTH))
    owner_hei: Mapped[str] = mapped_column(String(HEI_LENGTH))
    partner_hei: Mapped[str] = mapped_column(String(HEI_LENGTH))
    object_id: Mapped[str] = mapped_column(String(OBJECT_ID_LENGTH))
    state: Mapped[OutboxState] = mapped_column(Enum(OutboxState, native_enum=False, length=16,
                                                    values_callable=lambda e: [m.value for m in e]))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    #: When the row last became due from scratch (enqueue, or an operator's retry): the give-up clock.
    due_since: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    #: A worker holds the row until then (it is being sent); an expired lock means the worker died.
    locked_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    last_attempt_at: Mapped[datetime | None]
    #: HTTP status of the last attempt (None: no answer, e.g. connection refused or timeout).
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(ERROR_LENGTH))
    delivered_at: Mapped[datetime | None]
    given_up_at: Mapped[datetime | None]
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("cnr_outbox.id"))


@dataclass(frozen=True)
class OutboxEntry:
    """A row as operators and other packages see it."""

    id: int
    kind: str
    owner_hei: str
    partner_hei: str
    object_id: str
    state: OutboxState
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    given_up_at: datetime | None
    merged_into: int | None

    @classmethod
    def of(cls, row: OutboxRow) -> OutboxEntry:
        return cls(id=row.id, kind=row.kind, owner_hei=row.owner_hei, partner_hei=row.partner_hei,
                   object_id=row.object_id, state=row.state, attempts=row.attempts, created_at=row.created_at,
                   next_attempt_at=row.next_attempt_at, last_attempt_at=row.last_attempt_at,
                   last_status=row.last_status, last_error=row.last_error, delivered_at=row.delivered_at,
                   given_up_at=row.given_up_at, merged_into=row.merged_into)


def _check(value: str, what: str, length: int) -> str:
    if not value or len(value) > length:
        raise ValueError(f"outbox {what}: 1 to {length} characters expected, got {value!r:.80}")
    return value


def enqueue(session: Session, kind: str, *, owner_hei: str, partner_hei: str, object_ids: Iterable[str],
            now: datetime | None = None) -> list[int]:
    """Queue ``kind`` for each object id, in the caller's transaction (the caller commits).

    A pending row for the same kind, owner, partner and object that no worker holds yet is reused: the
    partner hears once about several quick changes. A row being sent right now is not reused (the partner
    may already have read the old state), so a new row follows it.

    :param kind: a sender kind (:mod:`ewp_node.cnr.senders`), e.g. ``iia-cnr``.
    :param owner_hei: our HEI on whose behalf the partner is told (or fetched from).
    :param partner_hei: the partner HEI's SCHAC id.
    :param object_ids: the ids the partner must hear about (for a CNR: the ids the CNR API carries).
    :returns: the row ids, one per object id, in order (reused rows included).
    :raises ValueError: an empty or over-long kind, HEI id or object id.
    """
    now = now or utc_now()
    _check(kind, "kind", KIND_LENGTH)
    _check(owner_hei, "owner HEI", HEI_LENGTH)
    _check(partner_hei, "partner HEI", HEI_LENGTH)
    wanted = list(dict.fromkeys(_check(i, "object id", OBJECT_ID_LENGTH) for i in object_ids))
    if not wanted:
        return []
    waiting: dict[str, int] = {object_id: row_id for object_id, row_id in session.execute(
        select(OutboxRow.object_id, OutboxRow.id)
        .where(OutboxRow.kind == kind, OutboxRow.owner_hei == owner_hei, OutboxRow.partner_hei == partner_hei,
               OutboxRow.object_id.in_(wanted), OutboxRow.state == OutboxState.PENDING, not_held(now))
        .order_by(OutboxRow.id)
    )}
    fresh = [OutboxRow(kind=kind, owner_hei=owner_hei, partner_hei=partner_hei, object_id=object_id,
                       state=OutboxState.PENDING, attempts=0, created_at=now, due_since=now, next_attempt_at=now)
             for object_id in wanted if object_id not in waiting]
    if fresh:
        session.add_all(fresh)
        session.flush()
    waiting.update((row.object_id, row.id) for row in fresh)
    return [waiting[object_id] for object_id in wanted]


def not_held(now: datetime) -> ColumnElement[bool]:
    """No worker holds the row (never claimed, or the claim's lease ran out)."""
    return or_(OutboxRow.locked_until.is_(None), OutboxRow.locked_until < now)


def list_entries(session: Session, *, states: Sequence[OutboxState] = (), limit: int = 100) -> list[OutboxEntry]:
    """The newest rows first, optionally only those in ``states``."""
    query = select(OutboxRow).order_by(OutboxRow.id.desc()).limit(limit)
    if states:
        query = query.where(OutboxRow.state.in_(states))
    return [OutboxEntry.of(row) for row in session.scalars(query)]


def count_by_state(session: Session) -> dict[OutboxState, int]:
    """How many rows are in each state (states without rows: 0)."""
    counts = dict.fromkeys(OutboxState, 0)
    counts.update({state: count for state, count in
                   session.execute(select(OutboxRow.state, func.count()).group_by(OutboxRow.state))})
    return counts


def get_entry(session: Session, row_id: int) -> OutboxEntry | None:
    row = session.get(OutboxRow, row_id)
    return OutboxEntry.of(row) if row is not None else None


def retry(session: Session, row_id: int, now: datetime | None = None) -> bool:
    """Make a failed or given-up row pending again, due now, with a fresh give-up clock.

    :returns: False if there is no such row, or it is delivered, merged or already pending.
    """
    now = now or utc_now()
    result = session.execute(
        update(OutboxRow)
        .where(OutboxRow.id == row_id, OutboxRow.state.in_([OutboxState.FAILED, OutboxState.GAVE_UP]))
        .values(state=OutboxState.PENDING, due_since=now, next_attempt_at=now, given_up_at=None,
                locked_until=None, claimed_by=None)
    )
    return bool(getattr(result, "rowcount", 0))


def make_due_now(session: Session, now: datetime | None = None) -> int:
    """Bring every pending row that no worker holds forward to now (operator's ``send-now``).

    :returns: how many rows were brought forward.
    """
    now = now or utc_now()
    result = session.execute(
        update(OutboxRow)
        .where(OutboxRow.state == OutboxState.PENDING, OutboxRow.next_attempt_at > now, not_held(now))
        .values(next_attempt_at=now)
    )
    return int(getattr(result, "rowcount", 0))

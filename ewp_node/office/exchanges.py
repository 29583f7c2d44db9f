"""Read models of the audit log for the console: filtered pages, one exchange, per-partner indicators."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from ewp_node.store.audit import AuditEntry, Direction

PAGE_SIZE = 100


@dataclass(frozen=True)
class ExchangeFilter:
    """What the Exchanges page asks for; every field optional. ``outcome``: ``ok``, ``4xx`` or ``5xx``."""

    partner: str = ""
    api: str = ""
    direction: str = ""
    outcome: str = ""
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None

    def apply(self, query: Select[tuple[AuditEntry]]) -> Select[tuple[AuditEntry]]:
        if self.partner:
            query = query.where(AuditEntry.partner_hei == self.partner.strip().lower())
        if self.api:
            query = query.where(AuditEntry.api == self.api)
        if self.direction in ("in", "out"):
            query = query.where(AuditEntry.direction == Direction(self.direction))
        if self.outcome == "ok":
            query = query.where(AuditEntry.status < 400, AuditEntry.status > 0)
        elif self.outcome == "4xx":
            query = query.where(AuditEntry.status >= 400, AuditEntry.status < 500)
        elif self.outcome == "5xx":
            query = query.where((AuditEntry.status >= 500) | (AuditEntry.status == 0))
        if self.since is not None:
            query = query.where(AuditEntry.at >= self.since)
        if self.until is not None:
            query = query.where(AuditEntry.at < self.until)
        if self.before_id is not None:
            query = query.where(AuditEntry.id < self.before_id)
        return query


def find_exchanges(session: Session, wanted: ExchangeFilter, limit: int = PAGE_SIZE) -> list[AuditEntry]:
    """Newest first, at most ``limit``; the next page starts ``before_id`` the last one's id."""
    return list(session.scalars(wanted.apply(select(AuditEntry)).order_by(AuditEntry.id.desc()).limit(limit)))


def exchange(session: Session, exchange_id: int) -> AuditEntry | None:
    return session.get(AuditEntry, exchange_id)


def api_names(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEntry.api).distinct().order_by(AuditEntry.api)))


@dataclass(frozen=True)
class PartnerActivity:
    """One partner's exchanges since a moment: counts both ways, errors, the latest."""

    hei_id: str
    incoming: int
    outgoing: int
    errors: int
    last_at: datetime
    last_status: int


#: A failed exchange: an error status, or none at all (0: no answer).
_FAILED = (AuditEntry.status >= 400) | (AuditEntry.status == 0)


def partner_activity(session: Session, since: datetime) -> list[PartnerActivity]:
    """Every partner HEI seen since ``since``, most active first."""
    rows = session.execute(
        select(AuditEntry.partner_hei,
               func.sum(case((AuditEntry.direction == Direction.IN, 1), else_=0)),
               func.sum(case((AuditEntry.direction == Direction.OUT, 1), else_=0)),
               func.sum(case((_FAILED, 1), else_=0)),
               func.max(AuditEntry.id))
        .where(AuditEntry.at >= since, AuditEntry.partner_hei.is_not(None))
        .group_by(AuditEntry.partner_hei)
    ).all()
    latest = {e.id: e for e in session.scalars(select(AuditEntry).where(AuditEntry.id.in_([r[4] for r in rows])))}
    activity = [PartnerActivity(hei_id=hei, incoming=int(i or 0), outgoing=int(o or 0), errors=int(err or 0),
                                last_at=latest[last].at, last_status=latest[last].status)
                for hei, i, o, err, last in rows]
    return sorted(activity, key=lambda a: (-(a.incoming + a.outgoing), a.hei_id))


@dataclass(frozen=True)
class PartnerPeriod:
    """One partner's exchanges (both ways) and failed ones in one period: a day, or the week from ``period``."""

    hei_id: str
    period: str
    exchanges: int
    errors: int


def period_start(day: date, weekly: bool) -> date:
    """The first day of the period holding ``day``: itself, or its week's Monday."""
    return day - timedelta(days=day.weekday()) if weekly else day


def partner_periods(session: Session, since: datetime, until: datetime, *, weekly: bool = False,
                    partner: str = "") -> list[PartnerPeriod]:
    """Exchanges and errors per partner HEI and day (or week) in ``[since, until)``, oldest period first.
    The database counts per day; days are folded into weeks here (a few rows per partner)."""
    day = func.date(AuditEntry.at)
    query = (select(AuditEntry.partner_hei, day, func.count(), func.sum(case((_FAILED, 1), else_=0)))
             .where(AuditEntry.at >= since, AuditEntry.at < until, AuditEntry.partner_hei.is_not(None))
             .group_by(AuditEntry.partner_hei, day))
    if partner:
        query = query.where(AuditEntry.partner_hei == partner.strip().lower())
    totals: dict[tuple[str, str], tuple[int, int]] = {}
    for hei, on, count, errors in session.execute(query):
        key = (period_start(date.fromisoformat(str(on)[:10]), weekly).isoformat(), hei)
        before = totals.get(key, (0, 0))
        totals[key] = (before[0] + count, before[1] + int(errors or 0))
    return [PartnerPeriod(hei, period, *counts) for (period, hei), counts in sorted(totals.items())]

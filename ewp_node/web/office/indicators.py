"""``/office/indicators``: activity over time and per partner, mobilities per year, partner, faculty and
country, transcripts, LA turnaround, survey (SVG charts; every table also as CSV, ``?format=csv&table=NAME``)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property

from flask import Blueprint, Response, abort, render_template, request
from sqlalchemy.orm import Session

from ewp_node.context import NodeContext
from ewp_node.office.exchanges import PartnerPeriod, partner_activity, partner_periods, period_start
from ewp_node.office.indicators import per_country, per_faculty, transcript_counts
from ewp_node.office.mobilities import mobility_counts, pipelines, turnarounds
from ewp_node.office.student import survey_results
from ewp_node.registry.catalogue import CatalogueIndex
from ewp_node.registry.countries import hei_country
from ewp_node.registry.fetch import RegistryUnavailable
from ewp_node.store.audit import daily_counts
from ewp_node.web.charts import BarChart, bar_chart
from ewp_node.web.office.auth import current
from ewp_node.web.office.csv_export import csv_response
from ewp_node.web.status import CHART_DAYS, activity_bars

WINDOW = timedelta(days=30)
#: Periods (days up to today) the exchanges-per-partner chart offers; weeks are the default past a month.
PERIODS = (7, 30, 90, 365)


@dataclass(frozen=True)
class Span:
    """The period and step of the exchanges-per-partner chart, and the partner it shows ('' = all)."""

    days: int
    weekly: bool
    partner: str
    today: date

    @property
    def since(self) -> datetime:
        return datetime.combine(self.today - timedelta(days=self.days - 1), time(), UTC)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.today + timedelta(days=1), time(), UTC)

    def labels(self) -> list[str]:
        """The first day of every period, oldest first."""
        step = timedelta(days=7 if self.weekly else 1)
        day, labels = period_start(self.since.date(), self.weekly), []
        while day <= self.today:
            labels.append(day.isoformat())
            day += step
        return labels

    def chart(self, periods: list[PartnerPeriod]) -> BarChart:
        shown = [p for p in periods if p.hei_id == self.partner or not self.partner]
        exchanges: dict[str, int] = {}
        errors: dict[str, int] = {}
        for p in shown:
            exchanges[p.period] = exchanges.get(p.period, 0) + p.exchanges
            errors[p.period] = errors.get(p.period, 0) + p.errors
        return bar_chart(self.labels(), exchanges, errors)


def _span(today: date) -> Span:
    args = request.args
    days = int(args["days"]) if args.get("days") in [str(p) for p in PERIODS] else 30
    step = args.get("step")
    weekly = step == "week" if step in ("day", "week") else days > 31
    return Span(days, weekly, args.get("partner", "").strip().lower()[:255], today)


@dataclass(frozen=True)
class _Page:
    """What every table of the page is computed from."""

    ctx: NodeContext
    session: Session
    hei_ids: Collection[str]
    lang: str
    span: Span
    now: datetime

    @cached_property
    def catalogue(self) -> CatalogueIndex | None:
        try:
            return self.ctx.registry.index
        except RegistryUnavailable:
            return None

    def country(self, hei_id: str) -> str | None:
        return hei_country(self.catalogue, hei_id)


Table = tuple[Sequence[str], Callable[[_Page], list[Sequence[object]]]]

#: Every table of the page as CSV: its header and rows (computed only for the table asked for).
TABLES: dict[str, Table] = {
    "partners": (("partner_hei", "incoming", "outgoing", "errors", "last_exchange", "last_status"), lambda p: [
        (a.hei_id, a.incoming, a.outgoing, a.errors, a.last_at.isoformat(), a.last_status)
        for a in partner_activity(p.session, p.now - WINDOW)]),
    "exchanges": (("partner_hei", "period_start", "exchanges", "errors"), lambda p: [
        (r.hei_id, r.period, r.exchanges, r.errors)
        for r in partner_periods(p.session, p.span.since, p.span.until, weekly=p.span.weekly)]),
    "mobilities": (("academic_year", "direction", "partner_hei", "students", "citizenships"), lambda p: [
        (r.academic_year_id, r.direction, r.partner_hei_id, r.count, r.citizenships)
        for r in mobility_counts(pipelines(p.session, p.hei_ids))]),
    "faculties": (("academic_year", "direction", "ounit_id", "ounit", "mobilities"), lambda p: [
        (r.academic_year_id, r.direction, r.key, r.label, r.count) for r in per_faculty(p.session, p.hei_ids, p.lang)]),
    "countries": (("academic_year", "direction", "partner_country", "mobilities"), lambda p: [
        (r.academic_year_id, r.direction, r.key, r.count) for r in per_country(p.session, p.hei_ids, p.country)]),
    "transcripts": (("academic_year", "partner_hei", "issued", "received", "recognized"), lambda p: [
        (r.academic_year_id, r.partner_hei_id, r.issued, r.received, r.recognized)
        for r in transcript_counts(p.session, p.hei_ids)]),
    "turnaround": (("partner_hei", "answers", "mean_days", "longest_days"), lambda p: [
        (t.partner_hei_id, t.answered, t.mean_days, t.longest_days)
        for t in turnarounds(pipelines(p.session, p.hei_ids))]),
    "survey": (("partner_hei", "academic_year", "answers", "overall", "courses", "support", "recommend_share"),
               lambda p: [(r.partner_hei_id, r.academic_year_id, r.answers, r.overall, r.courses, r.support,
                           r.recommend_share) for r in survey_results(p.session)]),
}


def install(blueprint: Blueprint, ctx: NodeContext) -> None:
    @blueprint.get("/indicators")
    def indicators() -> Response | str:
        now = datetime.now(UTC)
        account = current()
        span = _span(now.date())
        with ctx.sessions() as session:
            page = _Page(ctx, session, frozenset(account.hei_ids) or ctx.settings.hei_ids, account.lang, span, now)
            if request.args.get("format") == "csv":
                name = request.args.get("table", "partners")
                if name not in TABLES:
                    abort(404)
                header, rows = TABLES[name]
                return csv_response(f"{name}.csv", header, rows(page))
            years = pipelines(session, page.hei_ids)
            periods = partner_periods(session, span.since, span.until, weekly=span.weekly)
            values = dict(
                activity=partner_activity(session, now - WINDOW), surveys=survey_results(session),
                bars=activity_bars(daily_counts(session, now - timedelta(days=CHART_DAYS)), now.date()),
                mobilities=mobility_counts(years), turnarounds=turnarounds(years),
                faculties=per_faculty(session, page.hei_ids, account.lang),
                countries=per_country(session, page.hei_ids, page.country),
                transcripts=transcript_counts(session, page.hei_ids))
        return render_template("office/indicators.html", span=span, periods=periods, chart=span.chart(periods),
                               period_choices=PERIODS, partners=sorted({p.hei_id for p in periods}), **values)

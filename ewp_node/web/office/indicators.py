"""``/office/indicators``: activity over time and per partner (SVG chart, CSV export)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from flask import Blueprint, Response, render_template, request

from ewp_node.context import NodeContext
from ewp_node.office.exchanges import partner_activity
from ewp_node.office.mobilities import mobility_counts, pipelines, turnarounds
from ewp_node.office.student import survey_results
from ewp_node.store.audit import daily_counts
from ewp_node.web.office.auth import current
from ewp_node.web.status import CHART_DAYS, activity_bars

WINDOW = timedelta(days=30)


def install(blueprint: Blueprint, ctx: NodeContext) -> None:
    @blueprint.get("/indicators")
    def indicators() -> Response | str:
        now = datetime.now(UTC)
        with ctx.sessions() as session:
            activity = partner_activity(session, now - WINDOW)
            bars = activity_bars(daily_counts(session, now - timedelta(days=CHART_DAYS)), now.date())
            surveys = survey_results(session)
            years = pipelines(session, frozenset(current().hei_ids) or ctx.settings.hei_ids)
        if request.args.get("format") == "csv":
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(["partner_hei", "incoming", "outgoing", "errors", "last_exchange", "last_status"])
            for a in activity:
                writer.writerow([a.hei_id, a.incoming, a.outgoing, a.errors, a.last_at.isoformat(), a.last_status])
            return Response(out.getvalue(), content_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": "attachment; filename=partners.csv"})
        return render_template("office/indicators.html", activity=activity, bars=bars, surveys=surveys,
                               mobilities=mobility_counts(years), turnarounds=turnarounds(years))

"""``/office/exchanges``: the audit log, filtered, one exchange at a time (with its headers and bodies), and as
CSV."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, abort, render_template, request

from ewp_node.capture import capture_of
from ewp_node.config import CapturePolicy
from ewp_node.context import NodeContext
from ewp_node.office.exchanges import ExchangeFilter, api_names, exchange, find_exchanges
from ewp_node.office.wire import visible_to, wire
from ewp_node.store.audit import AuditEntry
from ewp_node.web.office.auth import current
from ewp_node.web.office.csv_export import csv_response

CSV_ROWS = 10_000


def _day(value: str | None) -> datetime | None:
    """``YYYY-MM-DD`` from a date field, as midnight UTC; anything else is ignored."""
    try:
        return datetime.strptime(value or "", "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None


def _filter() -> ExchangeFilter:
    args = request.args
    before = args.get("before", "")
    return ExchangeFilter(partner=args.get("partner", "")[:255], api=args.get("api", "")[:64],
                          direction=args.get("direction", ""), outcome=args.get("outcome", ""),
                          since=_day(args.get("since")), until=_day(args.get("until")),
                          before_id=int(before) if before.isdigit() else None)


def install(blueprint: Blueprint, ctx: NodeContext) -> None:
    @blueprint.get("/exchanges")
    def exchanges() -> Response | str:
        wanted = _filter()
        with ctx.sessions() as session:
            if request.args.get("format") == "csv":
                return _csv(find_exchanges(session, wanted, limit=CSV_ROWS))
            rows = find_exchanges(session, wanted)
            apis = api_names(session)
        return render_template("office/exchanges.html", rows=rows, apis=apis, wanted=request.args)

    @blueprint.get("/exchanges/<int:exchange_id>")
    def exchange_detail(exchange_id: int) -> str:
        """One exchange; its headers and bodies while kept, to the users whose HEIs it concerns."""
        with ctx.sessions() as session:
            row = exchange(session, exchange_id)
            capture = capture_of(session, row.uid) if row is not None else None
        if row is None:
            abort(404)
        hidden = capture is not None and not visible_to(row, capture, current().hei_ids, ctx.settings.hei_ids)
        shown = wire(capture) if capture is not None and not hidden else None
        return render_template("office/exchange.html", e=row, wire=shown, hidden=hidden,
                               kept_days=ctx.settings.exchange_capture_days,
                               failures_only=ctx.settings.exchange_capture is CapturePolicy.FAILURES)


def _csv(rows: list[AuditEntry]) -> Response:
    return csv_response("exchanges.csv", ["id", "at", "direction", "api", "method", "partner_hei", "status",
                                          "duration_ms", "request_id", "key_id", "message"],
                        ([e.id, e.at.isoformat(), e.direction.value, e.api, e.method, e.partner_hei or "", e.status,
                          e.duration_ms, e.request_id or "", e.key_id or "", e.message or ""] for e in rows))

"""``/status``: is the node healthy, who talks to us, how much, and does it work (indicators)?

Open to loopback clients only, unless ``status_token`` is configured: then the token is required
(``Authorization: Bearer <token>`` or ``?token=``), from anywhere.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from ipaddress import ip_address

from flask import Blueprint, Response, render_template, request

from ewp_node.context import NodeContext
from ewp_node.errors import Forbidden
from ewp_node.store.audit import counts_by_api_and_status, daily_counts, recent_exchanges

#: Days shown in the activity chart.
CHART_DAYS = 14


@dataclass(frozen=True)
class Bar:
    """One day of the activity chart, with its SVG geometry precomputed for the template."""

    day: str
    incoming: int
    outgoing: int
    x: float
    in_height: float
    out_height: float


def activity_bars(rows: list[tuple[str, str, int]], today: date, *, height: float = 120.0,
                  width: float = 24.0) -> list[Bar]:
    """Turn ``(day, direction, count)`` rows into one bar pair per day of the last :data:`CHART_DAYS`."""
    days = [(today - timedelta(days=CHART_DAYS - 1 - i)).isoformat() for i in range(CHART_DAYS)]
    counts = {(d, direction): n for d, direction, n in rows}
    peak = max([counts.get((d, k), 0) for d in days for k in ("in", "out")] + [1])
    return [
        Bar(day=d, incoming=counts.get((d, "in"), 0), outgoing=counts.get((d, "out"), 0), x=i * (2 * width + 8),
            in_height=height * counts.get((d, "in"), 0) / peak, out_height=height * counts.get((d, "out"), 0) / peak)
        for i, d in enumerate(days)
    ]


def _authorize(ctx: NodeContext) -> None:
    token = ctx.settings.status_token
    if token:
        given = request.args.get("token") or request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise Forbidden("the status page needs the configured status token")
        return
    if not ip_address(request.remote_addr or "0.0.0.0").is_loopback:
        raise Forbidden("the status page is open to loopback clients only (configure status_token)")


def status_blueprint(ctx: NodeContext) -> Blueprint:
    blueprint = Blueprint("status", __name__, template_folder="templates")

    @blueprint.get("/status")
    def status() -> Response:
        _authorize(ctx)
        now = datetime.now(UTC)
        registry = ctx.registry
        with ctx.sessions() as session:
            per_api = counts_by_api_and_status(session, now - timedelta(days=1))
            bars = activity_bars(daily_counts(session, now - timedelta(days=CHART_DAYS)), now.date())
            recent = recent_exchanges(session, 20)
        errors = sum(count for _, _, status, count in per_api if status >= 400)
        total = sum(count for *_, count in per_api)
        html = render_template(
            "status.html", settings=ctx.settings, now=now, per_api=per_api, bars=bars, recent=recent,
            total=total, errors=errors,
            registry_refresh=getattr(registry, "last_refresh", None),
            registry_error=getattr(registry, "last_error", None),
            server_key_id=ctx.server_key.key_id, client_key_id=ctx.client_key.key_id,
        )
        return Response(html, content_type="text/html; charset=utf-8")

    return blueprint

"""``/status``: is the node healthy, who talks to us, how much, and does it work (indicators)?

The page needs the configured ``status_token`` in an ``Authorization: Bearer <token>`` header, whatever the
client's address (behind a reverse proxy every client looks local), and is closed when no token is set. Wrong
tokens are bounded per process (:data:`GUESSES_PER_MINUTE`, then 429); nothing is cached. On the node's own
machine ``ewp-node status HOME`` prints the same summary as text.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Blueprint, Response, render_template, request

from ewp_node.context import NodeContext
from ewp_node.errors import Forbidden, build_error_response
from ewp_node.ratelimit import TokenBucket
from ewp_node.responses import xml_response
from ewp_node.store.audit import AuditEntry, counts_by_api_and_status, daily_counts, recent_exchanges
from ewp_node.web.charts import BarChart, bar_chart

#: Days shown in the activity chart.
CHART_DAYS = 14
#: Wrong tokens accepted per minute and process (at most :data:`GUESS_BURST` at once); past that every
#: request gets 429 until the bucket refills, the right token included.
GUESSES_PER_MINUTE = 10
GUESS_BURST = 10


def activity_bars(rows: list[tuple[str, str, int]], today: date) -> BarChart:
    """Turn ``(day, direction, count)`` rows into one bar pair (in, out) per day of the last :data:`CHART_DAYS`."""
    days = [(today - timedelta(days=CHART_DAYS - 1 - i)).isoformat() for i in range(CHART_DAYS)]
    return bar_chart(days, {d: n for d, direction, n in rows if direction == "in"},
                     {d: n for d, direction, n in rows if direction == "out"})


@dataclass(frozen=True)
class StatusSummary:
    """What the page and ``ewp-node status`` show."""

    now: datetime
    per_api: list[tuple[str, str, int, int]]
    bars: BarChart
    recent: list[AuditEntry]
    total: int
    errors: int
    registry_refresh: datetime | None
    registry_error: str | None


def summarize(ctx: NodeContext, now: datetime) -> StatusSummary:
    with ctx.sessions() as session:
        per_api = counts_by_api_and_status(session, now - timedelta(days=1))
        bars = activity_bars(daily_counts(session, now - timedelta(days=CHART_DAYS)), now.date())
        recent = recent_exchanges(session, 20)
    return StatusSummary(
        now=now, per_api=per_api, bars=bars, recent=recent, total=sum(count for *_, count in per_api),
        errors=sum(count for _, _, status, count in per_api if status >= 400),
        registry_refresh=ctx.registry.last_refresh, registry_error=ctx.registry.last_error)


def summary_text(ctx: NodeContext, summary: StatusSummary) -> str:
    """The summary as plain text, for the operator's terminal."""
    lines = [f"ewp-node {', '.join(h.id for h in ctx.settings.heis)} at {ctx.settings.base_url}, "
             f"{summary.now:%Y-%m-%d %H:%M} UTC",
             f"last 24 h: {summary.total} exchanges, {summary.errors} errors (4xx/5xx)"]
    lines += [f"  {api} {direction} {status}: {count}" for api, direction, status, count in summary.per_api]
    lines.append("latest exchanges:" if summary.recent else "no exchanges yet")
    lines += [f"  {e.at:%m-%d %H:%M:%S} {e.direction.value} {e.api} {e.partner_hei or '-'} {e.status} "
              f"{e.duration_ms} ms {e.request_id or ''}".rstrip() for e in summary.recent]
    lines.append(f"client key {ctx.client_key.key_id}, server key {ctx.server_key.key_id}")
    return "\n".join(lines)


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _refusal(message: str, status: int, headers: dict[str, str]) -> Response:
    response = xml_response(build_error_response(message), status)
    response.headers.update(headers)
    return response


def _authorize(ctx: NodeContext, guesses: TokenBucket) -> Response | None:
    """None when the request carries the status token, else the refusal to send."""
    token = ctx.settings.status_token
    if not token:
        raise Forbidden("the status page is closed: set status_token in the node's configuration "
                        "(or run 'ewp-node status HOME' on the node's machine)")
    wait = guesses.seconds_until_next()
    if wait > 0:
        return _refusal("too many wrong status tokens: retry later", 429, {"Retry-After": str(math.ceil(wait))})
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    # Compare digests: constant time, and the token's length is not revealed either.
    if scheme.lower() == "bearer" and hmac.compare_digest(_digest(given.strip()), _digest(token)):
        return None
    guesses.take()
    return _refusal("the status page needs the status token in an 'Authorization: Bearer' header", 401,
                    {"WWW-Authenticate": 'Bearer realm="ewp-node status"'})


def status_blueprint(ctx: NodeContext) -> Blueprint:
    blueprint = Blueprint("status", __name__, template_folder="templates")
    guesses = TokenBucket(GUESSES_PER_MINUTE / 60, GUESS_BURST)

    @blueprint.get("/status")
    def status() -> Response:
        refusal = _authorize(ctx, guesses)
        if refusal is not None:
            return refusal
        summary = summarize(ctx, datetime.now(UTC))
        values: dict[str, Any] = {f.name: getattr(summary, f.name) for f in fields(summary)}
        html = render_template("status.html", settings=ctx.settings, server_key_id=ctx.server_key.key_id,
                               client_key_id=ctx.client_key.key_id, **values)
        return Response(html, content_type="text/html; charset=utf-8")

    @blueprint.after_request
    def no_store(response: Response) -> Response:
        response.headers["Cache-Control"] = "no-store"
        return response

    return blueprint

"""``/office/notifications``: the outbox (pending, retrying, failed, given up) with retry and send-now."""

from __future__ import annotations

import logging

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ewp_node.cnr.outbox import OutboxState, count_by_state, list_entries, make_due_now, retry
from ewp_node.context import NodeContext
from ewp_node.web.office.auth import officer_only, record

log = logging.getLogger("ewp_node.office")


def install(blueprint: Blueprint, ctx: NodeContext) -> None:
    @blueprint.get("/notifications")
    def notifications() -> str:
        wanted = request.args.get("state", "")
        states = [s for s in OutboxState if s.value == wanted]
        with ctx.sessions() as session:
            entries = list_entries(session, states=states, limit=200)
            counts = count_by_state(session)
        return render_template("office/notifications.html", entries=entries, counts=counts, wanted=wanted,
                               states=list(OutboxState), done=request.args.get("done"))

    @blueprint.post("/notifications/<int:row_id>/retry")
    @officer_only
    def retry_notification(row_id: int) -> Response:
        with ctx.sessions.begin() as session:
            changed = retry(session, row_id)
        record(ctx, "retry notification", f"#{row_id}", "pending again" if changed else "nothing to retry")
        return redirect(url_for("office.notifications", done="retry" if changed else "none"))

    @blueprint.post("/notifications/send-now")
    @officer_only
    def send_now() -> Response:
        with ctx.sessions.begin() as session:
            count = make_due_now(session)
        record(ctx, "send notifications now", "outbox", f"{count} brought forward")
        return redirect(url_for("office.notifications", done=f"{count}"))

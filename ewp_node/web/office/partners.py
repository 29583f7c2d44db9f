"""``/office/partners``: who we talk to, what the registry says they serve, and a "check partner" button."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ewp_node.context import NodeContext
from ewp_node.office.exchanges import partner_activity
from ewp_node.office.partners import check_partner, partner_view
from ewp_node.registry.fetch import RegistryUnavailable
from ewp_node.web.office.auth import officer_only, record

log = logging.getLogger("ewp_node.office")


def install(blueprint: Blueprint, ctx: NodeContext) -> None:
    @blueprint.get("/partners")
    def partners() -> Response | str:
        asked = request.args.get("hei", "").strip().lower()
        if asked:
            return redirect(url_for("office.partner", hei_id=asked[:255]))
        with ctx.sessions() as session:
            activity = partner_activity(session, datetime.now(UTC) - timedelta(days=30))
        return render_template("office/partners.html", activity=activity)

    @blueprint.get("/partners/<hei_id>")
    def partner(hei_id: str) -> str:
        try:
            view = partner_view(ctx.registry.index, hei_id)
        except RegistryUnavailable:
            view = None
        return render_template("office/partner.html", hei_id=hei_id, view=view, check=None)

    @blueprint.post("/partners/<hei_id>/check")
    @officer_only
    def check(hei_id: str) -> str:
        result = check_partner(ctx, hei_id)
        record(ctx, "check partner", hei_id, result.summary)
        try:
            view = partner_view(ctx.registry.index, hei_id)
        except RegistryUnavailable:
            view = None
        return render_template("office/partner.html", hei_id=hei_id, view=view, check=result)

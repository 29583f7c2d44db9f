"""``/office/``: the console's front page: today's tiles and a link to every area."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Blueprint, render_template

from ewp_node.context import NodeContext
from ewp_node.office.actions import recent_actions
from ewp_node.store.audit import counts_by_api_and_status


def install(blueprint: Blueprint, ctx: NodeContext) -> None:
    @blueprint.get("/", strict_slashes=False)  # "/office" too, never a redirect to the client's Host
    def home() -> str:
        now = datetime.now(UTC)
        with ctx.sessions() as session:
            per_api = counts_by_api_and_status(session, now - timedelta(days=1))
            actions = recent_actions(session)
        registry = ctx.registry
        return render_template(
            "office/home.html", settings=ctx.settings,
            total=sum(count for *_, count in per_api),
            errors=sum(count for _, _, status, count in per_api if status >= 400),
            registry_error=registry.last_error, actions=actions,
        )

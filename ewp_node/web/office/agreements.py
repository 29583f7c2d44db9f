"""``/office/agreements``: IIAs per partner with where each stands, the field-by-field differences with the
partner's copy, what either copy lacks, the PDF, and the officer's approve / fetch-again buttons."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, render_template, request

from ewp_node.context import NodeContext
from ewp_node.iias import repository as repo
from ewp_node.iias.approvals import approve
from ewp_node.iias.completeness import check
from ewp_node.iias.diff import compare
from ewp_node.iias.service import IiaChangeRefused
from ewp_node.web.office.auth import current, officer_only, record

log = logging.getLogger("ewp_node.office")


def _scope(ctx: NodeContext) -> list[str]:
    return sorted(current().hei_ids or ctx.settings.hei_ids)


def install(blueprint: Blueprint, ctx: NodeContext) -> None:
    @blueprint.get("/agreements")
    def agreements() -> str:
        partner = request.args.get("partner", "").strip().lower() or None
        with ctx.sessions() as session:
            rows = [(hei_id, repo.state(session, row)) for hei_id in _scope(ctx)
                    for row in repo.our_copies(session, hei_id, partner_hei_id=partner)]
        by_partner: dict[str, list] = {}  # type: ignore[type-arg]
        for hei_id, state in rows:
            by_partner.setdefault(state.partner_hei_id, []).append((hei_id, state))
        return render_template("office/agreements.html", by_partner=dict(sorted(by_partner.items())),
                               partner=partner)

    def _page(hei_id: str, iia_id: str, outcome: tuple[bool, str] | None = None, status: int = 200
              ) -> tuple[str, int]:
        if hei_id not in _scope(ctx):
            abort(404)
        with ctx.sessions() as session:
            row = repo.find(session, hei_id, iia_id)
            both = repo.copies(session, hei_id, iia_id)
            if row is None or both is None:
                abort(404)
            state = repo.state(session, row)
        return render_template(
            "office/agreement.html", hei_id=hei_id, state=state, ours=both.ours, theirs=both.theirs,
            our_gaps=check(both.ours), their_gaps=check(both.theirs) if both.theirs else (),
            differences=compare(both.ours, both.theirs) if both.theirs else (), problems=both.problems,
            outcome=outcome, pdf_url=ctx.settings.url(f"ewp/file?file_id={both.ours.pdf_file}", hei_id)
            if both.ours.pdf_file else None), status

    @blueprint.get("/agreements/<hei_id>/<path:iia_id>")
    def agreement(hei_id: str, iia_id: str) -> tuple[str, int]:
        return _page(hei_id, iia_id)

    @blueprint.post("/agreements/<hei_id>/<path:iia_id>/approve")
    @officer_only
    def approve_agreement(hei_id: str, iia_id: str) -> tuple[str, int]:
        if hei_id not in _scope(ctx):
            abort(404)
        try:
            with ctx.sessions.begin() as session:
                approved = approve(session, hei_id=hei_id, iia_id=iia_id, by=current().name)
        except IiaChangeRefused as exc:
            record(ctx, "approve IIA", f"{hei_id} {iia_id}", f"refused: {exc}")
            return _page(hei_id, iia_id, (False, f"Not approved: {exc}"), 409)
        record(ctx, "approve IIA", f"{hei_id} {iia_id}", f"approved hash {approved}")
        return _page(hei_id, iia_id, (True, "Approved: the partner will be notified."))

"""``/office/mobilities``: the pipeline per academic year, each mobility's LA versions side by side, and the
officer's answers to a partner's nomination or LA proposal (sent through the partner's update endpoint)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import Blueprint, abort, render_template, request

from ewp_node.context import NodeContext
from ewp_node.mobilities.records import Direction, NominationStatus, ProposalState, Signature
from ewp_node.office.mobilities import STAGES, agreement, compare_versions, pipelines, stage, transcript
from ewp_node.office.student import StudentLinks, console_secret
from ewp_node.web.office.auth import current, officer_only, record

log = logging.getLogger("ewp_node.office")


def _scope(ctx: NodeContext) -> frozenset[str]:
    """The covered HEIs the logged-in account works for."""
    return frozenset(current().hei_ids) or ctx.settings.hei_ids


def install(blueprint: Blueprint, ctx: NodeContext) -> None:
    links = StudentLinks(console_secret(ctx.settings.home))

    @blueprint.get("/mobilities")
    def mobilities() -> str:
        with ctx.sessions() as session:
            years = pipelines(session, _scope(ctx))
        return render_template("office/mobilities.html", years=years, stages=STAGES, stage=stage)

    def _page(sending_hei_id: str, omobility_id: str, outcome: tuple[bool, str] | None = None,
              status: int = 200) -> tuple[str, int]:
        with ctx.sessions() as session:
            la = agreement(session, sending_hei_id, omobility_id, _scope(ctx))
            tor = transcript(session, la) if la is not None else None
        if la is None:
            abort(404)
        incoming = la.mobility.direction is Direction.INCOMING
        link = (f"{ctx.settings.base_url}/office/student/{links.token(sending_hei_id, omobility_id)}"
                if incoming else None)
        return render_template("office/mobility.html", la=la, versions=compare_versions(la), stage=stage(la),
                               incoming=incoming, student_link=link, outcome=outcome, tor=tor,
                               nomination_pending=incoming and la.mobility.nomination.status
                               is NominationStatus.PENDING), status

    @blueprint.get("/mobilities/<sending_hei_id>/<path:omobility_id>")
    def mobility(sending_hei_id: str, omobility_id: str) -> tuple[str, int]:
        return _page(sending_hei_id, omobility_id)

    @blueprint.post("/mobilities/<sending_hei_id>/<path:omobility_id>/answer")
    @officer_only
    def answer(sending_hei_id: str, omobility_id: str) -> tuple[str, int]:
        from ewp_node.client import EwpClient, PartnerUnavailable
        from ewp_node.mobilities import partner
        from ewp_node.mobilities.service import MobilityError
        from ewp_node.security.errors import SecurityError

        what, decision = request.form.get("what"), request.form.get("decision")
        comment = (request.form.get("comment") or "").strip() or None
        if what not in ("nomination", "la") or decision not in ("approve", "reject") or (
                decision == "reject" and comment is None):
            return _page(sending_hei_id, omobility_id, (False, "Choose approve, or reject with a comment."), 400)
        account = current()
        client, scope = EwpClient(ctx), _scope(ctx)
        try:
            result: NominationStatus | ProposalState
            if what == "nomination":
                result = partner.decide_nomination(client, ctx.sessions, sending_hei_id, scope, omobility_id,
                                                   comment if decision == "reject" else None)
            else:
                signature = Signature(timestamp=datetime.now(UTC), signer_name=account.name,
                                      signer_position="International relations officer",
                                      signer_email=account.email or ctx.settings.admin_email, signer_app="ewp-node")
                result = partner.answer_proposal(client, ctx.sessions, sending_hei_id, scope, omobility_id, signature,
                                                 comment if decision == "reject" else None)
        except (PartnerUnavailable, SecurityError, MobilityError, ValueError) as exc:
            record(ctx, f"{decision} {what}", f"{sending_hei_id} {omobility_id}", f"refused: {exc}")
            return _page(sending_hei_id, omobility_id, (False, f"Nothing was changed: {exc}"), 409)
        record(ctx, f"{decision} {what}", f"{sending_hei_id} {omobility_id}", result.value)
        return _page(sending_hei_id, omobility_id, (True, f"Sent to {sending_hei_id}: {result.value}."))

"""Calls to partners about mobilities they send us: fetch their learning agreements (stored as received
beside what we parsed) and answer their changes proposals through their LA ``update`` endpoint.

A 409 from the partner means its proposal changed since we read it: our copy is refreshed and the caller is
told (:class:`service.StaleProposal`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from sqlalchemy.orm import Session, sessionmaker

from ewp_node.client import EwpClient, PartnerUnavailable
from ewp_node.mobilities import repository as repo
from ewp_node.mobilities import service
from ewp_node.mobilities.build import build_las_update_request
from ewp_node.mobilities.parse import InvalidDocument, LaDecision, parse_las_get
from ewp_node.mobilities.records import Direction, ProposalState, Signature
from ewp_node.responses import serialize

LAS_API = "omobility-las"


def fetch_las(client: EwpClient, sessions: sessionmaker[Session], partner_hei_id: str, our_heis: Collection[str],
              omobility_ids: Iterable[str]) -> int:
    """Fetch these learning agreements from the partner (sending HEI) and store them. :returns: how many.

    :raises PartnerUnavailable: no answer, or not a 200.
    :raises InvalidDocument: the answer is not an LA get response.
    """
    ids = list(omobility_ids)
    response = client.call(partner_hei_id, LAS_API, "get-url",
                           [("sending_hei_id", partner_hei_id)] + [("omobility_id", i) for i in ids])
    if response.status != 200:
        raise PartnerUnavailable(f"{partner_hei_id} answered HTTP {response.status} to an LA get")
    with sessions() as session:
        known = {m.omobility_id: m.nomination for m in repo.list_mobilities(session, our_heis)
                 if m.sending.hei_id == partner_hei_id}
    return service.receive_partner_las(sessions, partner_hei_id, our_heis, parse_las_get(response.body, known))


def answer_proposal(client: EwpClient, sessions: sessionmaker[Session], partner_hei_id: str,
                    our_heis: Collection[str], omobility_id: str, signature: Signature, comment: str | None = None
                    ) -> ProposalState:
    """Approve (``comment`` None) or comment the partner's pending proposal, then record it in our copy.

    :raises service.UnknownMobility: no copy of this LA, or no pending proposal in it.
    :raises service.StaleProposal: the partner answered 409 (our copy has been refreshed).
    :raises PartnerUnavailable: any other failure; our copy is unchanged.
    """
    with sessions() as session:
        found = repo.las_by_ids(session, {partner_hei_id}, our_heis, [omobility_id], Direction.INCOMING)
    la = found[0] if found else None
    if la is None or la.changes_proposal is None:
        raise service.UnknownMobility(f"no pending proposal of {partner_hei_id} for mobility {omobility_id!r}")
    decision = LaDecision(partner_hei_id, omobility_id, la.changes_proposal.proposal_id, signature, comment)
    body = serialize(build_las_update_request(partner_hei_id, omobility_id, decision.proposal_id, signature,
                                              comment=comment))
    response = client.call(partner_hei_id, LAS_API, "update-url", xml_body=body)
    if response.status == 409:
        fetch_las(client, sessions, partner_hei_id, our_heis, [omobility_id])
        raise service.StaleProposal(f"{partner_hei_id} has a newer proposal for {omobility_id!r}: our copy was "
                                    "refreshed, look at it again")
    if response.status != 200:
        raise PartnerUnavailable(f"{partner_hei_id} answered HTTP {response.status} to our LA update")
    return service.answer_la_proposal(sessions, {partner_hei_id}, our_heis, decision, Direction.INCOMING)


__all__ = ["InvalidDocument", "answer_proposal", "fetch_las"]

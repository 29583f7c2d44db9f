"""Two nodes: the receiving HEI fetches the sending HEI's learning agreements (signed, verified, stored as
received beside what was parsed) and answers its proposals through the LA update endpoint; a stale proposal
comes back as a 409 that refreshes the copy."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from ewp_node.mobilities import repository as repo
from ewp_node.mobilities import service
from ewp_node.mobilities.demo import demo_mobilities, load_demo_mobilities
from ewp_node.mobilities.models import PartnerCopy
from ewp_node.mobilities.partner import answer_proposal, fetch_las
from ewp_node.mobilities.records import Direction, LearningAgreement, ProposalState, Signature

A, B = "uni-a.example.eu", "uni-b.example.eu"
SIGNER = Signature(datetime(2026, 5, 9, 9, 0, tzinfo=UTC), "Bea Receiving", "Coordinator", "erasmus@uni-b.example.eu")


def _la(sessions, sending: str, receiving: str, omobility_id: str, direction: Direction) -> LearningAgreement:  # type: ignore[no-untyped-def]
    with sessions() as session:
        [la] = repo.las_by_ids(session, {sending}, {receiving}, [omobility_id], direction)
    return la


def test_fetch_approve_and_a_stale_proposal(make_pair) -> None:  # type: ignore[no-untyped-def]
    pair = make_pair()
    load_demo_mobilities(pair.a.sessions, A, B)
    outgoing = [(m, v) for m, v in demo_mobilities(A, B) if m.direction is Direction.OUTGOING]
    mobility, (proposal,) = outgoing[0]
    omobility_id = mobility.omobility_id
    client = pair.client(pair.b)

    assert fetch_las(client, pair.b.sessions, A, {B}, [m.omobility_id for m, _ in outgoing]) == 3
    copy = _la(pair.b.sessions, A, B, omobility_id, Direction.INCOMING)
    assert copy.changes_proposal is not None and copy.changes_proposal.proposal_id == proposal.proposal_id
    assert copy.changes_proposal.components == proposal.components and copy.mobility.student == mobility.student
    with pair.b.sessions() as session:
        raws = session.scalars(select(PartnerCopy.raw).where(PartnerCopy.omobility_id == omobility_id)).all()
    assert len(raws) == 1 and raws[0].startswith(b"<la") and proposal.proposal_id.encode() in raws[0]

    assert answer_proposal(client, pair.b.sessions, A, {B}, omobility_id, SIGNER) is ProposalState.APPROVED
    for sessions, direction in ((pair.a.sessions, Direction.OUTGOING), (pair.b.sessions, Direction.INCOMING)):
        la = _la(sessions, A, B, omobility_id, direction)
        assert la.first_version is not None and la.first_version.receiving_signature == SIGNER
        assert la.changes_proposal is None

    # A change during the mobility: the sending HEI proposes twice before the receiving HEI answers.
    service.propose_changes(pair.a.sessions, A, omobility_id, proposal.components[:1], proposal.student_signature,
                            proposal.sending_signature)
    fetch_las(client, pair.b.sessions, A, {B}, [omobility_id])
    newest = service.propose_changes(pair.a.sessions, A, omobility_id, proposal.components[1:],
                                     proposal.student_signature, proposal.sending_signature)
    with pytest.raises(service.StaleProposal, match="refreshed"):
        answer_proposal(client, pair.b.sessions, A, {B}, omobility_id, SIGNER)
    refreshed = _la(pair.b.sessions, A, B, omobility_id, Direction.INCOMING)
    assert refreshed.changes_proposal is not None and refreshed.changes_proposal.proposal_id == newest
    assert answer_proposal(client, pair.b.sessions, A, {B}, omobility_id, SIGNER, "one course is full") is \
        ProposalState.COMMENTED
    latest = _la(pair.a.sessions, A, B, omobility_id, Direction.OUTGOING).latest
    assert latest is not None and (latest.proposal_id, latest.comment) == (newest, "one course is full")
    with pytest.raises(service.UnknownMobility):  # nothing pending any more
        answer_proposal(client, pair.b.sessions, A, {B}, omobility_id, SIGNER)

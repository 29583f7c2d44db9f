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


class _RefreshingClient:
    """A client whose LA update is followed, before we record it, by a concurrent follow-up fetch (the
    worker handling the partner's CNR about that very approval)."""

    def __init__(self, client, sessions) -> None:  # type: ignore[no-untyped-def]
        self.client, self.sessions = client, sessions

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.client, name)

    def call(self, hei_id, api, endpoint="url", params=(), **kwargs):  # type: ignore[no-untyped-def]
        response = self.client.call(hei_id, api, endpoint, params, **kwargs)
        if endpoint == "update-url":
            with self.sessions() as session:
                ids = [m.omobility_id for m in repo.list_mobilities(session, {B}) if m.sending.hei_id == A]
            fetch_las(self.client, self.sessions, A, {B}, ids)
        return response


@pytest.mark.parametrize("comment", [None, "one course is full"])
def test_an_answer_raced_by_a_refresh_still_counts(make_pair, comment) -> None:  # type: ignore[no-untyped-def]
    pair = make_pair()
    load_demo_mobilities(pair.a.sessions, A, B)
    mobility, (proposal,) = next((m, v) for m, v in demo_mobilities(A, B) if v and v[0].state is ProposalState.PENDING)
    client = pair.client(pair.b)
    fetch_las(client, pair.b.sessions, A, {B}, [mobility.omobility_id])
    racing = _RefreshingClient(client, pair.b.sessions)
    expected = ProposalState.APPROVED if comment is None else ProposalState.COMMENTED
    assert answer_proposal(racing, pair.b.sessions, A, {B}, mobility.omobility_id, SIGNER, comment) is expected
    ours = _la(pair.b.sessions, A, B, mobility.omobility_id, Direction.INCOMING)
    assert ours.changes_proposal is None  # not left pending
    assert (ours.first_version is not None) == (comment is None)
    assert _la(pair.a.sessions, A, B, mobility.omobility_id, Direction.OUTGOING).latest.state is expected  # type: ignore[union-attr]

"""The whole exchange between two nodes, CNRs through both outboxes and follow-up fetches run by the workers:
nomination -> approval; LA proposal -> comment -> new proposal -> approval; a change during the mobility with a
stale proposal (409, our copy refreshed) -> approval; a CNR lost on the way caught by a re-sync; the receiving
HEI's arrival date reaching the sending HEI. Both nodes' stored state is checked at each step."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete

from ewp_node.cnr.outbox import OutboxRow, OutboxState
from ewp_node.cnr.senders import SendServices, load_sender_modules
from ewp_node.cnr.worker import AttemptAudit, OutboxWorker
from ewp_node.mobilities import repository as repo
from ewp_node.mobilities import service
from ewp_node.mobilities.demo import demo_mobilities
from ewp_node.mobilities.importer import FORMAT, export_record, import_mobilities
from ewp_node.mobilities.partner import answer_proposal, decide_nomination, fetch_las, incoming_ids
from ewp_node.mobilities.records import (
    Direction,
    LearningAgreement,
    Mobility,
    NominationStatus,
    ProposalState,
    Signature,
)

A, B = "uni-a.example.eu", "uni-b.example.eu"
SIGNER = Signature(datetime(2026, 6, 9, 9, 0, tzinfo=UTC), "Bea Receiving", "Coordinator", "erasmus@uni-b.example.eu")


class Exchange:
    """Node A sends the student, node B receives; :meth:`settle` runs both workers until nothing is due."""

    def __init__(self, pair) -> None:  # type: ignore[no-untyped-def]
        load_sender_modules()
        self.pair, self.client_b = pair, pair.client(pair.b)
        self.workers = [OutboxWorker(ctx.sessions, SendServices(pair.client(ctx), ctx.sessions, ctx.settings),
                                     AttemptAudit(ctx.audit.record)) for ctx in (pair.a, pair.b)]

    def settle(self) -> None:
        for _ in range(4):
            if sum(worker.drain() for worker in self.workers) == 0:
                return
        pytest.fail("the outboxes did not settle")

    def la(self, ctx, omobility_id: str) -> LearningAgreement:  # type: ignore[no-untyped-def]
        direction = Direction.OUTGOING if ctx is self.pair.a else Direction.INCOMING
        with ctx.sessions() as session:
            [la] = repo.las_by_ids(session, {A}, {B}, [omobility_id], direction)
        return la

    def mobility(self, ctx, omobility_id: str) -> Mobility:  # type: ignore[no-untyped-def]
        with ctx.sessions() as session:
            [found] = [m for m in repo.list_mobilities(session, ctx.settings.hei_ids) if m.omobility_id == omobility_id]
        return found


def test_the_whole_exchange(make_pair) -> None:  # type: ignore[no-untyped-def]
    pair = make_pair()
    x = Exchange(pair)
    template, (proposal,) = next((m, v) for m, v in demo_mobilities(A, B) if v and v[0].state is ProposalState.PENDING)
    record = {**export_record(template), "omobility_id": "m-2026-1"}
    mid = "m-2026-1"

    # Nomination: imported at A, notified, fetched by B; B approves through A's update endpoint.
    assert import_mobilities(pair.a.sessions, {"format": FORMAT, "mobilities": [record]}, {A}, "sis").changed == 1
    x.settle()
    theirs = x.mobility(pair.b, mid)
    assert theirs.direction is Direction.INCOMING and theirs.nomination.status is NominationStatus.PENDING
    assert theirs.student == template.student and theirs.nomination.proposal_id == \
        x.mobility(pair.a, mid).nomination.proposal_id
    assert decide_nomination(x.client_b, pair.b.sessions, A, {B}, mid) is NominationStatus.APPROVED
    assert x.mobility(pair.a, mid).nomination.status is NominationStatus.APPROVED
    x.settle()
    assert x.mobility(pair.b, mid).nomination.status is NominationStatus.APPROVED

    # LA: proposal -> comment -> new proposal -> approval.
    def propose(components=proposal.components) -> str:  # type: ignore[no-untyped-def]
        return service.propose_changes(pair.a.sessions, A, mid, components, proposal.student_signature,
                                       proposal.sending_signature)

    first = propose()
    x.settle()
    assert x.la(pair.b, mid).changes_proposal.proposal_id == first  # type: ignore[union-attr]
    assert answer_proposal(x.client_b, pair.b.sessions, A, {B}, mid, SIGNER, "add a course") is \
        ProposalState.COMMENTED
    assert x.la(pair.a, mid).latest.comment == "add a course"  # type: ignore[union-attr]
    second = propose()
    x.settle()
    assert answer_proposal(x.client_b, pair.b.sessions, A, {B}, mid, SIGNER) is ProposalState.APPROVED
    x.settle()
    for ctx in (pair.a, pair.b):
        la = x.la(ctx, mid)
        assert la.first_version is not None and la.changes_proposal is None
        assert la.first_version.receiving_signature == SIGNER and la.first_version.components == proposal.components
    assert x.la(pair.a, mid).first_version.proposal_id == second  # type: ignore[union-attr]
    # The LA carries no nomination, term nor activity attributes: B's copy keeps what A's nomination said.
    ours, theirs = x.mobility(pair.a, mid), x.mobility(pair.b, mid)
    assert (theirs.nomination, theirs.sending_term_id, theirs.activity_attributes, theirs.agreement_isced_code) == \
        (ours.nomination, ours.sending_term_id, ours.activity_attributes, ours.agreement_isced_code)

    # A change during the mobility: A proposes twice; B answers the older one -> 409, copy refreshed, approve.
    propose(proposal.components[:1])
    x.settle()
    newest = propose(proposal.components[1:])
    with pytest.raises(service.StaleProposal, match="refreshed"):
        answer_proposal(x.client_b, pair.b.sessions, A, {B}, mid, SIGNER)
    assert x.la(pair.b, mid).changes_proposal.components == proposal.components[1:]  # type: ignore[union-attr]
    assert answer_proposal(x.client_b, pair.b.sessions, A, {B}, mid, SIGNER) is ProposalState.APPROVED
    x.settle()
    approved = x.la(pair.a, mid).approved_changes
    assert approved is not None and approved.proposal_id == newest
    assert x.la(pair.b, mid).approved_changes.components == proposal.components[1:]  # type: ignore[union-attr]

    # A CNR lost on the way: B hears nothing, a re-sync of everything A sends it catches the change.
    lost = propose(proposal.components)
    with pair.a.sessions.begin() as session:
        assert session.execute(delete(OutboxRow).where(OutboxRow.state == OutboxState.PENDING)).rowcount == 1
    x.settle()
    assert x.la(pair.b, mid).changes_proposal is None
    assert fetch_las(x.client_b, pair.b.sessions, A, {B}, incoming_ids(pair.b.sessions, A, {B})) == 1
    assert x.la(pair.b, mid).changes_proposal.proposal_id == lost  # type: ignore[union-attr]

    # B tells A the student arrived: imported at B, notified, fetched by A.
    arrival = {**export_record(x.mobility(pair.b, mid)), "actual_arrival": "2026-09-02"}
    assert import_mobilities(pair.b.sessions, {"format": FORMAT, "mobilities": [arrival]}, {B}, "sis").changed == 1
    x.settle()
    assert x.mobility(pair.a, mid).actual_arrival == date(2026, 9, 2)
    assert x.mobility(pair.b, mid).nomination == x.mobility(pair.a, mid).nomination

"""The mobility store on SQLite and PostgreSQL: records round-trip, changes are all or nothing, the LA's
versions move from proposal to first version to approved changes, stats count them, CNRs and partner copies
are kept."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import select

from ewp_node.cnr.outbox import OutboxRow
from ewp_node.mobilities import repository as repo
from ewp_node.mobilities import service
from ewp_node.mobilities.build import build_las_get
from ewp_node.mobilities.demo import demo_mobilities, load_demo_mobilities
from ewp_node.mobilities.models import PartnerCopy
from ewp_node.mobilities.parse import LaDecision, NominationDecision, parse_las_get
from ewp_node.mobilities.records import (
    Direction,
    LearningAgreement,
    NominationStatus,
    ProposalState,
    Signature,
)
from ewp_node.responses import serialize
from ewp_node.store.db import alembic_config, session_factory, upgrade_database

from .conftest import HEI, PARTNER_HEI, outgoing_with

SIGNER = Signature(datetime(2026, 5, 9, 9, 0, tzinfo=UTC), "Piotr Zieliński", "Coordinator", "p@partner.example.eu")


@pytest.fixture
def sessions(store_engine):  # type: ignore[no-untyped-def]
    upgrade_database(store_engine)
    command.check(alembic_config(store_engine))  # models and migration 0006 agree
    sessions = session_factory(store_engine)
    assert load_demo_mobilities(sessions, HEI, PARTNER_HEI) == 5
    return sessions


def _queued(sessions) -> list[tuple[str, str, str, str]]:  # type: ignore[no-untyped-def]
    """The pending outbox rows: (kind, our HEI, partner HEI, omobility id)."""
    with sessions() as session:
        rows = session.scalars(select(OutboxRow).order_by(OutboxRow.id)).all()
    return [(r.kind, r.owner_hei, r.partner_hei, r.object_id) for r in rows]


def _la(sessions, omobility_id: str) -> LearningAgreement:  # type: ignore[no-untyped-def]
    with sessions() as session:
        [la] = repo.las_by_ids(session, {HEI}, {PARTNER_HEI}, [omobility_id])
    return la


def test_records_round_trip_and_saving_again_changes_nothing(sessions) -> None:  # type: ignore[no-untyped-def]
    expected = demo_mobilities(HEI, PARTNER_HEI)
    with sessions() as session:
        stored = {m.omobility_id: m for m in repo.list_mobilities(session, {HEI})}
        for mobility, versions in expected:
            assert replace(stored[mobility.omobility_id], modified_at=None) == mobility
            if versions:
                [la] = repo.las_by_ids(session, {HEI}, {PARTNER_HEI}, [mobility.omobility_id])
                assert la.versions == versions
    assert load_demo_mobilities(sessions, HEI, PARTNER_HEI) == 0


def test_a_changed_nomination_is_pending_again_under_a_new_proposal(sessions) -> None:  # type: ignore[no-untyped-def]
    mobility, _ = outgoing_with(ProposalState.APPROVED)
    with sessions.begin() as session:
        assert service.save_mobility(session, replace(mobility, eqf_level=7))
    with sessions() as session:
        [stored] = repo.outgoing_by_ids(session, {HEI}, {PARTNER_HEI}, [mobility.omobility_id])
    assert stored.nomination.status is NominationStatus.PENDING
    assert stored.nomination.proposal_id != mobility.nomination.proposal_id
    assert _queued(sessions) == []  # save_mobility alone tells nobody; save_our_mobility does
    with sessions.begin() as session:
        assert service.save_our_mobility(session, replace(mobility, eqf_level=8))
        assert not service.save_our_mobility(session, replace(mobility, eqf_level=8))
    incoming = next(m for m, _ in demo_mobilities(HEI, PARTNER_HEI) if m.direction is Direction.INCOMING)
    with sessions.begin() as session:
        assert service.save_our_mobility(session, replace(incoming, actual_arrival=datetime(2026, 9, 2).date()))
    assert _queued(sessions) == [("omobility-cnr", HEI, PARTNER_HEI, mobility.omobility_id),
                                 ("imobility-cnr", HEI, PARTNER_HEI, incoming.omobility_id)]


def test_nomination_decisions(sessions) -> None:  # type: ignore[no-untyped-def]
    mobility, _ = outgoing_with(ProposalState.PENDING)
    key = mobility.omobility_id, mobility.nomination.proposal_id
    with pytest.raises(service.StaleProposal):
        service.decide_nomination(sessions, {HEI}, {PARTNER_HEI}, NominationDecision(key[0], "old"))
    with pytest.raises(service.UnknownMobility):
        service.decide_nomination(sessions, {HEI}, {"other.example.eu"}, NominationDecision(*key))
    assert service.decide_nomination(sessions, {HEI}, {PARTNER_HEI}, NominationDecision(*key, "full")) is \
        NominationStatus.REJECTED
    assert service.decide_nomination(sessions, {HEI}, {PARTNER_HEI}, NominationDecision(*key)) is \
        NominationStatus.APPROVED
    with sessions() as session:
        [stored] = repo.outgoing_by_ids(session, {HEI}, {PARTNER_HEI}, [key[0]])
    assert (stored.nomination.status, stored.nomination.comment) == (NominationStatus.APPROVED, None)
    assert _queued(sessions) == [("omobility-cnr", HEI, PARTNER_HEI, key[0])]  # merged while pending


def test_learning_agreement_life(sessions) -> None:  # type: ignore[no-untyped-def]
    mobility, (proposal,) = outgoing_with(ProposalState.PENDING)
    omobility_id = mobility.omobility_id

    def answer(proposal_id: str, comment: str | None = None) -> ProposalState:
        return service.answer_la_proposal(sessions, {HEI}, {PARTNER_HEI},
                                          LaDecision(HEI, omobility_id, proposal_id, SIGNER, comment))

    before = _la(sessions, omobility_id)
    for wrong in (LaDecision(HEI, omobility_id, "stale", SIGNER), LaDecision("x.example.eu", omobility_id,
                                                                             proposal.proposal_id, SIGNER)):
        with pytest.raises((service.StaleProposal, service.UnknownMobility)):
            service.answer_la_proposal(sessions, {HEI}, {PARTNER_HEI}, wrong)
    assert _la(sessions, omobility_id) == before and _queued(sessions) == []  # refused: nothing changed

    assert answer(proposal.proposal_id, "add a course") is ProposalState.COMMENTED
    la = _la(sessions, omobility_id)
    assert la.changes_proposal is None and la.first_version is None and la.latest is not None
    assert (la.latest.comment, la.latest.receiving_signature) == ("add a course", SIGNER)

    second = service.propose_changes(sessions, HEI, omobility_id, proposal.components[:1], proposal.student_signature,
                                     proposal.sending_signature)
    third = service.propose_changes(sessions, HEI, omobility_id, proposal.components, proposal.student_signature,
                                    proposal.sending_signature)
    with pytest.raises(service.StaleProposal):
        answer(second)  # superseded by the third before any answer
    assert answer(third) is ProposalState.APPROVED
    la = _la(sessions, omobility_id)
    assert la.first_version is not None and la.first_version.proposal_id == third
    assert la.first_version.receiving_signature == SIGNER and la.changes_proposal is None

    fourth = service.propose_changes(sessions, HEI, omobility_id, proposal.components[1:], proposal.student_signature,
                                     proposal.sending_signature)
    assert _la(sessions, omobility_id).changes_proposal.proposal_id == fourth  # type: ignore[union-attr]
    assert answer(fourth) is ProposalState.APPROVED
    la = _la(sessions, omobility_id)
    assert la.approved_changes is not None and la.approved_changes.components == proposal.components[1:]
    assert la.first_version.proposal_id == third  # type: ignore[union-attr]
    assert _queued(sessions) == [("omobility-la-cnr", HEI, PARTNER_HEI, omobility_id)]  # one row, merged

    with sessions() as session:
        [stats] = repo.la_stats(session, {HEI}, Direction.OUTGOING)
    # demo: one other LA awaiting, one approved once; this one approved and modified after approval.
    assert (stats.receiving_academic_year_id, stats.total, stats.not_modified_after_approval,
            stats.modified_after_approval, stats.latest_approved, stats.latest_rejected,
            stats.latest_awaiting) == ("2026/2027", 3, 1, 1, 2, 0, 1)


def test_partner_copies_are_kept_beside_what_was_parsed(sessions) -> None:  # type: ignore[no-untyped-def]
    # The partner's own outgoing LAs (incoming for us): stored as parsed, beside the element as received.
    mobility, versions = outgoing_with(ProposalState.APPROVED)
    theirs = replace(mobility, omobility_id="their-1", sending=replace(mobility.sending, hei_id=PARTNER_HEI),
                     receiving=replace(mobility.receiving, hei_id=HEI))
    document = serialize(build_las_get([LearningAgreement(theirs, versions),
                                        LearningAgreement(replace(theirs, omobility_id="not-to-us",
                                                                  receiving=theirs.sending), versions)]))
    received = parse_las_get(document, {})
    assert service.receive_partner_las(sessions, PARTNER_HEI, {HEI}, received) == 1
    with sessions() as session:
        [copy] = session.scalars(select(PartnerCopy)).all()
        [stored] = [m for m in repo.list_mobilities(session, {HEI}) if m.omobility_id == "their-1"]
    assert copy.raw == received[0][1] and (copy.document, copy.partner_hei_id) == ("la", PARTNER_HEI)
    assert stored.direction is Direction.INCOMING and stored.student == theirs.student
    with sessions() as session:
        [incoming] = repo.la_stats(session, {HEI}, Direction.INCOMING)
    assert (incoming.total, incoming.some_version_approved, incoming.latest_approved, incoming.latest_awaiting) == \
        (1, 1, 1, 0)

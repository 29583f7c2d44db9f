"""What changes mobilities and learning agreements: each function is one transaction, all or nothing.

Partners' decisions (nomination approve/reject, LA approve/comment) are checked against the current
proposal under a row lock: a stale proposal id is :class:`StaleProposal` (409), a mobility the caller is not
the receiving HEI of is :class:`UnknownMobility` (400), and either leaves the store unchanged.

Every change the partner must hear about queues its CNR in the outbox in the same transaction: a changed
nomination or the partner's decision on it (OMobility CNR), a new LA proposal or the partner's answer to it
(OMobility LA CNR), our changed facts about a student we receive (IMobility CNR).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ewp_node.cnr import enqueue
from ewp_node.mobilities import repository as repo
from ewp_node.mobilities.models import MobilityRow, PartnerCopy
from ewp_node.mobilities.parse import ArrivalFacts, LaDecision, NominationDecision
from ewp_node.mobilities.records import (
    Component,
    Direction,
    Document,
    LaVersion,
    LearningAgreement,
    Mobility,
    NominationStatus,
    Party,
    ProposalState,
    Signature,
)

#: Outbox kinds of the CNRs we send (the partner's CNR API names, ewp_node.client.cnr).
NOMINATION_CNR = "omobility-cnr"
LA_CNR = "omobility-la-cnr"
ARRIVAL_CNR = "imobility-cnr"


class MobilityError(Exception):
    """A change that cannot be made; nothing was written."""


class UnknownMobility(MobilityError):
    """No such mobility, or the caller is not its partner."""


class StaleProposal(MobilityError):
    """The proposal named is not the current one."""


def _notify(session: Session, kind: str, row: MobilityRow) -> None:
    """Queue the CNR ``kind`` about ``row`` to the partner HEI (in the caller's transaction)."""
    ours, partner = ((row.receiving_hei_id, row.sending_hei_id) if kind == ARRIVAL_CNR
                     else (row.sending_hei_id, row.receiving_hei_id))
    enqueue(session, kind, owner_hei=ours, partner_hei=partner, object_ids=[row.omobility_id])


def new_proposal_id() -> str:
    return str(uuid.uuid4())


def _now() -> datetime:
    return datetime.now(UTC)


def _partner_mobility(session: Session, sending_hei_id: str, omobility_id: str, receiving_heis: Collection[str],
                      direction: Direction = Direction.OUTGOING) -> MobilityRow:
    row = repo.find(session, sending_hei_id, omobility_id, lock=True)
    if row is None or row.direction != direction.value or row.receiving_hei_id not in receiving_heis:
        raise UnknownMobility(f"no {direction.value} mobility {omobility_id!r} of {sending_hei_id} with the "
                              f"{'calling HEI' if direction is Direction.OUTGOING else 'HEI'} as receiving HEI")
    return row


def _sending_hei_of(session: Session, sending_heis: Collection[str], omobility_id: str, direction: Direction) -> str:
    """The HEI among ``sending_heis`` that sends mobility ``omobility_id`` (OMobilities v3 updates do not name
    it)."""
    found = session.scalars(select(MobilityRow.sending_hei_id).where(
        MobilityRow.omobility_id == omobility_id, MobilityRow.sending_hei_id.in_(sending_heis),
        MobilityRow.direction == direction.value)).all()
    if len(found) != 1:
        raise UnknownMobility(f"no {direction.value} mobility {omobility_id!r}")
    return found[0]


def decide_nomination(sessions: sessionmaker[Session], sending_heis: Collection[str],
                      receiving_heis: Collection[str], decision: NominationDecision,
                      direction: Direction = Direction.OUTGOING) -> NominationStatus:
    """The receiving HEI approves or rejects the current nomination proposal; the last word counts.

    ``direction``: outgoing when a partner decides on our nomination (its CNR is queued), incoming when we
    record, in our copy, the decision we gave on a partner's nomination."""
    with sessions.begin() as session:
        sending_hei_id = _sending_hei_of(session, sending_heis, decision.omobility_id, direction)
        row = _partner_mobility(session, sending_hei_id, decision.omobility_id, receiving_heis, direction)
        if row.nomination_proposal_id != decision.proposal_id:
            raise StaleProposal(f"proposal {decision.proposal_id!r} is not the current nomination of "
                                f"{decision.omobility_id!r}")
        if row.nomination_status == NominationStatus.CANCELLED.value:
            raise StaleProposal(f"the nomination {decision.omobility_id!r} was cancelled")
        status = NominationStatus.APPROVED if decision.reject_comment is None else NominationStatus.REJECTED
        row.nomination_status = status.value
        row.nomination_comment = decision.reject_comment
        row.modified_at = _now()
        if direction is Direction.OUTGOING:
            _notify(session, NOMINATION_CNR, row)
        return status


def answer_la_proposal(sessions: sessionmaker[Session], sending_heis: Collection[str],
                       receiving_heis: Collection[str], decision: LaDecision,
                       direction: Direction = Direction.OUTGOING) -> ProposalState:
    """The receiving HEI approves or comments the pending changes proposal. An approval makes it the first
    version or the approved changes at once, carrying the receiving HEI's signature.

    ``direction``: outgoing when a partner answers our proposal, incoming when we record, in our copy, the
    answer we gave to a partner's proposal."""
    if decision.sending_hei_id not in sending_heis:
        raise UnknownMobility(f"sending-hei-id {decision.sending_hei_id!r} is not a HEI of this URL")
    with sessions.begin() as session:
        row = _partner_mobility(session, decision.sending_hei_id, decision.omobility_id, receiving_heis, direction)
        pending = next((v for v in row.versions if v.state == ProposalState.PENDING.value), None)
        if pending is None or pending.proposal_id != decision.proposal_id:
            raise StaleProposal(f"{decision.proposal_id!r} is not the current changes proposal of "
                                f"{decision.omobility_id!r}")
        state = ProposalState.APPROVED if decision.comment is None else ProposalState.COMMENTED
        pending.state = state.value
        pending.receiving_signature = repo.signature_data(decision.signature)
        pending.comment = decision.comment
        row.modified_at = _now()
        if direction is Direction.OUTGOING:
            _notify(session, LA_CNR, row)
        return state


def propose_changes(sessions: sessionmaker[Session], sending_hei_id: str, omobility_id: str,
                    components: Iterable[Component], student_signature: Signature, sending_signature: Signature
                    ) -> str:
    """The sending HEI puts a new LA version to the receiving HEI (a pending proposal it has not answered is
    superseded). :returns: the new proposal id."""
    with sessions.begin() as session:
        row = repo.find(session, sending_hei_id, omobility_id, lock=True)
        if row is None or row.direction != Direction.OUTGOING.value:
            raise UnknownMobility(f"no outgoing mobility {omobility_id!r} of {sending_hei_id}")
        for version in row.versions:
            if version.state == ProposalState.PENDING.value:
                version.state = ProposalState.SUPERSEDED.value
        proposal_id = new_proposal_id()
        seq = max((v.seq for v in row.versions), default=0) + 1
        row.versions.append(repo.version_row(seq, LaVersion(
            proposal_id=proposal_id, state=ProposalState.PENDING, student_signature=student_signature,
            sending_signature=sending_signature, components=tuple(components))))
        row.modified_at = _now()
        _notify(session, LA_CNR, row)
        return proposal_id


def save_mobility(session: Session, mobility: Mobility, versions: Iterable[LaVersion] = ()) -> bool:
    """Insert or update one mobility (and replace its LA versions when any are given), in the caller's
    transaction. A changed outgoing nomination gets a new proposal id and is pending again.

    :returns: whether anything changed.
    """
    row = repo.find(session, mobility.sending.hei_id, mobility.omobility_id, lock=True)
    columns = repo.mobility_columns(mobility)
    versions = list(versions)
    if row is None:
        row = MobilityRow(**columns, modified_at=_now())
        row.versions = [repo.version_row(i + 1, v) for i, v in enumerate(versions)]
        session.add(row)
        return True
    current = repo.la_record(row)
    outgoing = mobility.direction is Direction.OUTGOING
    # Our nomination's status and proposal id are ours to set; a partner's come with its document.
    compared = replace(mobility, modified_at=None, nomination=current.mobility.nomination if outgoing
                       else mobility.nomination)
    unchanged_nomination = replace(current.mobility, modified_at=None) == compared
    if unchanged_nomination and (not versions or tuple(versions) == current.versions):
        return False
    if not unchanged_nomination and outgoing:
        columns |= {"nomination_status": NominationStatus.PENDING.value, "nomination_proposal_id": new_proposal_id(),
                    "nomination_comment": None}
    for name, value in columns.items():
        setattr(row, name, value)
    if versions and tuple(versions) != current.versions:
        row.versions.clear()
        session.flush()
        row.versions.extend(repo.version_row(i + 1, v) for i, v in enumerate(versions))
    row.modified_at = _now()
    return True


def save_our_mobility(session: Session, mobility: Mobility) -> bool:
    """Save a mobility our office changed (import) and, when it changed, queue the partner's CNR: OMobility
    CNR for a nomination we send, IMobility CNR for a student we receive. :returns: whether it changed."""
    if not save_mobility(session, mobility):
        return False
    row = repo.find(session, mobility.sending.hei_id, mobility.omobility_id)
    assert row is not None
    _notify(session, NOMINATION_CNR if mobility.direction is Direction.OUTGOING else ARRIVAL_CNR, row)
    return True


def store_partner_copy(session: Session, document: Document, partner_hei_id: str, mobility: Mobility,
                       raw: bytes) -> None:
    """Keep the partner's element about ``mobility`` exactly as received (the latest one per document)."""
    row = session.scalars(select(PartnerCopy).where(
        PartnerCopy.document == document.value, PartnerCopy.sending_hei_id == mobility.sending.hei_id,
        PartnerCopy.omobility_id == mobility.omobility_id)).first()
    if row is None:
        session.add(PartnerCopy(document=document.value, partner_hei_id=partner_hei_id,
                                sending_hei_id=mobility.sending.hei_id, omobility_id=mobility.omobility_id,
                                raw=raw, received_at=_now()))
    else:
        row.raw, row.received_at = raw, _now()


def _their_mobility(session: Session, mobility: Mobility, document: Document) -> Mobility:
    """A partner's mobility as it described it, completed with what we already know of it that its document
    does not carry (an OMobilities get has no contacts (nor planned dates in v3), an LA no nomination or IIA
    ids; the actual dates are ours to tell)."""
    row = repo.find(session, mobility.sending.hei_id, mobility.omobility_id)
    if row is None:
        return mobility
    known = repo.mobility_record(row)

    def side(theirs: Party, ours: Party) -> Party:
        return replace(theirs, ounit_id=theirs.ounit_id or ours.ounit_id,
                       ounit_name=theirs.ounit_name or ours.ounit_name, iia_id=theirs.iia_id or ours.iia_id,
                       contact=theirs.contact or ours.contact)

    completed = replace(mobility, sending=side(mobility.sending, known.sending),
                        receiving=side(mobility.receiving, known.receiving),
                        language_skills=mobility.language_skills or known.language_skills,
                        planned_arrival=mobility.planned_arrival or known.planned_arrival,
                        planned_departure=mobility.planned_departure or known.planned_departure,
                        actual_arrival=known.actual_arrival, actual_departure=known.actual_departure,
                        isced_clarification=mobility.isced_clarification or known.isced_clarification)
    if document is Document.OMOBILITY:
        return completed
    return replace(completed, nomination=known.nomination, sending_term_id=known.sending_term_id,
                   activity_attributes=known.activity_attributes, agreement_isced_code=known.agreement_isced_code)


def _receive(sessions: sessionmaker[Session], document: Document, partner_hei_id: str, our_heis: Collection[str],
             received: Iterable[tuple[LearningAgreement, bytes]]) -> int:
    stored = 0
    with sessions.begin() as session:
        for la, raw in received:
            mobility = la.mobility
            if mobility.sending.hei_id != partner_hei_id or mobility.receiving.hei_id not in our_heis:
                continue
            mobility = _their_mobility(session, replace(mobility, direction=Direction.INCOMING), document)
            store_partner_copy(session, document, partner_hei_id, mobility, raw)
            save_mobility(session, mobility, la.versions)
            if document is Document.LA and la.changes_proposal is None:
                _withdraw_pending(session, mobility)
            stored += 1
    return stored


def _withdraw_pending(session: Session, mobility: Mobility) -> None:
    """The partner no longer shows a proposal: one we still hold as pending was answered or replaced."""
    row = repo.find(session, mobility.sending.hei_id, mobility.omobility_id)
    for version in row.versions if row is not None else ():
        if version.state == ProposalState.PENDING.value:
            version.state = ProposalState.SUPERSEDED.value


def receive_partner_las(sessions: sessionmaker[Session], partner_hei_id: str, our_heis: Collection[str],
                        received: Iterable[tuple[LearningAgreement, bytes]]) -> int:
    """Store a partner's learning agreements of mobilities it sends to us: its copy as received and what we
    parsed. LAs the partner does not send, or not to a HEI of ours, are skipped. :returns: how many stored."""
    return _receive(sessions, Document.LA, partner_hei_id, our_heis, received)


def receive_partner_nominations(sessions: sessionmaker[Session], partner_hei_id: str, our_heis: Collection[str],
                                received: Iterable[tuple[Mobility, bytes]]) -> int:
    """Store a partner's nominations of students it sends to us (OMobilities get), as received and parsed;
    their learning agreements are kept. :returns: how many stored."""
    return _receive(sessions, Document.OMOBILITY, partner_hei_id, our_heis,
                    ((LearningAgreement(m), raw) for m, raw in received))


def receive_arrivals(sessions: sessionmaker[Session], partner_hei_id: str, our_heis: Collection[str],
                     received: Iterable[tuple[ArrivalFacts, bytes]]) -> int:
    """Store the actual dates a receiving HEI gives for students we send it (IMobilities get). Ids that are
    not our outgoing mobilities to that partner are skipped. :returns: how many stored."""
    stored = 0
    with sessions.begin() as session:
        for facts, raw in received:
            for sending_hei_id in our_heis:
                row = repo.find(session, sending_hei_id, facts.omobility_id)
                if row is None or row.direction != Direction.OUTGOING.value or row.receiving_hei_id != partner_hei_id:
                    continue
                store_partner_copy(session, Document.IMOBILITY, partner_hei_id, repo.mobility_record(row), raw)
                row.actual_arrival, row.actual_departure = facts.actual_arrival, facts.actual_departure
                row.modified_at = _now()
                stored += 1
    return stored

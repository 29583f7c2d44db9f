"""What changes mobilities and learning agreements: each function is one transaction, all or nothing.

Partners' decisions (nomination approve/reject, LA approve/comment) are checked against the current
proposal under a row lock: a stale proposal id is :class:`StaleProposal` (409), a mobility the caller is not
the receiving HEI of is :class:`UnknownMobility` (400), and either leaves the store unchanged.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ewp_node.mobilities import repository as repo
from ewp_node.mobilities.models import CnrToFetch, MobilityRow, PartnerCopy
from ewp_node.mobilities.parse import LaDecision, NominationDecision
from ewp_node.mobilities.records import (
    Component,
    Direction,
    Document,
    LaVersion,
    LearningAgreement,
    Mobility,
    NominationStatus,
    ProposalState,
    Signature,
)


class MobilityError(Exception):
    """A change that cannot be made; nothing was written."""


class UnknownMobility(MobilityError):
    """No such mobility, or the caller is not its partner."""


class StaleProposal(MobilityError):
    """The proposal named is not the current one."""


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


def _sending_hei_of(session: Session, sending_heis: Collection[str], omobility_id: str) -> str:
    """The covered HEI that sends mobility ``omobility_id`` (OMobilities v3 updates do not name it)."""
    found = session.scalars(select(MobilityRow.sending_hei_id).where(
        MobilityRow.omobility_id == omobility_id, MobilityRow.sending_hei_id.in_(sending_heis),
        MobilityRow.direction == Direction.OUTGOING.value)).all()
    if len(found) != 1:
        raise UnknownMobility(f"no outgoing mobility {omobility_id!r}")
    return found[0]


def decide_nomination(sessions: sessionmaker[Session], sending_heis: Collection[str], partners: Collection[str],
                      decision: NominationDecision) -> NominationStatus:
    """The receiving HEI approves or rejects the current nomination proposal; the last word counts."""
    with sessions.begin() as session:
        sending_hei_id = _sending_hei_of(session, sending_heis, decision.omobility_id)
        row = _partner_mobility(session, sending_hei_id, decision.omobility_id, partners)
        if row.nomination_proposal_id != decision.proposal_id:
            raise StaleProposal(f"proposal {decision.proposal_id!r} is not the current nomination of "
                                f"{decision.omobility_id!r}")
        if row.nomination_status == NominationStatus.CANCELLED.value:
            raise StaleProposal(f"the nomination {decision.omobility_id!r} was cancelled")
        status = NominationStatus.APPROVED if decision.reject_comment is None else NominationStatus.REJECTED
        row.nomination_status = status.value
        row.nomination_comment = decision.reject_comment
        row.modified_at = _now()
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
    unchanged_nomination = replace(current.mobility, modified_at=None) == replace(
        mobility, modified_at=None, nomination=current.mobility.nomination)
    if unchanged_nomination and (not versions or tuple(versions) == current.versions):
        return False
    if not unchanged_nomination and mobility.direction is Direction.OUTGOING:
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


def record_cnr(sessions: sessionmaker[Session], document: Document, partner_hei_id: str,
               omobility_ids: Iterable[str]) -> None:
    """Remember that the partner changed these mobilities' ``document``: fetch it again."""
    now = _now()
    with sessions.begin() as session:
        for omobility_id in omobility_ids:
            row = session.scalars(select(CnrToFetch).where(
                CnrToFetch.document == document.value, CnrToFetch.partner_hei_id == partner_hei_id,
                CnrToFetch.omobility_id == omobility_id).with_for_update()).first()
            if row is None:
                session.add(CnrToFetch(document=document.value, partner_hei_id=partner_hei_id,
                                       omobility_id=omobility_id, notified_at=now, fetched_at=None))
            else:
                row.notified_at, row.fetched_at = now, None


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


def receive_partner_las(sessions: sessionmaker[Session], partner_hei_id: str, our_heis: Collection[str],
                        received: Iterable[tuple[LearningAgreement, bytes]]) -> int:
    """Store a partner's learning agreements of mobilities it sends to us: its copy as received and what we
    parsed. LAs the partner does not send, or not to a HEI of ours, are skipped. :returns: how many stored."""
    stored = 0
    with sessions.begin() as session:
        for la, raw in received:
            mobility = la.mobility
            if mobility.sending.hei_id != partner_hei_id or mobility.receiving.hei_id not in our_heis:
                continue
            existing = repo.find(session, mobility.sending.hei_id, mobility.omobility_id)
            if existing is not None:
                known = repo.mobility_record(existing)
                mobility = replace(mobility, nomination=known.nomination, sending_term_id=known.sending_term_id,
                                   activity_attributes=known.activity_attributes,
                                   agreement_isced_code=known.agreement_isced_code)
            store_partner_copy(session, Document.LA, partner_hei_id, mobility, raw)
            save_mobility(session, mobility, la.versions)
            stored += 1
    return stored

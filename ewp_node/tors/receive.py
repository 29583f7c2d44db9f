"""Receiving a transcript as the sending HEI: fetch it from the partner (a signed request; the response
signature is checked by the client), verify the ELMO signature against the partner's server keys in the
registry (never the certificate in ``KeyInfo`` by itself), check that it is about our student and from that
partner, convert every result into our grading system and match it against the approved learning agreement.

Every fetched transcript is recorded: accepted with its recognition, or rejected with the reason; an accepted
one is then handed to the SIS as a recognition record (:mod:`.sis`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from sqlalchemy.orm import Session, sessionmaker

from ewp_node.client import EwpClient, PartnerUnavailable
from ewp_node.elmo import SignatureError, parse_elmo, verify_elmo
from ewp_node.elmo.model import Elmo, LearningOpportunity
from ewp_node.esi import InvalidEsi
from ewp_node.grades import ConversionPolicy
from ewp_node.mobilities import repository as mobility_repo
from ewp_node.mobilities.records import Component, ComponentKind, Direction, LearningAgreement, Mobility
from ewp_node.tors import repository as repo
from ewp_node.tors.build import FetchedTor, InvalidTorResponse, parse_tors_get
from ewp_node.tors.conversion import convert_result
from ewp_node.tors.records import ConvertedResult, ReceivedTranscript, Recognition
from ewp_node.tors.sis import queue_webhook, write_recognition
from ewp_node.xml.parse import MalformedDocument

TORS_API = "imobility-tors"
#: The majors we read, preferred first: v3 (ELMO 2.1.1), else v2 (ELMO 1.7) for partners on the old major.
TORS_MAJORS = (3, 2)


class TorFetchFailed(PartnerUnavailable):
    """The partner answered the get with another status than 200."""

    def __init__(self, partner_hei_id: str, status: int) -> None:
        super().__init__(f"{partner_hei_id} answered HTTP {status} to an {TORS_API} get")
        self.status = status


class TranscriptRejected(ValueError):
    """The transcript cannot be trusted or is not about our student; the message says why."""


@dataclass(frozen=True)
class Receiver:
    """What receiving needs: the signed client, the store, our HEIs and our grade conversion policy."""

    client: EwpClient
    sessions: sessionmaker[Session]
    our_heis: Collection[str]
    policy: ConversionPolicy
    #: The node's home: accepted transcripts are handed to the SIS as files in its ``sis-outbox/`` (None: not).
    sis_home: Path | None = None
    #: Also queue each accepted transcript's record for the SIS webhook (in the recording transaction).
    sis_webhook: bool = False


def _outgoing(session: Session, our_heis: Collection[str], partner_hei_id: str,
              omobility_ids: Iterable[str]) -> dict[str, LearningAgreement | Mobility]:
    """Our mobilities of these ids to the partner: with their LA when they have one."""
    ids = list(omobility_ids)
    found: dict[str, LearningAgreement | Mobility] = {
        m.omobility_id: m for m in mobility_repo.outgoing_by_ids(session, our_heis, {partner_hei_id}, ids)}
    found.update((la.mobility.omobility_id, la)
                 for la in mobility_repo.las_by_ids(session, our_heis, {partner_hei_id}, ids, Direction.OUTGOING))
    return found


def verified_elmo(fetched: FetchedTor, trusted_keys: Sequence[RSAPublicKey], mobility: Mobility,
                  partner_hei_id: str) -> Elmo:
    """The transcript's content, once its signature and its subject are checked.

    :raises TranscriptRejected: unsigned, signed by a key the partner does not publish, altered, invalid, or
        not about this student or not issued by the partner.
    """
    try:
        verified = verify_elmo(fetched.elmo, trusted_keys=trusted_keys)
        elmo = parse_elmo(verified.signed_bytes)
        esi = elmo.learner.esi
    except (SignatureError, MalformedDocument, InvalidEsi) as exc:
        raise TranscriptRejected(f"{type(exc).__name__}: {exc}") from None
    if esi is None or esi.urn != mobility.student.global_id:
        raise TranscriptRejected(f"the learner's ESI ({esi.urn if esi else 'none'}) is not our student's "
                                 f"({mobility.student.global_id})")
    issuers = {i.value.lower() for report in elmo.reports for i in report.issuer.identifiers if i.type == "schac"}
    if issuers != {partner_hei_id.lower()}:
        raise TranscriptRejected(f"issued by {', '.join(sorted(issuers)) or 'no SCHAC id'}, not {partner_hei_id}")
    return elmo


def _planned(components: Sequence[Component], opportunity: LearningOpportunity) -> Component | None:
    """The LA component this course is: same LOS id, else same code, else same title (case-insensitive)."""
    los_id, code = opportunity.code("ewp-los-id"), opportunity.code("local")
    titles = {t.value.casefold() for t in opportunity.titles}
    for matches in (lambda c: los_id is not None and c.los_id == los_id,
                    lambda c: code is not None and c.los_code == code,
                    lambda c: c.title.casefold() in titles):
        found = next((c for c in components if matches(c)), None)
        if found is not None:
            return found
    return None


def recognize(elmo: Elmo, fetched: FetchedTor, policy: ConversionPolicy, partner_hei_id: str,
              agreement: LearningAgreement | Mobility) -> Recognition:
    """Convert every graded result and match it against the approved LA's studied components."""
    approved = None
    if isinstance(agreement, LearningAgreement):
        approved = agreement.approved_changes or agreement.first_version
    studied = [c for c in approved.components if c.kind is ComponentKind.STUDIED] if approved else []
    results, matched = [], set()
    for report in elmo.reports:
        for top in report.learning_opportunities:
            for opportunity in top.walk():
                instance = opportunity.instance
                if instance.result_label is None:
                    continue
                outcome = convert_result(
                    policy, instance.result_label, partner_hei=partner_hei_id, isced_code=opportunity.isced_code,
                    isced_table=fetched.isced_tables.get(opportunity.isced_code or ""),
                    course_counts=instance.result_distribution.pairs() if instance.result_distribution else None)
                component = _planned(studied, opportunity)
                if component is not None:
                    matched.add(id(component))
                results.append(ConvertedResult(
                    code=opportunity.code("local") or opportunity.code("ewp-los-id") or "",
                    title=opportunity.titles[0].value, ects=format(instance.ects, "f") if instance.ects else None,
                    host_grade=instance.result_label, passed=instance.status != "failed",
                    home_grade=outcome.home_grade, explanation=outcome.explanation, overlapping=outcome.overlapping,
                    planned_as=component.title if component else None))
    return Recognition(tuple(results), tuple(c.title for c in studied if id(c) not in matched))


def fetch_transcripts(receiver: Receiver, partner_hei_id: str, omobility_ids: Iterable[str]
                      ) -> list[ReceivedTranscript]:
    """Fetch, check, convert and record the partner's transcripts of these mobilities of ours.

    :raises PartnerUnavailable: no answer or not a 200 (:class:`TorFetchFailed`); nothing recorded.
    :raises InvalidTorResponse: the answer is not a ToRs v3 get response.
    """
    ids = list(dict.fromkeys(omobility_ids))
    client = receiver.client
    entry = client.find_preferred(partner_hei_id, TORS_API, TORS_MAJORS)
    per_call = max(1, entry.limits.get("max-omobility-ids", 1))
    fetched: list[FetchedTor] = []
    for start in range(0, len(ids), per_call):
        response = client.call(partner_hei_id, TORS_API, "get-url",
                               [("receiving_hei_id", partner_hei_id),
                                *(("omobility_id", i) for i in ids[start:start + per_call])], major=entry.major)
        if response.status != 200:
            raise TorFetchFailed(partner_hei_id, response.status)
        if response.root is None:
            raise InvalidTorResponse(f"{partner_hei_id} answered a ToRs get without XML")
        fetched.extend(parse_tors_get(response.root))
    keys = client.server_keys(entry)
    now = datetime.now(UTC)
    recorded: list[tuple[ReceivedTranscript, Mobility]] = []
    with receiver.sessions.begin() as session:
        ours = _outgoing(session, receiver.our_heis, partner_hei_id, [f.omobility_id for f in fetched])
        for tor in fetched:
            agreement = ours.get(tor.omobility_id)
            if agreement is None:
                continue  # not one of our students at that partner: ignored, as ids we did not ask for
            mobility = agreement.mobility if isinstance(agreement, LearningAgreement) else agreement
            recognition, reason = None, None
            try:
                elmo = verified_elmo(tor, keys, mobility, partner_hei_id)
                recognition = recognize(elmo, tor, receiver.policy, partner_hei_id, agreement)
            except TranscriptRejected as exc:
                reason = str(exc)
            received = repo.add_received(
                session, sending_hei_id=mobility.sending.hei_id, receiving_hei_id=partner_hei_id,
                omobility_id=tor.omobility_id, elmo=tor.elmo, received_at=now, recognition=recognition,
                rejected_because=reason)
            if receiver.sis_webhook and recognition is not None:
                queue_webhook(session, received)
            recorded.append((received, mobility))
    if receiver.sis_home is not None:
        for received, mobility in recorded:
            if received.recognition is not None:
                write_recognition(receiver.sis_home, received, mobility)
    return [received for received, _ in recorded]


__all__ = ["InvalidTorResponse", "Receiver", "TorFetchFailed", "TranscriptRejected", "fetch_transcripts"]

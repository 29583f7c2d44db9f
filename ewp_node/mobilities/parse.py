"""Parsers of the mobility documents we receive: one per document type, through the one safe XML parser.

Update requests (OMobilities v3, OMobility LAs v1) come from partners calling us; get and index responses
(OMobilities v3 or v2, OMobility LAs v1, IMobilities v2) come from partners we call. Every parser returns typed
records and raises :class:`InvalidDocument` naming what is missing or wrong; unknown extra elements inside
a known action are ignored, as the LA update spec asks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from lxml import etree

from ewp_node.mobilities.build import (
    IMOBILITIES_GET,
    LAS_GET,
    LAS_UPDATE_REQUEST,
    OMOBILITIES_GET,
    OMOBILITIES_UPDATE_REQUEST,
)
from ewp_node.mobilities.records import (
    Component,
    ComponentKind,
    Contact,
    Credit,
    Direction,
    LanguageSkill,
    LaVersion,
    LearningAgreement,
    Mobility,
    Nomination,
    NominationStatus,
    Party,
    ProposalState,
    Signature,
    Student,
)
from ewp_node.xml.ns import OMOBILITIES_V2, PHONE, TERM_V2, endpoint_ns, q
from ewp_node.xml.parse import MalformedDocument, parse_xml

T = TypeVar("T")

OMOBILITIES_V2_GET = endpoint_ns(OMOBILITIES_V2, "get-response")
OMOBILITIES_V2_INDEX = endpoint_ns(OMOBILITIES_V2, "index-response")
#: OMobilities v2 statuses as nomination statuses. v2 has no "rejected" (the receiving HEI answered through
#: IMobilities v1 then); "live" and "recognized" both come after the receiving HEI accepted the nomination.
V2_STATUSES = {"nomination": NominationStatus.PENDING, "live": NominationStatus.APPROVED,
               "recognized": NominationStatus.APPROVED, "cancelled": NominationStatus.CANCELLED}


class InvalidDocument(ValueError):
    """The document is not the one expected, or lacks what its XSD requires."""


@dataclass(frozen=True)
class NominationDecision:
    """OMobilities v3 update: the receiving HEI approves (``comment`` None) or rejects a nomination."""

    omobility_id: str
    proposal_id: str
    reject_comment: str | None = None


@dataclass(frozen=True)
class LaDecision:
    """OMobility LAs v1 update: the receiving HEI approves (``comment`` None) or comments a changes proposal."""

    sending_hei_id: str
    omobility_id: str
    proposal_id: str
    signature: Signature
    comment: str | None = None


@dataclass(frozen=True)
class ArrivalFacts:
    """IMobilities v2: the receiving HEI's actual dates of one mobility."""

    omobility_id: str
    actual_arrival: date | None
    actual_departure: date | None


def _root(data: bytes, namespace: str, local: str) -> etree._Element:
    try:
        root = parse_xml(data)
    except MalformedDocument as exc:
        raise InvalidDocument(str(exc)) from None
    if root.tag != q(namespace, local):
        raise InvalidDocument(f"expected <{local}> in namespace {namespace}, got {root.tag}")
    return root


def _text(parent: etree._Element, namespace: str, local: str) -> str:
    value = _optional(parent, namespace, local)
    if value is None:
        raise InvalidDocument(f"<{etree.QName(parent).localname}> has no <{local}>")
    return value


def _optional(parent: etree._Element, namespace: str, local: str) -> str | None:
    el = parent.find(q(namespace, local))
    if el is None:
        return None
    return (el.text or "").strip()


def _convert(value: str, convert: Callable[[str], T], what: str) -> T:
    try:
        return convert(value)
    except (ValueError, InvalidOperation):
        raise InvalidDocument(f"<{what}>: {value!r} is not valid") from None


def _date(value: str | None, what: str) -> date | None:
    return None if value is None else _convert(value[:10], date.fromisoformat, what)


def _required_date(parent: etree._Element, namespace: str, local: str) -> date:
    return _convert(_text(parent, namespace, local)[:10], date.fromisoformat, local)


def _int(parent: etree._Element, namespace: str, local: str) -> int:
    return _convert(_text(parent, namespace, local), int, local)


# -- update requests (partners calling us) --------------------------------------------------------------------------

def _action(root: etree._Element, namespace: str, names: tuple[str, ...]) -> etree._Element:
    for child in root:
        if isinstance(child.tag, str) and child.tag in {q(namespace, n) for n in names}:
            return child
    raise InvalidDocument(f"no known update element: expected one of {', '.join(names)}")


def parse_signature(el: etree._Element | None) -> Signature:
    if el is None:
        raise InvalidDocument("<signature> is required")
    ns = LAS_GET
    timestamp = _convert(_text(el, ns, "timestamp"), datetime.fromisoformat, "timestamp")
    if timestamp.tzinfo is None:
        raise InvalidDocument("<timestamp> needs a time zone offset")
    return Signature(timestamp=timestamp, signer_name=_optional(el, ns, "signer-name"),
                     signer_position=_optional(el, ns, "signer-position"),
                     signer_email=_optional(el, ns, "signer-email"), signer_app=_optional(el, ns, "signer-app"))


def parse_nomination_update(data: bytes) -> NominationDecision:
    ns = OMOBILITIES_UPDATE_REQUEST
    root = _root(data, ns, "omobilities-update-request")
    action = _action(root, ns, ("approve-proposal-v1", "reject-proposal-v1"))
    reject = etree.QName(action).localname == "reject-proposal-v1"
    return NominationDecision(omobility_id=_text(action, ns, "omobility-id"),
                              proposal_id=_text(action, ns, "proposal-id"),
                              reject_comment=_text(action, ns, "comment") if reject else None)


def parse_la_update(data: bytes) -> LaDecision:
    ns = LAS_UPDATE_REQUEST
    root = _root(data, ns, "omobility-las-update-request")
    sending_hei_id = _text(root, ns, "sending-hei-id")
    action = _action(root, ns, ("approve-proposal-v1", "comment-proposal-v1"))
    comment = etree.QName(action).localname == "comment-proposal-v1"
    signature = parse_signature(action.find(q(ns, "signature")))
    if not (signature.signer_name and signature.signer_position and signature.signer_email):
        raise InvalidDocument("the receiving HEI's <signature> needs signer-name, signer-position and signer-email")
    return LaDecision(sending_hei_id=sending_hei_id, omobility_id=_text(action, ns, "omobility-id"),
                      proposal_id=_text(action, ns, "changes-proposal-id"), signature=signature,
                      comment=_text(action, ns, "comment") if comment else None)


# -- get responses (partners we call) -------------------------------------------------------------------------------

def _nomination_party(nomination: etree._Element, local: str, ns: str = OMOBILITIES_GET) -> Party:
    el = nomination.find(q(ns, local))
    if el is None:
        raise InvalidDocument(f"<{etree.QName(nomination).localname}> has no <{local}>")
    return Party(hei_id=_text(el, ns, "hei-id"), ounit_id=_optional(el, ns, "ounit-id"),
                 iia_id=_optional(el, ns, "iia-id"))


def _student(el: etree._Element | None, ns: str, citizenship: str) -> Student:
    if el is None:
        raise InvalidDocument("no <student>")
    return Student(given_names=_text(el, ns, "given-names"), family_name=_text(el, ns, "family-name"),
                   global_id=_text(el, ns, "global-id"), birth_date=_required_date(el, ns, "birth-date"),
                   citizenship=_text(el, ns, citizenship), gender=_int(el, ns, "gender"), email=_text(el, ns, "email"))


def parse_student_mobility(el: etree._Element, direction: Direction = Direction.INCOMING) -> Mobility:
    """One ``student-mobility`` of an OMobilities v3 get response."""
    ns = OMOBILITIES_GET
    nomination = el.find(q(ns, "nomination"))
    if nomination is None:
        raise InvalidDocument("<student-mobility> has no <nomination>")
    agreement_isced = _text(nomination, ns, "agreement-isced-f-code")
    isced = _text(nomination, ns, "nominee-isced-f-code")
    return Mobility(
        omobility_id=_text(el, ns, "omobility-id"), direction=direction,
        sending=_nomination_party(nomination, "sending-hei"), receiving=_nomination_party(nomination, "receiving-hei"),
        student=_student(el.find(q(ns, "student")), ns, "nationality"),
        receiving_academic_year_id=_text(nomination, ns, "receiving-academic-year-id"),
        activity_attributes=_text(nomination, ns, "activity-attributes"),
        eqf_level=_int(nomination, ns, "eqf-level-studied-at-departure"), isced_code=isced,
        nomination=Nomination(_convert(_text(el, ns, "status"), NominationStatus, "status"),
                              nomination.get("proposal-id") or "", _optional(nomination, ns, "comment")),
        sending_term_id=_optional(nomination, ns, "sending-academic-term-ewp-id"),
        activity_type=_text(nomination, ns, "activity-type"),
        agreement_isced_code=agreement_isced if agreement_isced != isced else None,
    )


def parse_student_mobility_v2(el: etree._Element) -> Mobility:
    """One ``student-mobility`` of an OMobilities v2 get response, as the record a v3 one gives.

    What v2 lacks: the nomination's proposal id (v2 has no update endpoint to approve it through: it stays
    empty), the IIA's ISCED code (``agreement_isced_code`` None) and the receiving HEI's comment; its statuses
    map by :data:`V2_STATUSES`. What v2 has and v3 has not is kept: planned dates and language skills (a skill
    without a CEFR level is left out). v2 makes the student's birth date, citizenship, gender and e-mail, the
    EQF level and the ISCED code optional, which v3 and our record require: a mobility without one of them is
    an :class:`InvalidDocument`. The EQF level is the one at departure, else at nomination.
    """
    ns = OMOBILITIES_V2_GET
    status = _text(el, ns, "status")
    if status not in V2_STATUSES:
        raise InvalidDocument(f"<status>: {status!r} is not an OMobilities v2 status")
    eqf = _optional(el, ns, "eqf-level-studied-at-departure") or _optional(el, ns, "eqf-level-studied-at-nomination")
    if eqf is None:
        raise InvalidDocument("<student-mobility> has no EQF level (at departure or at nomination)")
    skills = tuple(LanguageSkill(_text(skill, ns, "language"), level)
                   for skill in el.iterfind(q(ns, "nominee-language-skill"))
                   if (level := _optional(skill, ns, "cefr-level")))
    return Mobility(
        omobility_id=_text(el, ns, "omobility-id"), direction=Direction.INCOMING,
        sending=_nomination_party(el, "sending-hei", ns), receiving=_nomination_party(el, "receiving-hei", ns),
        student=_student(el.find(q(ns, "student")), ns, "citizenship"),
        receiving_academic_year_id=_text(el, ns, "receiving-academic-year-id"),
        activity_attributes=_text(el, ns, "activity-attributes"),
        eqf_level=_convert(eqf, int, "eqf-level-studied-at-departure"),
        isced_code=_text(el, ns, "nominee-isced-f-code"), nomination=Nomination(V2_STATUSES[status], ""),
        sending_term_id=_optional(el, ns, "sending-academic-term-ewp-id"),
        activity_type=_text(el, ns, "activity-type"), language_skills=skills,
        planned_arrival=_date(_optional(el, ns, "planned-arrival-date"), "planned-arrival-date"),
        planned_departure=_date(_optional(el, ns, "planned-departure-date"), "planned-departure-date"),
    )


def _each_mobility(data: bytes, namespace: str, local: str, parse: Callable[[etree._Element], T]
                   ) -> list[tuple[T, bytes]]:
    """Each ``student-mobility`` of a get response, parsed, with its element's bytes as received."""
    root = _root(data, namespace, local)
    return [(parse(el), etree.tostring(el)) for el in root.iterfind(q(namespace, "student-mobility"))]


def parse_omobilities_get(data: bytes) -> list[tuple[Mobility, bytes]]:
    """Each mobility of a partner's OMobilities v3 get response, with its element's bytes as received."""
    return _each_mobility(data, OMOBILITIES_GET, "omobilities-get-response", parse_student_mobility)


def parse_omobilities_v2_get(data: bytes) -> list[tuple[Mobility, bytes]]:
    """Each mobility of a partner's OMobilities v2 get response (:func:`parse_student_mobility_v2`), with its
    element's bytes as received."""
    return _each_mobility(data, OMOBILITIES_V2_GET, "omobilities-get-response", parse_student_mobility_v2)


def parse_omobilities_index(data: bytes, namespace: str) -> list[str]:
    """The ids of a partner's OMobilities index response (``namespace``: of the major it serves)."""
    root = _root(data, namespace, "omobilities-index-response")
    return [(el.text or "").strip() for el in root.iterfind(q(namespace, "omobility-id"))]


def _arrival_facts(el: etree._Element) -> ArrivalFacts:
    ns = IMOBILITIES_GET
    return ArrivalFacts(_text(el, ns, "omobility-id"),
                        _date(_optional(el, ns, "actual-arrival-date"), "actual-arrival-date"),
                        _date(_optional(el, ns, "actual-departure-date"), "actual-departure-date"))


def parse_imobilities_get(data: bytes) -> list[tuple[ArrivalFacts, bytes]]:
    """Each mobility of a partner's IMobilities v2 get response, with its element's bytes as received."""
    return _each_mobility(data, IMOBILITIES_GET, "imobilities-get-response", _arrival_facts)


def _component(el: etree._Element, kind: ComponentKind) -> Component:
    ns = LAS_GET
    term = el.find(q(ns, "term-id"))
    credits = tuple(Credit(_text(c, ns, "scheme"), _convert(_text(c, ns, "value"), Decimal, "value"))
                    for c in el.iterfind(q(ns, "credit")))
    return Component(kind=kind, title=_text(el, ns, "title"), los_id=_optional(el, ns, "los-id"),
                     los_code=_optional(el, ns, "los-code"), loi_id=_optional(el, ns, "loi-id"),
                     term_number=_int(term, TERM_V2, "term-number") if term is not None else None,
                     total_terms=_int(term, TERM_V2, "total-terms") if term is not None else None,
                     credits=credits, recognition_conditions=_optional(el, ns, "recognition-conditions"),
                     short_description=_optional(el, ns, "short-description"), status=el.get("status"),
                     reason_code=el.get("reason-code"), reason_text=el.get("reason-text"))


def _version(el: etree._Element, state: ProposalState, proposal_id: str) -> LaVersion:
    ns = LAS_GET
    components = tuple(_component(c, kind) for kind in ComponentKind
                       for listed in el.iterfind(q(ns, kind.value)) for c in listed.iterfind(q(ns, "component")))
    receiving = el.find(q(ns, "receiving-hei-signature"))
    return LaVersion(proposal_id=proposal_id, state=state,
                     student_signature=parse_signature(el.find(q(ns, "student-signature"))),
                     sending_signature=parse_signature(el.find(q(ns, "sending-hei-signature"))),
                     components=components,
                     receiving_signature=parse_signature(receiving) if receiving is not None else None)


def _la_party(el: etree._Element | None, local: str) -> Party:
    ns = LAS_GET
    if el is None:
        raise InvalidDocument(f"<la> has no <{local}>")
    person = el.find(q(ns, "contact-person"))
    contact = None
    if person is not None:
        phone = person.find(q(PHONE, "phone-number"))
        contact = Contact(given_names=_text(person, ns, "given-names"), family_name=_text(person, ns, "family-name"),
                          email=_text(person, ns, "email"),
                          phone_e164=_optional(phone, PHONE, "e164") if phone is not None else None)
    return Party(hei_id=_text(el, ns, "hei-id"), ounit_id=_optional(el, ns, "ounit-id"),
                 ounit_name=_optional(el, ns, "ounit-name"), contact=contact)


def parse_la(el: etree._Element, nomination: Nomination) -> LearningAgreement:
    """One ``la`` of an OMobility LAs get response; the nomination comes from what we know of the mobility.

    The partner shows at most three versions: they become our copy's versions, oldest first (the first
    version and the approved changes approved, the proposal pending).
    """
    ns = LAS_GET
    skill = el.find(q(ns, "student-language-skill"))
    start = _optional(el, ns, "start-date")
    end = _optional(el, ns, "end-date")
    mobility = Mobility(
        omobility_id=_text(el, ns, "omobility-id"), direction=Direction.INCOMING,
        sending=_la_party(el.find(q(ns, "sending-hei")), "sending-hei"),
        receiving=_la_party(el.find(q(ns, "receiving-hei")), "receiving-hei"),
        student=_student(el.find(q(ns, "student")), ns, "citizenship"),
        receiving_academic_year_id=_text(el, ns, "receiving-academic-year-id"), activity_attributes="long-term",
        eqf_level=_int(el, ns, "eqf-level-studied-at-departure"), isced_code=_text(el, ns, "isced-f-code"),
        nomination=nomination, isced_clarification=_optional(el, ns, "isced-clarification"),
        language_skills=(LanguageSkill(_text(skill, ns, "language"), _text(skill, ns, "cefr-level")),)
        if skill is not None else (),
        planned_arrival=_date(start, "start-date"), planned_departure=_date(end, "end-date"),
    )
    versions = []
    for local, state in (("first-version", ProposalState.APPROVED), ("approved-changes", ProposalState.APPROVED),
                         ("changes-proposal", ProposalState.PENDING)):
        version = el.find(q(ns, local))
        if version is not None:
            versions.append(_version(version, state, version.get("id") or local))
    return LearningAgreement(mobility, tuple(versions))


def parse_las_get(data: bytes, nominations: dict[str, Nomination]) -> list[tuple[LearningAgreement, bytes]]:
    """Each LA of a partner's OMobility LAs get response (``nominations``: what we know, by omobility id),
    with its element's bytes as received."""
    root = _root(data, LAS_GET, "omobility-las-get-response")
    unknown = Nomination(NominationStatus.PENDING, "")
    return [(parse_la(el, nominations.get(_text(el, LAS_GET, "omobility-id"), unknown)), etree.tostring(el))
            for el in root.iterfind(q(LAS_GET, "la"))]

"""XML builders of the mobility APIs: one function per element type, each document's root from them.

OMobilities v3 (get, index, update request and response), IMobilities v2 (get), OMobility LAs v1.2 (get,
index, update request and response, stats) and the CNR responses. Children follow the XSDs' order.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from datetime import datetime
from typing import Protocol

from lxml import etree

from ewp_node.mobilities.records import (
    Component,
    ComponentKind,
    Contact,
    LaVersion,
    LaYearStats,
    LearningAgreement,
    Mobility,
    Party,
    Signature,
)
from ewp_node.xml.build.common import add_text
from ewp_node.xml.fragments import FragmentCache
from ewp_node.xml.ns import (
    COMMON,
    IMOBILITIES,
    OMOBILITIES,
    OMOBILITY_LA_CNR,
    OMOBILITY_LAS,
    OMOBILITY_STATS,
    PHONE,
    TERM_V2,
    XML_LANG,
    endpoint_ns,
    q,
)

OMOBILITIES_GET = endpoint_ns(OMOBILITIES, "get-response")
OMOBILITIES_INDEX = endpoint_ns(OMOBILITIES, "index-response")
OMOBILITIES_UPDATE_REQUEST = endpoint_ns(OMOBILITIES, "update-request")
OMOBILITIES_UPDATE_RESPONSE = endpoint_ns(OMOBILITIES, "update-response")
IMOBILITIES_GET = endpoint_ns(IMOBILITIES, "get-response")
LAS_GET = endpoint_ns(OMOBILITY_LAS, "get-response")
LAS_INDEX = endpoint_ns(OMOBILITY_LAS, "index-response")
LAS_UPDATE_REQUEST = endpoint_ns(OMOBILITY_LAS, "update-request")
LAS_UPDATE_RESPONSE = endpoint_ns(OMOBILITY_LAS, "update-response")
LAS_STATS = endpoint_ns(OMOBILITY_LAS, "stats-response")
LA_CNR_STATS = endpoint_ns(f"{OMOBILITY_LA_CNR}/endpoints", "stats-response")


def _root(namespace: str, local: str, **extra: str) -> etree._Element:
    nsmap: dict[str | None, str] = {None: namespace}
    nsmap.update(extra)
    return etree.Element(q(namespace, local), nsmap=nsmap)


def _timestamp(value: datetime) -> str:
    return value.isoformat()


# -- OMobilities v3 -------------------------------------------------------------------------------------------------

def _nomination_party(parent: etree._Element, local: str, party: Party) -> None:
    el = etree.SubElement(parent, q(OMOBILITIES_GET, local))
    add_text(el, q(OMOBILITIES_GET, "hei-id"), party.hei_id)
    add_text(el, q(OMOBILITIES_GET, "ounit-id"), party.ounit_id)
    add_text(el, q(OMOBILITIES_GET, "iia-id"), party.iia_id)


def build_nominee(parent: etree._Element, mobility: Mobility) -> None:
    """``student`` of OMobilities v3 (every field required)."""
    ns, student = OMOBILITIES_GET, mobility.student
    el = etree.SubElement(parent, q(ns, "student"))
    for local, value in (("given-names", student.given_names), ("family-name", student.family_name),
                         ("global-id", student.global_id), ("birth-date", student.birth_date.isoformat()),
                         ("nationality", student.citizenship), ("gender", student.gender),
                         ("email", student.email)):
        add_text(el, q(ns, local), value)


def build_nomination(parent: etree._Element, mobility: Mobility) -> None:
    ns = OMOBILITIES_GET
    el = etree.SubElement(parent, q(ns, "nomination"), {"proposal-id": mobility.nomination.proposal_id})
    _nomination_party(el, "sending-hei", mobility.sending)
    _nomination_party(el, "receiving-hei", mobility.receiving)
    if mobility.sending_term_id is not None:
        add_text(el, q(ns, "sending-academic-term-ewp-id"), mobility.sending_term_id)
    else:
        etree.SubElement(el, q(ns, "non-standard-mobility-period"))
    add_text(el, q(ns, "receiving-academic-year-id"), mobility.receiving_academic_year_id)
    add_text(el, q(ns, "activity-type"), mobility.activity_type)
    add_text(el, q(ns, "activity-attributes"), mobility.activity_attributes)
    add_text(el, q(ns, "agreement-isced-f-code"), mobility.agreement_isced_code or mobility.isced_code)
    add_text(el, q(ns, "eqf-level-studied-at-departure"), mobility.eqf_level)
    add_text(el, q(ns, "nominee-isced-f-code"), mobility.isced_code)
    add_text(el, q(ns, "comment"), mobility.nomination.comment)


def build_student_mobility(mobility: Mobility) -> etree._Element:
    el = etree.Element(q(OMOBILITIES_GET, "student-mobility"))
    add_text(el, q(OMOBILITIES_GET, "omobility-id"), mobility.omobility_id)
    build_nominee(el, mobility)
    build_nomination(el, mobility)
    add_text(el, q(OMOBILITIES_GET, "status"), mobility.nomination.status.value)
    return el


def build_omobilities_get(mobilities: Iterable[Mobility]) -> etree._Element:
    root = _root(OMOBILITIES_GET, "omobilities-get-response")
    root.extend(build_student_mobility(m) for m in mobilities)
    return root


def _id_list(namespace: str, local: str, ids: Iterable[str]) -> etree._Element:
    root = _root(namespace, local)
    for omobility_id in ids:
        add_text(root, q(namespace, "omobility-id"), omobility_id)
    return root


def build_omobilities_index(ids: Iterable[str]) -> etree._Element:
    return _id_list(OMOBILITIES_INDEX, "omobilities-index-response", ids)


def _update_response(namespace: str, local: str, message: str) -> etree._Element:
    root = _root(namespace, local, ewp=COMMON)
    el = etree.SubElement(root, q(COMMON, "success-user-message"))
    el.set(XML_LANG, "en")
    el.text = message
    return root


def build_omobilities_update_response(message: str) -> etree._Element:
    return _update_response(OMOBILITIES_UPDATE_RESPONSE, "omobilities-update-response", message)


def build_omobilities_update_request(omobility_id: str, proposal_id: str, *, reject_comment: str | None = None
                                     ) -> etree._Element:
    """The receiving HEI's decision on a nomination: approve, or reject with a comment."""
    ns = OMOBILITIES_UPDATE_REQUEST
    root = _root(ns, "omobilities-update-request")
    action = etree.SubElement(root, q(ns, "approve-proposal-v1" if reject_comment is None else "reject-proposal-v1"))
    add_text(action, q(ns, "omobility-id"), omobility_id)
    add_text(action, q(ns, "proposal-id"), proposal_id)
    add_text(action, q(ns, "comment"), reject_comment)
    return root


# -- IMobilities v2 -------------------------------------------------------------------------------------------------

def build_imobilities_get(mobilities: Iterable[Mobility]) -> etree._Element:
    ns = IMOBILITIES_GET
    root = _root(ns, "imobilities-get-response")
    for mobility in mobilities:
        el = etree.SubElement(root, q(ns, "student-mobility"))
        add_text(el, q(ns, "omobility-id"), mobility.omobility_id)
        if mobility.actual_arrival is not None:
            add_text(el, q(ns, "actual-arrival-date"), mobility.actual_arrival.isoformat())
        if mobility.actual_departure is not None:
            add_text(el, q(ns, "actual-departure-date"), mobility.actual_departure.isoformat())
    return root


# -- OMobility LAs v1.2 ---------------------------------------------------------------------------------------------

def build_signature(parent: etree._Element, local: str, signature: Signature, namespace: str = LAS_GET) -> None:
    el = etree.SubElement(parent, q(namespace, local))
    add_text(el, q(LAS_GET, "signer-name"), signature.signer_name)
    add_text(el, q(LAS_GET, "signer-position"), signature.signer_position)
    add_text(el, q(LAS_GET, "signer-email"), signature.signer_email)
    add_text(el, q(LAS_GET, "timestamp"), _timestamp(signature.timestamp))
    add_text(el, q(LAS_GET, "signer-app"), signature.signer_app)


def build_component(parent: etree._Element, component: Component) -> None:
    ns = LAS_GET
    attributes = {name: value for name, value in (("status", component.status), ("reason-code", component.reason_code),
                                                  ("reason-text", component.reason_text)) if value is not None}
    el = etree.SubElement(parent, q(ns, "component"), attributes)
    add_text(el, q(ns, "los-id"), component.los_id)
    add_text(el, q(ns, "los-code"), component.los_code)
    add_text(el, q(ns, "title"), component.title)
    add_text(el, q(ns, "loi-id"), component.loi_id)
    if component.term_number is not None and component.total_terms is not None:
        term = etree.SubElement(el, q(ns, "term-id"))
        add_text(term, q(TERM_V2, "term-number"), component.term_number)
        add_text(term, q(TERM_V2, "total-terms"), component.total_terms)
    for credit in component.credits:
        credit_el = etree.SubElement(el, q(ns, "credit"))
        add_text(credit_el, q(ns, "scheme"), credit.scheme)
        add_text(credit_el, q(ns, "value"), format(credit.value, "f"))
    add_text(el, q(ns, "recognition-conditions"), component.recognition_conditions)
    add_text(el, q(ns, "short-description"), component.short_description)


def build_version(parent: etree._Element, local: str, version: LaVersion, *, proposal: bool = False) -> None:
    """``first-version``, ``approved-changes`` or ``changes-proposal`` (which carries its id)."""
    ns = LAS_GET
    el = etree.SubElement(parent, q(ns, local), {"id": version.proposal_id} if proposal else {})
    for kind in ComponentKind:
        components = [c for c in version.components if c.kind is kind]
        if components:
            listed = etree.SubElement(el, q(ns, kind.value))
            for component in components:
                build_component(listed, component)
    build_signature(el, "student-signature", version.student_signature)
    build_signature(el, "sending-hei-signature", version.sending_signature)
    if version.receiving_signature is not None and not proposal:
        build_signature(el, "receiving-hei-signature", version.receiving_signature)


def _contact_person(parent: etree._Element, contact: Contact) -> None:
    ns = LAS_GET
    el = etree.SubElement(parent, q(ns, "contact-person"))
    add_text(el, q(ns, "given-names"), contact.given_names)
    add_text(el, q(ns, "family-name"), contact.family_name)
    add_text(el, q(ns, "email"), contact.email)
    if contact.phone_e164:
        add_text(etree.SubElement(el, q(PHONE, "phone-number")), q(PHONE, "e164"), contact.phone_e164)


def build_la_party(parent: etree._Element, local: str, party: Party) -> None:
    """``sending-hei`` / ``receiving-hei`` of an LA (``MobilityInstitution``; the contact person is required)."""
    if party.contact is None:
        raise ValueError(f"no contact person for {party.hei_id} in a learning agreement")
    el = etree.SubElement(parent, q(LAS_GET, local))
    add_text(el, q(LAS_GET, "hei-id"), party.hei_id)
    add_text(el, q(LAS_GET, "ounit-name"), party.ounit_name)
    add_text(el, q(LAS_GET, "ounit-id"), party.ounit_id)
    _contact_person(el, party.contact)


def build_la_student(parent: etree._Element, mobility: Mobility) -> None:
    ns, student = LAS_GET, mobility.student
    el = etree.SubElement(parent, q(ns, "student"))
    for local, value in (("given-names", student.given_names), ("family-name", student.family_name),
                         ("global-id", student.global_id), ("birth-date", student.birth_date.isoformat()),
                         ("citizenship", student.citizenship), ("gender", student.gender),
                         ("email", student.email)):
        add_text(el, q(ns, local), value)


def build_la(la: LearningAgreement) -> etree._Element:
    """One ``la``: the mobility's facts, then the first version, the approved changes, the pending proposal."""
    ns, mobility = LAS_GET, la.mobility
    if mobility.planned_arrival is None or mobility.planned_departure is None or not mobility.language_skills:
        raise ValueError(f"mobility {mobility.omobility_id}: a learning agreement needs planned dates and a "
                         "language skill")
    el = etree.Element(q(ns, "la"))
    add_text(el, q(ns, "omobility-id"), mobility.omobility_id)
    build_la_party(el, "sending-hei", mobility.sending)
    build_la_party(el, "receiving-hei", mobility.receiving)
    add_text(el, q(ns, "receiving-academic-year-id"), mobility.receiving_academic_year_id)
    build_la_student(el, mobility)
    add_text(el, q(ns, "start-date"), mobility.planned_arrival.isoformat())
    add_text(el, q(ns, "end-date"), mobility.planned_departure.isoformat())
    add_text(el, q(ns, "eqf-level-studied-at-departure"), mobility.eqf_level)
    add_text(el, q(ns, "isced-f-code"), mobility.isced_code)
    add_text(el, q(ns, "isced-clarification"), mobility.isced_clarification)
    skill = etree.SubElement(el, q(ns, "student-language-skill"))
    add_text(skill, q(ns, "language"), mobility.language_skills[0].language)
    add_text(skill, q(ns, "cefr-level"), mobility.language_skills[0].cefr_level)
    if la.first_version is not None:
        build_version(el, "first-version", la.first_version)
    if la.approved_changes is not None:
        build_version(el, "approved-changes", la.approved_changes)
    if la.changes_proposal is not None:
        build_version(el, "changes-proposal", la.changes_proposal, proposal=True)
    return el


class LaSource(Hashable, Protocol):
    """A learning agreement to publish, maybe not decoded yet (``repository.StoredLa``, or the record itself);
    equal sources must make equal records."""

    def record(self) -> LearningAgreement:
        """The learning agreement."""


#: Built ``la`` elements, keyed by the whole learning agreement as read (a changed LA is another key).
LA_CACHE_BYTES = 8 * 1024 * 1024
_LA_FRAGMENTS: FragmentCache[LaSource] = FragmentCache(lambda source: build_la(source.record()), LA_CACHE_BYTES)


def build_las_get(las: Iterable[LaSource]) -> etree._Element:
    """``<omobility-las-get-response>``; each LA is built once and then re-parsed from the cache while unchanged."""
    root = _root(LAS_GET, "omobility-las-get-response", trm=TERM_V2, p=PHONE)
    for la in las:
        _LA_FRAGMENTS.append(root, la)
    return root


def build_las_index(ids: Iterable[str]) -> etree._Element:
    return _id_list(LAS_INDEX, "omobility-las-index-response", ids)


def build_las_update_response(message: str) -> etree._Element:
    return _update_response(LAS_UPDATE_RESPONSE, "omobility-las-update-response", message)


def build_las_update_request(sending_hei_id: str, omobility_id: str, proposal_id: str, signature: Signature, *,
                             comment: str | None = None) -> etree._Element:
    """The receiving HEI's answer to a changes proposal: approve it, or comment it (a rejection with reasons)."""
    ns = LAS_UPDATE_REQUEST
    root = _root(ns, "omobility-las-update-request", la=LAS_GET)
    add_text(root, q(ns, "sending-hei-id"), sending_hei_id)
    action = etree.SubElement(root, q(ns, "approve-proposal-v1" if comment is None else "comment-proposal-v1"))
    add_text(action, q(ns, "omobility-id"), omobility_id)
    add_text(action, q(ns, "changes-proposal-id"), proposal_id)
    add_text(action, q(ns, "comment"), comment)
    build_signature(action, "signature", signature, namespace=ns)
    return root


_OUTGOING_STATS = (("la-outgoing-total", "total"),
                   ("la-outgoing-not-modified-after-approval", "not_modified_after_approval"),
                   ("la-outgoing-modified-after-approval", "modified_after_approval"),
                   ("la-outgoing-latest-version-approved", "latest_approved"),
                   ("la-outgoing-latest-version-rejected", "latest_rejected"),
                   ("la-outgoing-latest-version-awaiting", "latest_awaiting"))
_INCOMING_STATS = (("la-incoming-total", "total"), ("la-incoming-some-version-approved", "some_version_approved"),
                   ("la-incoming-latest-version-approved", "latest_approved"),
                   ("la-incoming-latest-version-rejected", "latest_rejected"),
                   ("la-incoming-latest-version-awaiting", "latest_awaiting"))


def _stats(namespace: str, local: str, fields: tuple[tuple[str, str], ...], rows: Iterable[LaYearStats]
           ) -> etree._Element:
    root = _root(namespace, local)
    for row in rows:
        el = etree.SubElement(root, q(namespace, "academic-year-la-stats"))
        add_text(el, q(namespace, "receiving-academic-year-id"), row.receiving_academic_year_id)
        for element, attribute in fields:
            add_text(el, q(namespace, element), getattr(row, attribute))
    return root


def build_las_stats(rows: Iterable[LaYearStats]) -> etree._Element:
    """OMobility LAs ``stats``: the LAs we send."""
    return _stats(LAS_STATS, "las-outgoing-stats-response", _OUTGOING_STATS, rows)


def build_las_incoming_stats(rows: Iterable[LaYearStats]) -> etree._Element:
    """OMobility LA CNR ``stats``: the LAs of the students we receive."""
    return _stats(LA_CNR_STATS, "las-incoming-stats-response", _INCOMING_STATS, rows)


def build_omobility_stats(years: Iterable[tuple[str, int, int]]) -> etree._Element:
    """The OMobility Stats v1 response: our nominations pending and approved, per receiving academic year."""
    root = _root(OMOBILITY_STATS, "omobility-stats-response")
    for year, pending, approved in years:
        stats = etree.SubElement(root, q(OMOBILITY_STATS, "academic-year-stats"))
        add_text(stats, q(OMOBILITY_STATS, "receiving-academic-year-id"), year)
        add_text(stats, q(OMOBILITY_STATS, "omobility-pending"), pending)
        add_text(stats, q(OMOBILITY_STATS, "omobility-approved"), approved)
    return root


# -- CNR responses --------------------------------------------------------------------------------------------------

def build_cnr_response(namespace: str, local: str) -> etree._Element:
    """The empty answer of a CNR receiver (``omobility-cnr-response`` and the like)."""
    return _root(namespace, local)

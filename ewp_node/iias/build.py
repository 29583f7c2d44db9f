"""IIA XML (lxml): the v7 ``<iia>`` of one record, and the get, index, stats and approval responses.

The ``iia-hash`` is computed over what :func:`build_iia` writes (``hash_input`` leaves it out), so a stored
copy, its hash and what partners receive always agree. Element order follows the v7 get-response XSD.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from lxml import etree

from ewp_node.iias.records import Contact, CooperationCondition, Iia, LanguageSkill, Partner, SubjectArea
from ewp_node.xml.build.common import SHARED_NSMAP, add_contact, add_text
from ewp_node.xml.ns import CONTACT, IIAS_APPROVAL, IIAS_GET, IIAS_INDEX, IIAS_STATS, q

_NSMAP: dict[str | None, str] = {None: IIAS_GET, **SHARED_NSMAP}
_TRUE = "true"


def _g(local: str) -> str:
    return q(IIAS_GET, local)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _contact(parent: etree._Element, contact: Contact, tag: str) -> None:
    add_contact(parent, contact.to_record(), tag)


def _partner(parent: etree._Element, partner: Partner) -> None:
    el = etree.SubElement(parent, _g("partner"))
    add_text(el, _g("hei-id"), partner.hei_id)
    add_text(el, _g("ounit-id"), partner.ounit_id)
    add_text(el, _g("iia-id"), partner.iia_id)
    add_text(el, _g("iia-code"), partner.iia_code)
    if partner.signing_contact is not None:
        _contact(el, partner.signing_contact, _g("signing-contact"))
    add_text(el, _g("signing-date"), partner.signing_date.isoformat() if partner.signing_date else None)
    for contact in partner.contacts:
        _contact(el, contact, q(CONTACT, "contact"))


def _subject_area(parent: etree._Element, area: SubjectArea) -> None:
    el = etree.SubElement(parent, _g("subject-area"))
    code = etree.SubElement(el, _g("isced-f-code"))
    code.text = area.isced_f_code
    if area.v6_value is not None:
        code.set("v6-value", area.v6_value)
    add_text(el, _g("isced-clarification"), area.isced_clarification)


def _language_skill(parent: etree._Element, skill: LanguageSkill) -> None:
    el = etree.SubElement(parent, _g("recommended-language-skill"))
    if skill.not_yet_defined:
        el.set("not-yet-defined", _TRUE)
    add_text(el, _g("language"), skill.language)
    add_text(el, _g("cefr-level"), skill.cefr_level)
    if skill.subject_area is not None:
        _subject_area(el, skill.subject_area)


def _condition(parent: etree._Element, condition: CooperationCondition) -> None:
    el = etree.SubElement(parent, _g(condition.kind.value))
    add_text(el, _g("sending-hei-id"), condition.sending_hei_id)
    add_text(el, _g("sending-ounit-id"), condition.sending_ounit_id)
    for contact in condition.sending_contacts:
        _contact(el, contact, _g("sending-contact"))
    add_text(el, _g("receiving-hei-id"), condition.receiving_hei_id)
    add_text(el, _g("receiving-ounit-id"), condition.receiving_ounit_id)
    for contact in condition.receiving_contacts:
        _contact(el, contact, _g("receiving-contact"))
    add_text(el, _g("receiving-first-academic-year-id"), condition.receiving_first_academic_year_id)
    add_text(el, _g("receiving-last-academic-year-id"), condition.receiving_last_academic_year_id)
    mobilities = etree.SubElement(el, _g("mobilities-per-year"))
    mobilities.text = str(condition.mobilities_per_year)
    if condition.mobilities_per_year_not_yet_defined:
        mobilities.set("not-yet-defined", _TRUE)
    for skill in condition.recommended_language_skills:
        _language_skill(el, skill)
    for area in condition.subject_areas:
        _subject_area(el, area)
    add_text(el, _g("other-info-terms"), condition.other_info_terms)
    if condition.kind.is_student:
        add_text(el, _g("total-months-per-year"), condition.total_months_per_year)
        add_text(el, _g("blended"), _bool(bool(condition.blended)))
        for level in condition.eqf_levels:
            add_text(el, _g("eqf-level"), level)
    else:
        add_text(el, _g("total-days-per-year"), condition.total_days_per_year)


def build_iia(iia: Iia, iia_hash: str | None) -> etree._Element:
    """One ``<iia>`` (in the get-response namespace). ``iia_hash`` None leaves ``<iia-hash>`` out: the
    element to hash (the hash never covers it)."""
    el = etree.Element(_g("iia"), nsmap=_NSMAP)
    for partner in iia.partners:
        _partner(el, partner)
    add_text(el, _g("in-effect"), _bool(iia.in_effect))
    conditions = etree.SubElement(el, _g("cooperation-conditions"))
    if iia.terminated_as_a_whole:
        conditions.set("terminated-as-a-whole", _TRUE)
    for condition in iia.conditions:
        _condition(conditions, condition)
    add_text(el, _g("pdf-file"), iia.pdf_file)
    if iia_hash is not None:
        add_hash(el, iia_hash)
    return el


def add_hash(iia: etree._Element, iia_hash: str) -> None:
    """Put ``<iia-hash>`` in its place (after the conditions) in an ``<iia>`` built without it."""
    el = etree.Element(_g("iia-hash"))
    el.text = iia_hash
    iia.find(_g("cooperation-conditions")).addnext(el)  # type: ignore[union-attr]


def build_get_response(iias: Iterable[etree._Element | bytes]) -> etree._Element:
    """``<iias-get-response>`` of built ``<iia>`` elements, or of their stored serialisations."""
    root = etree.Element(_g("iias-get-response"), nsmap=_NSMAP)
    for iia in iias:
        # Our own serialisation, read back with the default parser (no DTD, no entities).
        root.append(etree.fromstring(iia) if isinstance(iia, bytes) else iia)
    return root


def build_index_response(iia_ids: Iterable[str]) -> etree._Element:
    """``<iias-index-response>``."""
    root = etree.Element(q(IIAS_INDEX, "iias-index-response"), nsmap={None: IIAS_INDEX})
    for iia_id in iia_ids:
        etree.SubElement(root, q(IIAS_INDEX, "iia-id")).text = iia_id
    return root


@dataclass(frozen=True)
class IiaStats:
    """The four counts of the IIAs stats endpoint (our copies, approvals both ways)."""

    fetchable: int
    local_unapproved_partner_approved: int
    local_approved_partner_unapproved: int
    both_approved: int


def build_stats_response(stats: IiaStats) -> etree._Element:
    """``<iias-stats-response>``."""
    root = etree.Element(q(IIAS_STATS, "iias-stats-response"), nsmap={None: IIAS_STATS})
    for local, value in (("iia-fetchable", stats.fetchable),
                         ("iia-local-unapproved-partner-approved", stats.local_unapproved_partner_approved),
                         ("iia-local-approved-partner-unapproved", stats.local_approved_partner_unapproved),
                         ("iia-both-approved", stats.both_approved)):
        etree.SubElement(root, q(IIAS_STATS, local)).text = str(value)
    return root


@dataclass(frozen=True)
class GivenApproval:
    """What the Approval API v2 says about one partner copy we approved: its id (the caller's), the hash we
    approved and our PDF, if any."""

    iia_id: str
    iia_hash: str
    pdf_file: str | None = None


def build_approval_response(approvals: Iterable[GivenApproval]) -> etree._Element:
    """``<iias-approval-response>`` (IIAs Approval v2)."""
    root = etree.Element(q(IIAS_APPROVAL, "iias-approval-response"), nsmap={None: IIAS_APPROVAL})
    for approval in approvals:
        el = etree.SubElement(root, q(IIAS_APPROVAL, "approval"))
        etree.SubElement(el, q(IIAS_APPROVAL, "iia-id")).text = approval.iia_id
        etree.SubElement(el, q(IIAS_APPROVAL, "iia-hash")).text = approval.iia_hash
        add_text(el, q(IIAS_APPROVAL, "pdf-file"), approval.pdf_file)
    return root


def build_empty_response(namespace: str, local: str) -> etree._Element:
    """The empty answer of a CNR API (``<iia-cnr-response/>``, ``<iia-approval-cnr-response/>``)."""
    return etree.Element(q(namespace, local), nsmap={None: namespace})

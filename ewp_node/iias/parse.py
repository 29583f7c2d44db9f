"""A partner's IIAs v7 get-response -> records, through the project's safe parser.

Each ``<iia>`` is read into the raw JSON form and checked by ``validate`` like an imported IIA, so a partner's
copy and ours are the same :class:`~ewp_node.iias.records.Iia`. The ``<iia>`` is also kept serialised alone
(exactly as received, namespaces included): hash and raw copy come from it, never from our reading of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from ewp_node.iias.records import Iia, MobilityKind
from ewp_node.iias.validate import InvalidIia, check_iia
from ewp_node.publish.from_xml import _contact as contact_raw
from ewp_node.xml.ns import CONTACT, IIAS_GET, q
from ewp_node.xml.parse import MalformedDocument, parse_xml

_ROOT = q(IIAS_GET, "iias-get-response")
_MARKED = ("true", "1")


@dataclass(frozen=True)
class ReceivedIia:
    """One ``<iia>`` of a partner's get-response.

    :ivar element: the ``<iia>`` serialised alone, as received (what to keep and to hash).
    :ivar iia_id: the first partner's ``iia-id`` (the partner's id of its copy), if present.
    :ivar declared_hash: the ``iia-hash`` the partner states.
    :ivar record: the checked record, or None when the copy breaks the rules (``problems`` says how).
    """

    element: bytes
    iia_id: str | None
    declared_hash: str
    record: Iia | None
    problems: tuple[str, ...] = ()


def _g(local: str) -> str:
    return q(IIAS_GET, local)


def _text(el: etree._Element | None) -> str | None:
    return None if el is None else (el.text or "").strip()


def _texts(parent: etree._Element, tag: str) -> list[str]:
    return [(el.text or "").strip() for el in parent.findall(tag)]


def _marked(el: etree._Element | None) -> bool:
    return el is not None and el.get("not-yet-defined") in _MARKED


def _subject_area(el: etree._Element) -> dict[str, Any]:
    code = el.find(_g("isced-f-code"))
    return {"isced_f_code": _text(code), "isced_clarification": _text(el.find(_g("isced-clarification"))),
            "v6_value": code.get("v6-value") if code is not None else None}


def _language_skill(el: etree._Element) -> dict[str, Any]:
    area = el.find(_g("subject-area"))
    return {"language": _text(el.find(_g("language"))), "cefr_level": _text(el.find(_g("cefr-level"))),
            "subject_area": _subject_area(area) if area is not None else None, "not_yet_defined": _marked(el)}


def _condition(el: etree._Element) -> dict[str, Any]:
    mobilities = el.find(_g("mobilities-per-year"))
    raw: dict[str, Any] = {
        "kind": etree.QName(el).localname,
        "sending_hei_id": _text(el.find(_g("sending-hei-id"))),
        "sending_ounit_id": _text(el.find(_g("sending-ounit-id"))),
        "sending_contacts": [contact_raw(c) for c in el.findall(_g("sending-contact"))],
        "receiving_hei_id": _text(el.find(_g("receiving-hei-id"))),
        "receiving_ounit_id": _text(el.find(_g("receiving-ounit-id"))),
        "receiving_contacts": [contact_raw(c) for c in el.findall(_g("receiving-contact"))],
        "receiving_first_academic_year_id": _text(el.find(_g("receiving-first-academic-year-id"))),
        "receiving_last_academic_year_id": _text(el.find(_g("receiving-last-academic-year-id"))),
        "mobilities_per_year": _text(mobilities),
        "mobilities_per_year_not_yet_defined": _marked(mobilities),
        "recommended_language_skills": [_language_skill(s) for s in el.findall(_g("recommended-language-skill"))],
        "subject_areas": [_subject_area(a) for a in el.findall(_g("subject-area"))],
        "other_info_terms": _text(el.find(_g("other-info-terms"))),
        "total_months_per_year": _text(el.find(_g("total-months-per-year"))),
        "blended": _text(el.find(_g("blended"))),
        "eqf_levels": _texts(el, _g("eqf-level")),
        "total_days_per_year": _text(el.find(_g("total-days-per-year"))),
    }
    return {k: v for k, v in raw.items() if v not in (None, [], False)}


def _partner(el: etree._Element) -> dict[str, Any]:
    signing = el.find(_g("signing-contact"))
    return {
        "hei_id": _text(el.find(_g("hei-id"))), "ounit_id": _text(el.find(_g("ounit-id"))),
        "iia_id": _text(el.find(_g("iia-id"))), "iia_code": _text(el.find(_g("iia-code"))),
        "signing_contact": contact_raw(signing) if signing is not None else None,
        "signing_date": _text(el.find(_g("signing-date"))),
        "contacts": [contact_raw(c) for c in el.findall(q(CONTACT, "contact"))],
    }


def iia_to_raw(el: etree._Element) -> dict[str, Any]:
    """One ``<iia>`` (v7 namespace) in the raw JSON form that ``validate.check_iia`` reads."""
    conditions = el.find(_g("cooperation-conditions"))
    kinds = {q(IIAS_GET, k.value) for k in MobilityKind}
    return {
        "partners": [_partner(p) for p in el.findall(_g("partner"))],
        "in_effect": _text(el.find(_g("in-effect"))),
        "conditions": [_condition(c) for c in conditions.iterchildren() if c.tag in kinds]
        if conditions is not None else [],
        "terminated_as_a_whole": conditions is not None and conditions.get("terminated-as-a-whole") in _MARKED,
        "pdf_file": _text(el.find(_g("pdf-file"))),
    }


def read_iia_element(el: etree._Element) -> ReceivedIia:
    """One received ``<iia>``: kept as is, and read into a record when it follows the rules."""
    first = el.find(_g("partner"))
    iia_id = _text(first.find(_g("iia-id"))) if first is not None else None
    try:
        record: Iia | None = check_iia(iia_to_raw(el), label=f"iia {iia_id or '(no id)'}")
        problems: tuple[str, ...] = ()
    except InvalidIia as exc:
        record, problems = None, tuple(str(p) for p in exc.problems)
    return ReceivedIia(element=etree.tostring(el), iia_id=iia_id, declared_hash=_text(el.find(_g("iia-hash"))) or "",
                       record=record, problems=problems)


def parse_get_response(data: bytes) -> list[ReceivedIia]:
    """A partner's ``<iias-get-response>`` bytes -> its IIAs, in document order.

    :raises MalformedDocument: not well-formed, hostile, or not an IIAs v7 get-response.
    """
    root = parse_xml(data)
    if root.tag != _ROOT:
        raise MalformedDocument(f"not an IIAs v7 get-response: root element is {root.tag!r}")
    return [read_iia_element(el) for el in root.iterchildren(_g("iia"))]

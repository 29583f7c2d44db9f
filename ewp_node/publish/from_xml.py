"""Read EWP documents (a partner's answers, the official examples) into raw import records.

The inverse of ``ewp_node.xml.build``: ``<hei>`` (Institutions v2), ``<ounit>`` (OUnits v2),
``<learningOpportunitySpecification>`` (Courses v0.7.1) and ``<factsheet>`` (Factsheet v1.2). The output
is raw: it goes through ``records.read_*`` like any imported file.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from ewp_node.xml.ns import ADDRESS, CONTACT, COURSES, FACTSHEET, INSTITUTIONS, OUNITS, PHONE, TERM_V1, XML_LANG, q

Raw = dict[str, Any]

_ADDRESS_FIELDS = (("buildingNumber", "building_number"), ("buildingName", "building_name"),
                   ("streetName", "street_name"), ("unit", "unit"), ("floor", "floor"),
                   ("postOfficeBox", "post_office_box"), ("postalCode", "postal_code"), ("locality", "locality"),
                   ("region", "region"), ("country", "country"))


def _text(el: etree._Element | None) -> str | None:
    return None if el is None or el.text is None else el.text.strip()


def _texts(parent: etree._Element, tag: str, key: str = "text") -> list[Raw]:
    out = []
    for el in parent.findall(tag):
        value: Raw = {key: _text(el)}
        if el.get(XML_LANG):
            value["lang"] = el.get(XML_LANG)
        out.append(value)
    return out


def _address(parent: etree._Element, local: str) -> Raw | None:
    el = parent.find(q(ADDRESS, local))
    if el is None:
        return None
    out: Raw = {"recipient_names": [_text(e) for e in el.findall(q(ADDRESS, "recipientName"))],
                "address_lines": [_text(e) for e in el.findall(q(ADDRESS, "addressLine"))],
                "delivery_point_codes": [_text(e) for e in el.findall(q(ADDRESS, "deliveryPointCode"))]}
    out.update((field, _text(el.find(q(ADDRESS, tag)))) for tag, field in _ADDRESS_FIELDS)
    return out


def _phone(el: etree._Element) -> Raw:
    return {"e164": _text(el.find(q(PHONE, "e164"))), "ext": _text(el.find(q(PHONE, "ext"))),
            "other_format": _text(el.find(q(PHONE, "other-format")))}


def _contact(el: etree._Element) -> Raw:
    return {
        "names": _texts(el, q(CONTACT, "contact-name")),
        "given_names": _texts(el, q(CONTACT, "person-given-names")),
        "family_names": _texts(el, q(CONTACT, "person-family-name")),
        "gender": _text(el.find(q(CONTACT, "person-gender"))),
        "phones": [_phone(p) for p in el.findall(q(PHONE, "phone-number"))],
        "faxes": [_phone(p) for p in el.findall(q(PHONE, "fax-number"))],
        "emails": [_text(e) for e in el.findall(q(CONTACT, "email"))],
        "street_address": _address(el, "street-address"),
        "mailing_address": _address(el, "mailing-address"),
        "role_descriptions": _texts(el, q(CONTACT, "role-description")),
    }


def _common_unit(el: etree._Element, ns: str) -> Raw:
    """The parts an institution and an ounit share."""
    return {
        "names": _texts(el, q(ns, "name")),
        "abbreviation": _text(el.find(q(ns, "abbreviation"))),
        "street_address": _address(el, "street-address"),
        "mailing_address": _address(el, "mailing-address"),
        "website_urls": _texts(el, q(ns, "website-url"), "url"),
        "logo_url": _text(el.find(q(ns, "logo-url"))),
        "mobility_factsheet_urls": _texts(el, q(ns, "mobility-factsheet-url"), "url"),
        "contacts": [_contact(c) for c in el.findall(q(CONTACT, "contact"))],
    }


def read_hei(el: etree._Element) -> tuple[str, Raw, list[str]]:
    """``<hei>`` -> (hei id, institution record, the ounit ids it lists)."""
    record = _common_unit(el, INSTITUTIONS)
    record["other_ids"] = [{"type": o.get("type"), "value": _text(o)} for o in el.findall(q(INSTITUTIONS, "other-id"))]
    record["course_catalogue_urls"] = _texts(el, q(INSTITUTIONS, "course-catalogue-url"), "url")
    record["root_ounit_id"] = _text(el.find(q(INSTITUTIONS, "root-ounit-id")))
    ounit_ids = [_text(o) or "" for o in el.findall(q(INSTITUTIONS, "ounit-id"))]
    return _text(el.find(q(INSTITUTIONS, "hei-id"))) or "", record, ounit_ids


def read_ounit(el: etree._Element) -> Raw:
    record = _common_unit(el, OUNITS)
    record.update(ounit_id=_text(el.find(q(OUNITS, "ounit-id"))), ounit_code=_text(el.find(q(OUNITS, "ounit-code"))),
                  parent_ounit_id=_text(el.find(q(OUNITS, "parent-ounit-id"))))
    return record


def _c(local: str) -> str:
    return q(COURSES, local)


def _loi(el: etree._Element) -> Raw:
    out: Raw = {"loi_id": _text(el.find(_c("loi-id"))), "start": _text(el.find(_c("start"))),
                "end": _text(el.find(_c("end"))),
                "language_of_instruction": _text(el.find(_c("languageOfInstruction"))),
                "engagement_hours": _text(el.find(_c("engagementHours"))),
                "credits": [{"scheme": _text(c.find(_c("scheme"))), "level": _text(c.find(_c("level"))),
                             "value": _text(c.find(_c("value")))} for c in el.findall(_c("credit"))]}
    term = el.find(q(TERM_V1, "academic-term"))
    if term is not None:
        out["academic_term"] = {
            "academic_year_id": _text(term.find(q(TERM_V1, "academic-year-id"))),
            "ewp_id": _text(term.find(q(TERM_V1, "ewp-id"))),
            "display_names": _texts(term, q(TERM_V1, "display-name")),
            "start_date": _text(term.find(q(TERM_V1, "start-date"))),
            "end_date": _text(term.find(q(TERM_V1, "end-date"))),
        }
    scheme = el.find(_c("gradingScheme"))
    if scheme is not None:
        out["grading_scheme"] = {"labels": _texts(scheme, _c("label")),
                                 "descriptions": _texts(scheme, _c("description"))}
    dist = el.find(_c("resultDistribution"))
    if dist is not None:
        out["result_distribution"] = {
            "categories": [{"label": c.get("label"), "count": c.get("count")} for c in dist.findall(_c("category"))],
            "descriptions": _texts(dist, _c("description")),
        }
    return out


def read_los(el: etree._Element) -> Raw:
    """``<learningOpportunitySpecification>`` -> a course record (with its LOIs)."""
    return {
        "los_id": _text(el.find(_c("los-id"))),
        "los_code": _text(el.find(_c("los-code"))),
        "ounit_id": _text(el.find(_c("ounit-id"))),
        "titles": _texts(el, _c("title")),
        "type": _text(el.find(_c("type"))),
        "subject_area": _text(el.find(_c("subjectArea"))),
        "isced_code": _text(el.find(_c("iscedCode"))),
        "eqf_level": _text(el.find(_c("eqfLevelProvided"))),
        "urls": _texts(el, _c("url"), "url"),
        "descriptions": _texts(el, _c("description")),
        "instances": [_loi(i) for i in el.iterfind(f"{_c('specifies')}/{_c('learningOpportunityInstance')}")],
        "contains": [_text(i) for i in el.iterfind(f"{_c('contains')}/{_c('los-id')}")],
    }


def _f(local: str) -> str:
    return q(FACTSHEET, local)


def _information(el: etree._Element | None) -> Raw | None:
    if el is None:
        return None
    phone = el.find(q(PHONE, "phone-number"))
    return {"email": _text(el.find(_f("email"))), "phone": _phone(phone) if phone is not None else None,
            "website_urls": _texts(el, _f("website-url"), "url")}


def read_factsheet(el: etree._Element) -> tuple[str, Raw]:
    """``<factsheet>`` -> (hei id, factsheet record)."""
    calendar = {}
    for local in ("student-nominations", "student-applications"):
        entry = el.find(f"{_f('calendar')}/{_f(local)}")
        if entry is not None:
            calendar[local.replace("-", "_")] = {"autumn_term": _text(entry.find(_f("autumn-term"))),
                                                 "spring_term": _text(entry.find(_f("spring-term")))}
    record = {
        "calendar": calendar,
        "application_info": _information(el.find(_f("application-info"))),
        "additional_requirements": [
            {"name": _text(r.find(_f("name"))), "details": _text(r.find(_f("details"))),
             "information_websites": _texts(r, _f("information-website"), "url")}
            for r in el.findall(_f("additional-requirement"))],
        "decision_weeks_limit": _text(el.find(_f("decision-weeks-limit"))),
        "tor_weeks_limit": _text(el.find(_f("tor-weeks-limit"))),
        "accessibility": [
            {"type": _text(a.find(_f("type"))), "name": _text(a.find(_f("name"))),
             "description": _text(a.find(_f("description"))), "information": _information(a.find(_f("information")))}
            for a in el.findall(_f("accessibility"))],
        "housing_info": _information(el.find(_f("housing-info"))),
        "visa_info": _information(el.find(_f("visa-info"))),
        "insurance_info": _information(el.find(_f("insurance-info"))),
        "additional_info": [{"type": _text(a.find(_f("type"))), "info": _information(a.find(_f("info")))}
                            for a in el.findall(_f("additional-info"))],
    }
    return _text(el.find(_f("hei-id"))) or "", record

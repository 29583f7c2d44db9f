"""Factsheet API v1.2.0: ``<factsheet-response>`` and its ``<factsheet>`` elements."""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from ewp_node.xml.build.common import Record, add_phone, add_text, add_texts
from ewp_node.xml.ns import FACTSHEET, PHONE, q


def _e(local: str) -> str:
    return q(FACTSHEET, local)


def _add_information(parent: etree._Element, local: str, record: Record) -> None:
    """An ``InformationEntry``: e-mail, phone, website URLs."""
    el = etree.SubElement(parent, _e(local))
    add_text(el, _e("email"), record["email"])
    add_phone(el, "phone-number", record["phone"])
    add_texts(el, _e("website-url"), record["website_urls"], "url")


def build_factsheet(hei_id: str, record: Record) -> etree._Element:
    el = etree.Element(_e("factsheet"))
    add_text(el, _e("hei-id"), hei_id)
    calendar = etree.SubElement(el, _e("calendar"))
    for field in ("student_nominations", "student_applications"):
        entry = etree.SubElement(calendar, _e(field.replace("_", "-")))
        add_text(entry, _e("autumn-term"), record["calendar"][field]["autumn_term"])
        add_text(entry, _e("spring-term"), record["calendar"][field]["spring_term"])
    _add_information(el, "application-info", record["application_info"])
    for requirement in record.get("additional_requirements", ()):
        req = etree.SubElement(el, _e("additional-requirement"))
        add_text(req, _e("name"), requirement["name"])
        add_text(req, _e("details"), requirement["details"])
        add_texts(req, _e("information-website"), requirement.get("information_websites", ()), "url")
    add_text(el, _e("decision-weeks-limit"), record["decision_weeks_limit"])
    add_text(el, _e("tor-weeks-limit"), record["tor_weeks_limit"])
    for item in record.get("accessibility", ()):
        acc = etree.SubElement(el, _e("accessibility"))
        add_text(acc, _e("type"), item["type"])
        add_text(acc, _e("name"), item["name"])
        add_text(acc, _e("description"), item.get("description"))
        _add_information(acc, "information", item["information"])
    for field in ("housing_info", "visa_info", "insurance_info"):
        _add_information(el, field.replace("_", "-"), record[field])
    for item in record.get("additional_info", ()):
        info = etree.SubElement(el, _e("additional-info"))
        add_text(info, _e("type"), item["type"])
        _add_information(info, "info", item["info"])
    return el


def build_factsheet_response(factsheets: Iterable[etree._Element]) -> etree._Element:
    root = etree.Element(_e("factsheet-response"), nsmap={None: FACTSHEET, "p": PHONE})
    root.extend(factsheets)
    return root

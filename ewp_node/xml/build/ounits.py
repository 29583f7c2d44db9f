"""Organizational Units API v2.1.1: ``<ounits-response>`` and its ``<ounit>`` elements."""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from ewp_node.xml.build.common import SHARED_NSMAP, Record, add_address, add_contact, add_text, add_texts
from ewp_node.xml.ns import OUNITS, q


def _e(local: str) -> str:
    return q(OUNITS, local)


def build_ounit(record: Record) -> etree._Element:
    el = etree.Element(_e("ounit"))
    add_text(el, _e("ounit-id"), record["ounit_id"])
    add_text(el, _e("ounit-code"), record["ounit_code"])
    add_texts(el, _e("name"), record["names"])
    add_text(el, _e("abbreviation"), record.get("abbreviation"))
    add_text(el, _e("parent-ounit-id"), record.get("parent_ounit_id"))
    add_address(el, "street-address", record.get("street_address"))
    add_address(el, "mailing-address", record.get("mailing_address"))
    add_texts(el, _e("website-url"), record.get("website_urls", ()), "url")
    add_text(el, _e("logo-url"), record.get("logo_url"))
    add_texts(el, _e("mobility-factsheet-url"), record.get("mobility_factsheet_urls", ()), "url")
    for contact in record.get("contacts", ()):
        add_contact(el, contact)
    return el


def build_ounits_response(ounits: Iterable[Record]) -> etree._Element:
    root = etree.Element(_e("ounits-response"), nsmap={None: OUNITS, **SHARED_NSMAP})
    root.extend(build_ounit(record) for record in ounits)
    return root

"""Institutions API v2.2.0: ``<institutions-response>`` and its ``<hei>`` elements."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from lxml import etree

from ewp_node.xml.build.common import SHARED_NSMAP, Record, add_address, add_contact, add_text, add_texts
from ewp_node.xml.ns import INSTITUTIONS, q


def _e(local: str) -> str:
    return q(INSTITUTIONS, local)


def build_hei(hei_id: str, record: Record, ounit_ids: Sequence[str]) -> etree._Element:
    """One ``<hei>``; ``ounit_ids`` lists every exposed ounit (root first)."""
    el = etree.Element(_e("hei"))
    add_text(el, _e("hei-id"), hei_id)
    for other in record.get("other_ids", ()):
        etree.SubElement(el, _e("other-id"), type=other["type"]).text = other["value"]
    add_texts(el, _e("name"), record["names"])
    add_text(el, _e("abbreviation"), record.get("abbreviation"))
    add_address(el, "street-address", record.get("street_address"))
    add_address(el, "mailing-address", record.get("mailing_address"))
    add_texts(el, _e("website-url"), record.get("website_urls", ()), "url")
    add_text(el, _e("logo-url"), record.get("logo_url"))
    add_texts(el, _e("mobility-factsheet-url"), record.get("mobility_factsheet_urls", ()), "url")
    add_texts(el, _e("course-catalogue-url"), record.get("course_catalogue_urls", ()), "url")
    for contact in record.get("contacts", ()):
        add_contact(el, contact)
    add_text(el, _e("root-ounit-id"), record.get("root_ounit_id"))
    for ounit_id in ounit_ids:
        add_text(el, _e("ounit-id"), ounit_id)
    return el


def build_institutions_response(heis: Iterable[etree._Element]) -> etree._Element:
    root = etree.Element(_e("institutions-response"), nsmap={None: INSTITUTIONS, **SHARED_NSMAP})
    root.extend(heis)
    return root

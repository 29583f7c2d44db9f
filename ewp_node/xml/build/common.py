"""Builders of the shared EWP types: multilingual strings and URLs (common-types v1.15), addresses
(types-address v1.0.2), phone numbers (types-phonenumber v1.0.1) and contacts (types-contact v1.1.0)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lxml import etree

from ewp_node.xml.ns import ADDRESS, CONTACT, PHONE, XML_LANG, q

Record = dict[str, Any]
#: Prefixes declared once on every response root that embeds the shared types.
SHARED_NSMAP: dict[str | None, str] = {"a": ADDRESS, "c": CONTACT, "p": PHONE}

_STRUCTURED = (("building_number", "buildingNumber"), ("building_name", "buildingName"),
               ("street_name", "streetName"), ("unit", "unit"), ("floor", "floor"),
               ("post_office_box", "postOfficeBox"))
_TAIL = (("postal_code", "postalCode"), ("locality", "locality"), ("region", "region"), ("country", "country"))


def add_text(parent: etree._Element, tag: str, text: Any) -> None:
    """One simple child element, skipped when ``text`` is None."""
    if text is not None:
        etree.SubElement(parent, tag).text = str(text)


def add_texts(parent: etree._Element, tag: str, values: Iterable[Record], key: str = "text") -> None:
    """``StringWithOptionalLang``-like children (``key`` is ``url`` for ``HTTPWithOptionalLang``)."""
    for value in values:
        child = etree.SubElement(parent, tag)
        if "lang" in value:
            child.set(XML_LANG, value["lang"])
        child.text = value[key]


def add_address(parent: etree._Element, local: str, record: Record | None) -> None:
    """``a:street-address`` / ``a:mailing-address`` (``FlexibleAddress``)."""
    if record is None:
        return
    el = etree.SubElement(parent, q(ADDRESS, local))
    for name in record.get("recipient_names", ()):
        add_text(el, q(ADDRESS, "recipientName"), name)
    for line in record.get("address_lines", ()):
        add_text(el, q(ADDRESS, "addressLine"), line)
    for field, tag in _STRUCTURED:
        add_text(el, q(ADDRESS, tag), record.get(field))
    for code in record.get("delivery_point_codes", ()):
        add_text(el, q(ADDRESS, "deliveryPointCode"), code)
    for field, tag in _TAIL:
        add_text(el, q(ADDRESS, tag), record.get(field))


def add_phone(parent: etree._Element, local: str, record: Record) -> None:
    """``p:phone-number`` / ``p:fax-number``."""
    el = etree.SubElement(parent, q(PHONE, local))
    for field, tag in (("e164", "e164"), ("ext", "ext"), ("other_format", "other-format")):
        add_text(el, q(PHONE, tag), record.get(field))


def add_contact(parent: etree._Element, record: Record, tag: str = q(CONTACT, "contact")) -> None:
    """``c:contact``, or another element of type ``c:Contact`` (``tag``, e.g. an IIA's ``signing-contact``)."""
    el = etree.SubElement(parent, tag)
    add_texts(el, q(CONTACT, "contact-name"), record["names"])
    add_texts(el, q(CONTACT, "person-given-names"), record.get("given_names", ()))
    add_texts(el, q(CONTACT, "person-family-name"), record.get("family_names", ()))
    add_text(el, q(CONTACT, "person-gender"), record.get("gender"))
    for number in record.get("phones", ()):
        add_phone(el, "phone-number", number)
    for number in record.get("faxes", ()):
        add_phone(el, "fax-number", number)
    for email in record.get("emails", ()):
        add_text(el, q(CONTACT, "email"), email)
    add_address(el, "street-address", record.get("street_address"))
    add_address(el, "mailing-address", record.get("mailing_address"))
    add_texts(el, q(CONTACT, "role-description"), record.get("role_descriptions", ()))

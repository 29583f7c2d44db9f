"""Serialisation of EWP answers into Flask responses (one place for the XML content type)."""

from __future__ import annotations

from flask import Response
from lxml import etree

XML_CONTENT_TYPE = "text/xml; charset=utf-8"


def serialize(element: etree._Element) -> bytes:
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8")


def xml_response(element: etree._Element, status: int = 200) -> Response:
    return Response(serialize(element), status=status, content_type=XML_CONTENT_TYPE)

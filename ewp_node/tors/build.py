"""XML of IMobility ToRs v3: the get and index responses, and reading a get response as a partner's client.

Each ``<elmo>`` is inserted as its signed bytes were parsed: the response root declares only its own default
namespace, which ``<elmo>`` overrides with the ELMO one, and the signature's ``ds`` prefix is declared on
``<Signature>`` itself. So a client that cuts ``<elmo>`` out of the response gets back exactly the signed
document, with no namespace declaration added that would break the digest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from lxml import etree

from ewp_node.elmo.model import NAMESPACES
from ewp_node.tors.issue import ELMO_VERSION
from ewp_node.tors.records import IssuedTranscript
from ewp_node.xml.ns import IMOBILITY_TORS, endpoint_ns, q
from ewp_node.xml.parse import parse_xml

TORS_GET = endpoint_ns(IMOBILITY_TORS, "get-response")
TORS_INDEX = endpoint_ns(IMOBILITY_TORS, "index-response")
ELMO_NS = NAMESPACES[ELMO_VERSION]


def _sub(parent: etree._Element, local: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, q(TORS_GET, local))
    element.text = text
    return element


def _tor(parent: etree._Element, transcript: IssuedTranscript) -> None:
    tor = _sub(parent, "tor")
    _sub(tor, "omobility-id", transcript.omobility_id)
    _sub(tor, "receiving-academic-year-id", transcript.receiving_academic_year_id)
    tor.append(parse_xml(transcript.elmo))
    if transcript.isced_tables:
        table = _sub(tor, "gradeConversionTable")
        for code, rows in transcript.isced_tables:
            isced = _sub(table, "iscedTable")
            isced.set("iscedCode", code)
            for label, percentage in rows:
                etree.SubElement(isced, q(TORS_GET, "gradeFrequency"), label=label, percentage=format(percentage, "f"))


def build_tors_get(transcripts: Iterable[IssuedTranscript]) -> etree._Element:
    root = etree.Element(q(TORS_GET, "imobility-tors-get-response"), nsmap={None: TORS_GET})
    for transcript in transcripts:
        _tor(root, transcript)
    return root


def build_tors_index(omobility_ids: Iterable[str]) -> etree._Element:
    root = etree.Element(q(TORS_INDEX, "imobility-tors-index-response"), nsmap={None: TORS_INDEX})
    for omobility_id in omobility_ids:
        etree.SubElement(root, q(TORS_INDEX, "omobility-id")).text = omobility_id
    return root


@dataclass(frozen=True)
class FetchedTor:
    """One ``<tor>`` of a partner's get response: the ``<elmo>`` cut out as bytes, and its ISCED tables."""

    omobility_id: str
    elmo: bytes
    #: ISCED code -> ``(label, percentage)`` rows, in the partner's order.
    isced_tables: dict[str, tuple[tuple[str, Decimal], ...]]


class InvalidTorResponse(ValueError):
    """The partner's answer is not an IMobility ToRs v3 get response we can read."""


def parse_tors_get(root: etree._Element) -> list[FetchedTor]:
    """The transcripts of a get response (already schema-checked by the caller when it can)."""
    if root.tag != q(TORS_GET, "imobility-tors-get-response"):
        raise InvalidTorResponse(f"not an IMobility ToRs v3 get response: {root.tag}")
    fetched = []
    for tor in root.iterfind(q(TORS_GET, "tor")):
        omobility_id = (tor.findtext(q(TORS_GET, "omobility-id")) or "").strip()
        elmo = tor.find(q(ELMO_NS, "elmo"))
        if not omobility_id or elmo is None:
            raise InvalidTorResponse("a <tor> lacks its omobility-id or its ELMO 2 document")
        tables: dict[str, tuple[tuple[str, Decimal], ...]] = {}
        for isced in tor.iterfind(f"{q(TORS_GET, 'gradeConversionTable')}/{q(TORS_GET, 'iscedTable')}"):
            try:
                tables[isced.get("iscedCode", "")] = tuple(
                    (row.get("label", ""), Decimal(row.get("percentage", "")))
                    for row in isced.iterfind(q(TORS_GET, "gradeFrequency")))
            except ArithmeticError:
                raise InvalidTorResponse(f"a percentage of ISCED table {isced.get('iscedCode')} is not a number"
                                         ) from None
        fetched.append(FetchedTor(omobility_id, etree.tostring(elmo), tables))
    return fetched

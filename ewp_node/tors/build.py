"""XML of IMobility ToRs v3 and v2 (get and index responses; reading a get response as a partner's client)
and of IMobility ToR Stats v1.

Each ``<elmo>`` is spliced into the get response byte for byte, as it was signed (no parse, no re-serialisation).
The response root declares only its own default namespace, which ``<elmo>`` overrides with the ELMO one, and
the signature's ``ds`` prefix is declared on ``<Signature>`` itself: a client that cuts ``<elmo>`` out of the
response gets back exactly the signed document, with no namespace declaration added that would break the
digest.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from lxml import etree

from ewp_node.elmo.model import NAMESPACES
from ewp_node.responses import serialize
from ewp_node.tors.issue import ELMO_V1_VERSION, ELMO_VERSION, IscedTables
from ewp_node.tors.records import IssuedTranscript
from ewp_node.xml.ns import IMOBILITY_TOR_STATS, IMOBILITY_TORS, IMOBILITY_TORS_V2, endpoint_ns, q


@dataclass(frozen=True)
class TorsMajor:
    """What differs between the majors we serve: namespaces, the ELMO inside, the academic year (v3 only)."""

    get_ns: str
    index_ns: str
    elmo_version: str
    with_year: bool

    @property
    def elmo_ns(self) -> str:
        return NAMESPACES[self.elmo_version]

    @property
    def elmo_slot(self) -> bytes:
        return f'<elmo xmlns="{self.elmo_ns}"/>'.encode()


TORS_V3 = TorsMajor(endpoint_ns(IMOBILITY_TORS, "get-response"), endpoint_ns(IMOBILITY_TORS, "index-response"),
                    ELMO_VERSION, True)
TORS_V2 = TorsMajor(endpoint_ns(IMOBILITY_TORS_V2, "get-response"), endpoint_ns(IMOBILITY_TORS_V2, "index-response"),
                    ELMO_V1_VERSION, False)
TORS_GET, TORS_INDEX, ELMO_NS = TORS_V3.get_ns, TORS_V3.index_ns, TORS_V3.elmo_ns


def _sub(parent: etree._Element, local: str, text: str | None = None) -> etree._Element:
    element = etree.SubElement(parent, q(etree.QName(parent).namespace or "", local))
    element.text = text
    return element


def _tor(parent: etree._Element, transcript: IssuedTranscript, major: TorsMajor) -> None:
    tor = _sub(parent, "tor")
    _sub(tor, "omobility-id", transcript.omobility_id)
    if major.with_year:
        _sub(tor, "receiving-academic-year-id", transcript.receiving_academic_year_id)
    etree.SubElement(tor, q(major.elmo_ns, "elmo"), nsmap={None: major.elmo_ns})  # the signed document's slot


def build_conversion_table(tables: IscedTables, major: TorsMajor = TORS_V3) -> bytes:
    """The ToR's ``<gradeConversionTable>``, serialised once when the transcript is issued (empty: none)."""
    if not tables:
        return b""
    table = etree.Element(q(major.get_ns, "gradeConversionTable"), nsmap={None: major.get_ns})
    for code, rows in tables:
        isced = _sub(table, "iscedTable")
        isced.set("iscedCode", code)
        for label, percentage in rows:
            etree.SubElement(isced, q(major.get_ns, "gradeFrequency"), label=label,
                             percentage=format(percentage, "f"))
    return etree.tostring(table)


def _without_declaration(document: bytes) -> memoryview:
    """The document from its root element on (a view: 4 MB of transcripts are not copied twice)."""
    start = document.index(b"<", document.index(b"?>")) if document.startswith(b"<?xml") else 0
    return memoryview(document)[start:]


def build_tors_get(transcripts: Sequence[IssuedTranscript], major: TorsMajor = TORS_V3) -> bytes:
    """The get response, serialised, each transcript's signed ``<elmo>`` (and its conversion table) in its slot."""
    root = etree.Element(q(major.get_ns, "imobility-tors-get-response"), nsmap={None: major.get_ns})
    for transcript in transcripts:
        _tor(root, transcript, major)
    parts = serialize(root).split(major.elmo_slot)
    if len(parts) != len(transcripts) + 1:
        raise AssertionError("an ELMO slot is missing from the serialised skeleton")
    spliced: list[bytes | memoryview] = [parts[0]]
    for transcript, rest in zip(transcripts, parts[1:], strict=True):
        elmo, table = ((transcript.elmo, transcript.conversion_table) if major is TORS_V3
                       else (transcript.elmo_v1, transcript.conversion_table_v1))
        spliced += [_without_declaration(elmo), table, rest]
    return b"".join(spliced)


def build_tors_index(omobility_ids: Iterable[str], major: TorsMajor = TORS_V3) -> etree._Element:
    root = etree.Element(q(major.index_ns, "imobility-tors-index-response"), nsmap={None: major.index_ns})
    for omobility_id in omobility_ids:
        etree.SubElement(root, q(major.index_ns, "omobility-id")).text = omobility_id
    return root


def build_tor_stats(years: Iterable[tuple[str, int]]) -> etree._Element:
    """The IMobility ToR Stats v1 response: transcripts issued per receiving academic year."""
    root = etree.Element(q(IMOBILITY_TOR_STATS, "imobility-tor-stats-response"), nsmap={None: IMOBILITY_TOR_STATS})
    for year, total in years:
        stats = etree.SubElement(root, q(IMOBILITY_TOR_STATS, "academic-year-stats"))
        etree.SubElement(stats, q(IMOBILITY_TOR_STATS, "receiving-academic-year-id")).text = year
        etree.SubElement(stats, q(IMOBILITY_TOR_STATS, "imobility-tor-total")).text = str(total)
    return root


@dataclass(frozen=True)
class FetchedTor:
    """One ``<tor>`` of a partner's get response: the ``<elmo>`` cut out as bytes, and its ISCED tables."""

    omobility_id: str
    elmo: bytes
    #: ISCED code -> ``(label, percentage)`` rows, in the partner's order.
    isced_tables: dict[str, tuple[tuple[str, Decimal], ...]]


class InvalidTorResponse(ValueError):
    """The partner's answer is not an IMobility ToRs get response we can read."""


def parse_tors_get(root: etree._Element) -> list[FetchedTor]:
    """The transcripts of a v3 or v2 get response (the major told by the root's namespace)."""
    major = next((m for m in (TORS_V3, TORS_V2) if root.tag == q(m.get_ns, "imobility-tors-get-response")), None)
    if major is None:
        raise InvalidTorResponse(f"not an IMobility ToRs v3 or v2 get response: {root.tag}")
    ns = major.get_ns
    fetched = []
    for tor in root.iterfind(q(ns, "tor")):
        omobility_id = (tor.findtext(q(ns, "omobility-id")) or "").strip()
        elmo = tor.find(q(major.elmo_ns, "elmo"))
        if not omobility_id or elmo is None:
            raise InvalidTorResponse(f"a <tor> lacks its omobility-id or its ELMO {major.elmo_version} document")
        tables: dict[str, tuple[tuple[str, Decimal], ...]] = {}
        for isced in tor.iterfind(f"{q(ns, 'gradeConversionTable')}/{q(ns, 'iscedTable')}"):
            try:
                tables[isced.get("iscedCode", "")] = tuple(
                    (row.get("label", ""), Decimal(row.get("percentage", "")))
                    for row in isced.iterfind(q(ns, "gradeFrequency")))
            except ArithmeticError:
                raise InvalidTorResponse(f"a percentage of ISCED table {isced.get('iscedCode')} is not a number"
                                         ) from None
        # A copy declares only the namespaces the document uses: the response root's other declarations (which
        # ``tostring`` of the element in place would carry along) are not part of what the partner signed.
        fetched.append(FetchedTor(omobility_id, etree.tostring(copy.deepcopy(elmo)), tables))
    return fetched

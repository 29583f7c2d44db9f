"""The one safe XML parser for everything that comes from outside.

No DTD loading, no entity resolution, no network, no huge trees, a size bound checked before parsing and
an explicit rejection of any DOCTYPE (so neither internal entities nor "billion laughs" get a chance).
"""

from __future__ import annotations

from lxml import etree

#: Default bound on a document received from a partner. EWP responses are small; the largest (ToRs with
#: a PDF attachment) stay well under this. Raising it widens the memory a hostile partner can make us use.
MAX_DOCUMENT_BYTES = 16 * 1024 * 1024


class MalformedDocument(ValueError):
    """The bytes are not an acceptable XML document (too large, not well-formed, DTD or entities)."""


_XINCLUDE_NAMESPACES = ("{http://www.w3.org/2001/XInclude}", "{http://www.w3.org/2003/XInclude}")


class _RefuseExternal(etree.Resolver):
    """Answers every external reference (DTD, entity) with nothing: libxml2 would otherwise open a local
    ``file://`` DTD even with ``load_dtd=False``, which lets a partner probe our file system."""

    def resolve(self, system_url, public_id, context):  # type: ignore[no-untyped-def]
        return self.resolve_string("", context)


def _parser() -> etree.XMLParser:
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=False,
        remove_pis=False,
        collect_ids=False,
    )
    parser.resolvers.add(_RefuseExternal())
    return parser


def parse_xml(data: bytes, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> etree._Element:
    """Parse untrusted bytes into an element tree.

    :param data: the raw document bytes, exactly as received.
    :param max_bytes: refuse larger documents before parsing.
    :raises MalformedDocument: for oversize input, a DOCTYPE, entity references or bad syntax.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("parse_xml takes bytes; encode text before parsing")
    if len(data) > max_bytes:
        raise MalformedDocument(f"document too large: {len(data)} bytes (limit {max_bytes})")
    if not data.strip():
        raise MalformedDocument("empty document")
    try:
        root = etree.fromstring(bytes(data), _parser())
    except etree.XMLSyntaxError as exc:
        raise MalformedDocument(f"not well-formed XML: {exc}") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None or tree.docinfo.externalDTD is not None:
        raise MalformedDocument("DOCTYPE declarations are not accepted")
    for _entity in root.iter(etree.Entity):
        raise MalformedDocument("entity references are not accepted")
    for node in root.iter(*(f"{prefix}*" for prefix in _XINCLUDE_NAMESPACES)):
        raise MalformedDocument(f"XInclude is not accepted ({etree.QName(node).localname})")
    return root

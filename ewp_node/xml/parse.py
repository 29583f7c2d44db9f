"""The one safe XML parser for everything that comes from outside.

No DTD loading, no entity resolution, no network, no huge trees, a size bound checked before parsing and
an explicit rejection of any DOCTYPE (so neither internal entities nor "billion laughs" get a chance).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator

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


_SAFE_OPTIONS = {"resolve_entities": False, "no_network": True, "load_dtd": False, "dtd_validation": False,
                 "huge_tree": False, "collect_ids": False}
#: Bytes fed to the streaming parser at a time: bounds the events (and elements) queued between reads.
_STREAM_CHUNK = 64 * 1024


def _parser() -> etree.XMLParser:
    parser = etree.XMLParser(remove_comments=False, remove_pis=False, **_SAFE_OPTIONS)
    parser.resolvers.add(_RefuseExternal())
    return parser


def _check_input(data: bytes, max_bytes: int) -> None:
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError("parse_xml takes bytes; encode text before parsing")
    if len(data) > max_bytes:
        raise MalformedDocument(f"document too large: {len(data)} bytes (limit {max_bytes})")
    if not data.strip():
        raise MalformedDocument("empty document")


def _refuse_doctype(tree: etree._ElementTree) -> None:
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None or tree.docinfo.externalDTD is not None:
        raise MalformedDocument("DOCTYPE declarations are not accepted")


def parse_xml(data: bytes, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> etree._Element:
    """Parse untrusted bytes into an element tree.

    :param data: the raw document bytes, exactly as received.
    :param max_bytes: refuse larger documents before parsing.
    :raises MalformedDocument: for oversize input, a DOCTYPE, entity references or bad syntax.
    """
    _check_input(data, max_bytes)
    try:
        root = etree.fromstring(bytes(data), _parser())
    except etree.XMLSyntaxError as exc:
        raise MalformedDocument(f"not well-formed XML: {exc}") from None
    _refuse_doctype(root.getroottree())
    for _entity in root.iter(etree.Entity):
        raise MalformedDocument("entity references are not accepted")
    _refuse_xinclude(root)
    return root


def _refuse_xinclude(element: etree._Element) -> None:
    for node in element.iter(*(f"{prefix}*" for prefix in _XINCLUDE_NAMESPACES)):
        raise MalformedDocument(f"XInclude is not accepted ({etree.QName(node).localname})")


def iter_elements(data: bytes, root: str, tags: Collection[str], *, max_bytes: int) -> Iterator[etree._Element]:
    """Stream the ``tags`` elements of untrusted bytes, each yielded complete (at its end tag).

    The same rules as :func:`parse_xml` (no DOCTYPE, no entities, no XInclude in what is yielded (the rest is
    never read), bounded size), without ever holding the
    whole tree: once the caller asks for the next element, the one yielded before is cleared together with
    every earlier sibling, so memory stays bounded by the largest element plus one input chunk. Read what
    you need from an element before asking for the next one; nest no yielded tag inside another.

    :param root: the root element's Clark name: any other root is refused.
    :raises MalformedDocument: for oversize input, another root, a DOCTYPE, entity references or bad syntax;
        it may come after some elements were yielded: treat what was read as lost.
    """
    _check_input(data, max_bytes)
    parser = etree.XMLPullParser(events=("end",), tag=tuple(tags), **_SAFE_OPTIONS)
    parser.resolvers.add(_RefuseExternal())
    view = memoryview(data)
    checked = False
    try:
        for start in range(0, len(view), _STREAM_CHUNK):
            parser.feed(bytes(view[start:start + _STREAM_CHUNK]))
            for _event, element in parser.read_events():
                if not checked:  # the prolog and the root's start tag are parsed before any element ends
                    _check_stream_root(element.getroottree(), root)
                    checked = True
                _refuse_xinclude(element)
                yield element
                element.clear(keep_tail=False)
                parent = element.getparent()
                while parent is not None and element.getprevious() is not None:
                    del parent[0]
        document = parser.close()
    except etree.XMLSyntaxError as exc:
        raise MalformedDocument(f"not well-formed XML: {exc}") from None
    _check_stream_root(document.getroottree(), root)
    for _entity in document.iter(etree.Entity):
        raise MalformedDocument("entity references are not accepted")


def _check_stream_root(tree: etree._ElementTree, tag: str) -> None:
    _refuse_doctype(tree)
    if tree.getroot().tag != tag:
        raise MalformedDocument(f"root element is {tree.getroot().tag!r}, not {tag!r}")

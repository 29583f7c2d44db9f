"""An exchange's stored capture made readable for the console: header tables and bodies, XML pretty-printed.

Bodies come from partners: they are parsed only with the project's hardened parser
(:func:`ewp_node.xml.parse.parse_xml`), and anything that is not a whole XML document (a form, a cut body, a
DOCTYPE) is shown as text. The templates escape whatever is shown.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from lxml import etree

from ewp_node.store.audit import AuditEntry, Direction
from ewp_node.store.captures import Capture
from ewp_node.xml.parse import MalformedDocument, parse_xml

#: The HEI of a node's own URL on a multi-HEI node (``/hei/<id>/ewp/...``).
_HEI_PATH = re.compile(r"^/hei/([^/?]+)/")


@dataclass(frozen=True)
class Body:
    """One body as the console shows it: ``text`` None when the bytes are not text."""

    text: str | None
    xml: bool
    #: Bytes as sent, and how many of them were kept (fewer when the body was over the cap).
    length: int
    kept: int

    @property
    def cut(self) -> bool:
        return self.kept < self.length


@dataclass(frozen=True)
class Wire:
    url: str
    request_headers: list[tuple[str, str]]
    request_body: Body | None
    response_headers: list[tuple[str, str]]
    response_body: Body | None


def wire(capture: Capture) -> Wire:
    return Wire(url=capture.url, request_headers=list(capture.request_headers),
                request_body=_body(capture.request_body, capture.request_bytes),
                response_headers=list(capture.response_headers),
                response_body=_body(capture.response_body, capture.response_bytes))


def _body(data: bytes | None, length: int | None) -> Body | None:
    if data is None:
        return None
    length = len(data) if length is None else length
    if len(data) == length:
        pretty = pretty_xml(data)
        if pretty is not None:
            return Body(pretty, True, length, len(data))
    try:
        text: str | None = data.decode()
    except UnicodeDecodeError:
        text = data.decode(errors="replace") if length > len(data) else None  # a cut may split a character
    return Body(text, False, length, len(data))


def pretty_xml(data: bytes) -> str | None:
    """``data`` re-indented when it is one well-formed XML document the hardened parser accepts, else None."""
    try:
        root = parse_xml(data)
    except (MalformedDocument, ValueError):
        return None
    etree.indent(root, space="  ")
    return etree.tostring(root, encoding="unicode")


def visible_to(entry: AuditEntry, capture: Capture, user_heis: Collection[str], node_heis: Collection[str]) -> bool:
    """May a user scoped to ``user_heis`` (empty: every HEI of the node) read this exchange's headers and
    bodies? Yes when the scope covers every HEI of the node, or when the exchange was served on the URL of one
    of the user's HEIs; an exchange whose HEI of ours is not known (our client's calls, the shared URLs of a
    multi-HEI node) stays with the users of every HEI."""
    if not user_heis or set(node_heis) <= set(user_heis):
        return True
    found = _HEI_PATH.match(capture.url) if entry.direction is Direction.IN else None
    return found is not None and found[1] in user_heis

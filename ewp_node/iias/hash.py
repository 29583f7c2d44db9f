"""The IIA ``iia-hash``: a port of the official ``text-to-hash`` stylesheets (``transform_version_7.xsl``, and
``transform_version_6.xsl`` for re-hashing a stored v6 copy), one IIA at a time.

What is hashed is described in ``../shared/ewp-specs/IIA-HASH.md``: the partners' ``iia-id``s and every leaf of
every cooperation condition as ``_name=value_`` items, contacts and the year elements left out of the walk, the
years appended at the end of each condition, ``not-yet-defined`` fields dropped and ``v6-value`` ISCED codes
restored. Names are matched by local name only (namespaces and prefixes never matter), values are taken raw
(no trimming, no escaping, no Unicode normalisation) and the digest is SHA-256 over the UTF-8 bytes.

:func:`hash_iia` hashes one ``<iia>`` as if it were alone in its response: that is what we publish for our own
copy and what we check a partner's copy against. :func:`hash_response` reproduces the stylesheet run over a
whole get response, including its document-wide termination and ``valid-for-approval`` tests (one terminated
IIA marks every IIA of the response).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from lxml import etree

HashVersion = Literal[6, 7]

_CONTACTS = frozenset({"sending-contact", "receiving-contact"})
_V7_YEARS = ("receiving-first-academic-year-id", "receiving-last-academic-year-id")
_V6_YEAR = "receiving-academic-year-id"
_MARKED = ("true", "1")
_NOT_YET_DEFINED = "not-yet-defined"
_V6_VALUE = "v6-value"
_TERMINATED = "terminated-as-a-whole"
_TERMINATED_ITEM = "_@terminated-as-a-whole@_"


@dataclass(frozen=True)
class IiaHash:
    """The stylesheet's output for one IIA.

    :ivar iia_id: the first partner's ``iia-id`` (the id of the copy's owner).
    :ivar text: the ``text-to-hash`` string.
    :ivar sha256: lower-case hex SHA-256 of ``text`` in UTF-8: the ``iia-hash``.
    :ivar valid_for_approval: False when ``not-yet-defined`` or ``v6-value`` markers are present: such a copy
        (a v6 agreement migrated with data missing) MUST NOT be approved.
    """

    iia_id: str
    text: str
    sha256: str
    valid_for_approval: bool


def hash_iia(iia: etree._Element, *, version: HashVersion = 7) -> IiaHash:
    """Hash one ``<iia>`` element (of any namespace), looking at nothing outside it.

    :raises ValueError: for input the official stylesheet fails on (several ``iia-id`` in one partner,
        several first or last academic years in one condition).
    """
    return _hash(iia, scope=iia, version=version)


def hash_response(root: etree._Element, *, version: HashVersion = 7) -> list[IiaHash]:
    """Hash every ``<iia>`` of a document exactly as the official stylesheet does, document-wide tests
    included. Use :func:`hash_iia` to hash a partner's copy; this exists to reproduce the stylesheet."""
    return [_hash(iia, scope=root, version=version) for iia in _elements_named(root, "iia")]


def _hash(iia: etree._Element, *, scope: etree._Element, version: HashVersion) -> IiaHash:
    items: list[str] = []
    if version == 7 and _terminated(scope):
        items.append(_TERMINATED_ITEM)
    partners = _children_named(iia, "partner")
    for position, partner in enumerate(partners, start=1):
        items.append(f"_iia-id_{position}={_single_value(partner, 'iia-id')}_")
    for conditions in _children_named(iia, "cooperation-conditions"):
        for spec in conditions.iterchildren(etree.Element):
            _condition_items(spec, version, items)
    text = "".join(items)
    return IiaHash(
        iia_id=_single_value(partners[0], "iia-id") if partners else "",
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        valid_for_approval=version == 6 or not _has_markers(scope),
    )


def _condition_items(spec: etree._Element, version: HashVersion, items: list[str]) -> None:
    """Append one cooperation condition's items: its walk, then its first and last receiving year."""
    outer_marked = False
    outer_contact = False
    for ancestor in spec.iterancestors():
        outer_contact = outer_contact or _local(ancestor) in _CONTACTS
        outer_marked = outer_marked or (version == 7 and ancestor.get(_NOT_YET_DEFINED) in _MARKED)
    if version == 7:
        outer_marked = outer_marked or spec.get(_NOT_YET_DEFINED) in _MARKED
        _walk(spec, _local(spec), _local(spec.getparent()), outer_contact, outer_marked, items)
        for year in _V7_YEARS:
            items.append(f"_{year}={_single_value(spec, year)}_")
    else:
        _walk_v6(spec, _local(spec), _local(spec.getparent()), outer_contact, items)
        years = [_string_value(year) for year in _children_named(spec, _V6_YEAR)]
        items.append(f"_{_V7_YEARS[0]}={years[0] if years else ''}_")
        items.append(f"_{_V7_YEARS[1]}={years[-1] if years else ''}_")


def _walk(
    parent: etree._Element, parent_name: str, grandparent_name: str, in_contact: bool, marked: bool, items: list[str]
) -> None:
    """v7 walk of ``parent``'s descendants in document order (see IIA-HASH.md 3.3)."""
    for element in parent.iterchildren(etree.Element):
        name = _local_name(element.tag)
        attributes = element.items()
        element_marked = marked or (bool(attributes) and element.get(_NOT_YET_DEFINED) in _MARKED)
        children = _has_child_elements(element)
        if not (in_contact or element_marked or name in _V7_YEARS):
            path = f"{grandparent_name}.{parent_name}.{name}"
            for attribute, value in attributes:
                if attribute not in (_NOT_YET_DEFINED, _V6_VALUE):
                    items.append(f"_@{path}.{_local_name(attribute)}={value}@_")
            if not children:
                value = element.get(_V6_VALUE) if attributes and name == "isced-f-code" else None
                items.append(f"_{path}={value or _string_value(element)}_")
        if children:
            _walk(element, name, parent_name, in_contact or name in _CONTACTS, element_marked, items)


def _walk_v6(
    parent: etree._Element, parent_name: str, grandparent_name: str, in_contact: bool, items: list[str]
) -> None:
    """v6 walk: no markers, no attributes, the repeated ``receiving-academic-year-id`` left out."""
    for element in parent.iterchildren(etree.Element):
        name = _local_name(element.tag)
        if not (in_contact or name == _V6_YEAR or _has_child_elements(element)):
            items.append(f"_{grandparent_name}.{parent_name}.{name}={_string_value(element)}_")
        _walk_v6(element, name, parent_name, in_contact or name in _CONTACTS, items)


def _terminated(scope: etree._Element) -> bool:
    return any(
        _local_name(attribute) == _TERMINATED and value in _MARKED
        for conditions in _elements_named(scope, "cooperation-conditions")
        for attribute, value in conditions.items()
    )


def _has_markers(scope: etree._Element) -> bool:
    return any(
        element.get(_NOT_YET_DEFINED) in _MARKED or bool(element.get(_V6_VALUE))
        for element in scope.iter(etree.Element)
    )


def _single_value(parent: etree._Element, name: str) -> str:
    found = _children_named(parent, name)
    if len(found) > 1:
        raise ValueError(f"<{_local(parent)}> has {len(found)} <{name}> elements; the hash allows at most one")
    return _string_value(found[0]) if found else ""


def _string_value(element: etree._Element) -> str:
    """The XPath string value: all descendant text (CDATA included, comments and PIs left out)."""
    if len(element) == 0:
        return element.text or ""
    return str(element.xpath("string()"))


def _has_child_elements(element: etree._Element) -> bool:
    """Whether ``element`` has child elements (comments and PIs do not count)."""
    return len(element) > 0 and any(isinstance(child.tag, str) for child in element)


def _children_named(parent: etree._Element, name: str) -> list[etree._Element]:
    """Child elements of that local name, in any namespace or none."""
    return list(parent.iterchildren(f"{{*}}{name}"))


def _elements_named(root: etree._Element, name: str) -> Iterator[etree._Element]:
    """``root`` and its descendants of that local name, in any namespace or none, in document order."""
    return root.iter(f"{{*}}{name}")


def _local(element: etree._Element | None) -> str:
    return "" if element is None else _local_name(element.tag)


@functools.lru_cache(maxsize=512)
def _local_name(clark: str) -> str:
    """Local name of a Clark name (cached: an IIA has a few dozen distinct tags, hashed over and over)."""
    return clark.rpartition("}")[2]

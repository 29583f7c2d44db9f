"""An immutable index over one Registry catalogue: which host serves API X for HEI Y, which keys speak for whom.

Spec: ewp-specs-api-registry v1.5.0 (catalogue.xsd); SECURITY.md (b.2 step 6) and (e).

Building the index is one streaming pass (the tree is never held whole: the parse peak stays near the
catalogue's own size) that keeps only what lookups need: hosts' covered HEI ids and key references as
tuples, HEI names and other ids as tuples, verified key texts, and each host's ``<apis-implemented>``
zlib-compressed. :class:`ApiEntry` values, a host's entries, RSA keys and :class:`HeiInfo` are
materialised on first use and memoised under a lock; readers never lock. bench/registry.py measures it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import re
import threading
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import NamedTuple, TypeVar

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from lxml import etree

from ewp_node.registry.httpsec import DEFAULT_HTTP_SECURITY, HttpSecurity
from ewp_node.security.keys import MIN_RSA_BITS, fingerprint, load_public_key_b64
from ewp_node.xml.ns import GH, REGISTRY, XML_LANG, q
from ewp_node.xml.parse import MalformedDocument, iter_elements, parse_xml

logger = logging.getLogger(__name__)

#: Bound on the catalogue size. The production catalogue is a few MiB; raising this only widens the memory
#: a compromised or broken registry response can make us use.
MAX_CATALOGUE_BYTES = 128 * 1024 * 1024

#: Namespaces of EWP manifest entries (registry catalogue.xsd: ``apis-implemented`` holds ``##other``).
_ENTRY_NAMESPACE = re.compile(rf"{re.escape(GH)}/ewp-specs-[a-z0-9-]+/blob/stable-v[0-9]+/manifest-entry\.xsd")
#: common-types.xsd ``ManifestApiEntryBase/@version`` is ``[0-9]+\.[0-9]+\.[0-9]+``.
_VERSION = re.compile(r"([0-9]+)\.([0-9]+)\.([0-9]+)")
#: APIs every host implements for itself: several hosts of one HEI listing them is no conflict.
_HOST_LEVEL_APIS = frozenset({"discovery", "registry"})
#: registry catalogue.xsd ``OtherHeiId``: "euc" is a deprecated alias of "erasmus-charter".
_OTHER_ID_ALIASES = {"euc": "erasmus-charter"}

_CATALOGUE = q(REGISTRY, "catalogue")
_HOST = q(REGISTRY, "host")
_APIS = q(REGISTRY, "apis-implemented")
_COVERED = q(REGISTRY, "institutions-covered")
_HEI_ID = q(REGISTRY, "hei-id")
_CLIENT_CREDENTIALS = q(REGISTRY, "client-credentials-in-use")
_SERVER_CREDENTIALS = q(REGISTRY, "server-credentials-in-use")
_RSA_KEY = q(REGISTRY, "rsa-public-key")
_INSTITUTIONS = q(REGISTRY, "institutions")
_HEI = q(REGISTRY, "hei")
_OTHER_ID = q(REGISTRY, "other-id")
_NAME = q(REGISTRY, "name")
_BINARIES = q(REGISTRY, "binaries")

_K = TypeVar("_K")
_V = TypeVar("_V")


@dataclass(frozen=True, slots=True)
class ApiEntry:
    """One API entry of one catalogue host, as a client needs it.

    ``urls`` maps ``url`` and every ``*-url`` child to its text, ``limits`` every ``max-*`` child to its
    integer, ``flags`` the other simple children (``supports-modified-since``...) to their text.
    ``server_key_ids`` are the only keys a response signature of this entry may use (SECURITY.md b.2 step 6).
    """

    name: str
    namespace: str
    version: str
    major: int
    host_index: int
    urls: Mapping[str, str]
    limits: Mapping[str, int]
    flags: Mapping[str, str]
    security: HttpSecurity
    server_key_ids: frozenset[str]


@dataclass(frozen=True, slots=True)
class HeiInfo:
    """A HEI of ``<institutions>``: its SCHAC id, names by language ('' = no language), other ids by type."""

    id: str
    names: Mapping[str, tuple[str, ...]]
    other_ids: Mapping[str, tuple[str, ...]]

    def name(self, lang: str = "en") -> str | None:
        """A name in ``lang``, else an English one, else any."""
        for candidate in (lang, "en"):
            if self.names.get(candidate):
                return self.names[candidate][0]
        return next((values[0] for values in self.names.values() if values), None)


class _EntryRef(NamedTuple):
    version_key: tuple[int, int, int]
    host_index: int
    element: etree._Element


@lru_cache(maxsize=1024)
def _entry_tag(tag: str) -> tuple[str, str] | None:
    """(namespace, local name) of an EWP manifest entry tag, else None."""
    namespace, _, local = tag[1:].partition("}")
    return (namespace, local) if tag[:1] == "{" and _ENTRY_NAMESPACE.fullmatch(namespace) else None


@lru_cache(maxsize=1024)
def _version_key(version: str | None) -> tuple[int, int, int] | None:
    match = _VERSION.fullmatch(version.strip()) if version else None
    return (int(match[1]), int(match[2]), int(match[3])) if match else None


def _text(element: etree._Element) -> str:
    return (element.text or "").strip()


def _hei_key(hei_id: str) -> str:
    return hei_id.strip().lower()


def _verified_binaries(binaries: etree._Element | None) -> dict[str, str]:
    """Fingerprint -> base64 text of every ``<binaries>`` key whose content hashes to its ``sha-256``."""
    verified: dict[str, str] = {}
    for element in binaries.iterchildren(_RSA_KEY) if binaries is not None else ():
        claimed = (element.get("sha-256") or "").lower()
        text = element.text or ""
        try:
            actual = hashlib.sha256(base64.b64decode("".join(text.split()), validate=True)).hexdigest()
        except binascii.Error:
            actual = None
        if actual == claimed:
            verified.setdefault(claimed, text)
        else:
            logger.warning("catalogue binaries: key content does not match sha-256=%s; ignored", claimed[:64])
    return verified


def _load_key(key_id: str, text: str) -> RSAPublicKey | None:
    """The RSA key of a verified binary, or None (logged) if it is unusable."""
    try:
        key = load_public_key_b64(text)
    except ValueError as exc:
        logger.warning("catalogue key %s unusable: %s", key_id, exc)
        return None
    if key.key_size < MIN_RSA_BITS:
        logger.warning("catalogue key %s has %d bits (< %d); ignored", key_id, key.key_size, MIN_RSA_BITS)
        return None
    if fingerprint(key) != key_id:
        logger.warning("catalogue key %s is not in canonical SPKI DER form; ignored", key_id)
        return None
    return key


class _Host(NamedTuple):
    """What the index keeps of one ``<host>``: covered HEIs, server keys, and its API entries compressed."""

    heis: tuple[str, ...]
    server_keys: frozenset[str]
    #: ``<apis-implemented>`` serialised and zlib-compressed: most hosts are never asked for, and the
    #: materialised entries of thousands of hosts would cost far more than the few KiB each compresses to.
    apis: bytes | None


class _Hei(NamedTuple):
    """What the index keeps of one ``<institutions>/<hei>``: ``(lang, name)`` and ``(type, value)`` pairs."""

    names: tuple[tuple[str, str], ...]
    other_ids: tuple[tuple[str, str], ...]


class _CatalogueReader:
    """One streaming pass over a catalogue: keeps what lookups need, never the tree."""

    def __init__(self) -> None:
        self.hosts: list[_Host] = []
        self.heis: dict[str, _Hei] = {}
        self.binaries: dict[str, str] = {}
        self.client_key_hosts: dict[str, list[int]] = {}

    def read(self, data: bytes) -> CatalogueIndex:
        try:
            for element in iter_elements(data, _CATALOGUE, (_HOST, _HEI, _BINARIES), max_bytes=MAX_CATALOGUE_BYTES):
                self._read(element)
        except MalformedDocument as exc:
            raise MalformedDocument(f"not a Registry catalogue: {exc}") from None
        return CatalogueIndex(self.hosts, self.heis, self.binaries, self.client_key_hosts)

    def _read(self, element: etree._Element) -> None:
        parent = element.getparent()
        if element.tag == _HOST and parent is not None and parent.tag == _CATALOGUE:
            self._read_host(element)
        elif element.tag == _HEI and parent is not None and parent.tag == _INSTITUTIONS:
            self._read_hei(element)
        elif element.tag == _BINARIES and parent is not None and parent.tag == _CATALOGUE:
            self.binaries = _verified_binaries(element)

    def _read_host(self, host: etree._Element) -> None:
        apis: bytes | None = None
        heis: tuple[str, ...] = ()
        server_keys: frozenset[str] = frozenset()
        for part in host.iterchildren():
            tag = part.tag
            if tag == _APIS:
                apis = zlib.compress(etree.tostring(part, with_tail=False), 1)
            elif tag == _COVERED:
                heis = tuple(h for h in dict.fromkeys(map(_hei_key, part.itertext(_HEI_ID, with_tail=False))) if h)
            elif tag == _CLIENT_CREDENTIALS:
                for key_id in _key_refs(part):
                    self.client_key_hosts.setdefault(key_id, []).append(len(self.hosts))
            elif tag == _SERVER_CREDENTIALS:
                server_keys = frozenset(_key_refs(part))
        self.hosts.append(_Host(heis=heis, server_keys=server_keys, apis=apis))

    def _read_hei(self, hei: etree._Element) -> None:
        hei_id = _hei_key(hei.get("id") or "")
        if not hei_id or hei_id in self.heis:
            return
        names, other_ids = [], []
        for child in hei.iterchildren(_NAME, _OTHER_ID):
            if child.tag == _NAME:
                names.append((child.get(XML_LANG) or "", _text(child)))
            else:
                other_ids.append((child.get("type") or "", _text(child)))
        self.heis[hei_id] = _Hei(names=tuple(names), other_ids=tuple(other_ids))


def _key_refs(credentials: etree._Element) -> list[str]:
    return [(el.get("sha-256") or "").lower() for el in credentials.iterchildren(_RSA_KEY)]


class CatalogueIndex:
    """O(1) lookups over one catalogue. Build it with :meth:`from_bytes`; it never changes after.

    It keeps only what lookups need (a few MiB for a 5,000-HEI catalogue, see bench/registry.py): host
    coverage and key references as tuples, each host's API entries compressed until first asked for.
    """

    def __init__(self, hosts: list[_Host], heis: dict[str, _Hei], binaries: dict[str, str],
                 client_key_hosts: dict[str, list[int]]) -> None:
        self._lock = threading.RLock()
        self._hosts = hosts
        self._hei_records = heis
        self._binaries = binaries
        self._client_key_hosts = client_key_hosts
        self._server_key_ids = frozenset(k for host in hosts for k in host.server_keys)
        self._hei_hosts: dict[str, list[int]] = {}
        for host_index, host in enumerate(hosts):
            for hei_id in host.heis:
                self._hei_hosts.setdefault(hei_id, []).append(host_index)
        self._all_hei_ids = frozenset(heis.keys() | self._hei_hosts.keys())
        self._host_apis: dict[int, dict[str, list[_EntryRef]]] = {}
        self.warnings: tuple[str, ...] = tuple(self._find_conflicts())
        if self.warnings:
            logger.warning("catalogue: %d ambiguous API claims, e.g. %s", len(self.warnings), self.warnings[0])
        self._entries: dict[etree._Element, ApiEntry] = {}
        self._lookups: dict[tuple[str, str, int | None], ApiEntry] = {}
        self._keys: dict[str, RSAPublicKey | None] = {}
        self._client_heis: dict[str, frozenset[str]] = {}
        self._heis: dict[str, HeiInfo] = {}
        self._other_ids: dict[tuple[str, str], str] | None = None

    @classmethod
    def from_bytes(cls, data: bytes) -> CatalogueIndex:
        """Parse (with the safe streaming parser) and index a catalogue.

        :param data: the catalogue bytes exactly as served by the Registry.
        :raises MalformedDocument: if the bytes are not a well-formed Registry catalogue.
        """
        return _CatalogueReader().read(data)

    # -- building ---------------------------------------------------------------------------------------

    def _apis_of(self, host_index: int) -> dict[str, list[_EntryRef]]:
        """API entries of one host by local name, indexed on first use (most hosts are never asked for)."""
        try:
            return self._host_apis[host_index]
        except KeyError:
            return self._memoised(self._host_apis, host_index, lambda: self._index_apis(host_index))

    def _index_apis(self, host_index: int) -> dict[str, list[_EntryRef]]:
        found: dict[str, list[_EntryRef]] = {}
        blob = self._hosts[host_index].apis
        apis = parse_xml(zlib.decompress(blob), max_bytes=MAX_CATALOGUE_BYTES) if blob is not None else None
        for entry in apis.iterchildren(tag=etree.Element) if apis is not None else ():
            names = _entry_tag(entry.tag)
            version_key = _version_key(entry.get("version"))
            if names is None or version_key is None:
                continue
            found.setdefault(names[1], []).append(_EntryRef(version_key, host_index, entry))
        return found

    def _find_conflicts(self) -> list[str]:
        """Registry spec: several hosts claiming one (API, major) for a HEI is broken; lookups take the first."""
        conflicts = []
        for hei_id, hosts in self._hei_hosts.items():
            if len(hosts) < 2:
                continue
            claimed: dict[tuple[str, int], int] = {}
            for host_index in hosts:
                for api, refs in self._apis_of(host_index).items():
                    if api in _HOST_LEVEL_APIS:
                        continue
                    for major in {ref.version_key[0] for ref in refs}:
                        first = claimed.setdefault((api, major), host_index)
                        if first != host_index:
                            conflicts.append(
                                f"{hei_id}: {api} v{major} is claimed by hosts #{first} and #{host_index}; "
                                f"using host #{first}"
                            )
        return conflicts

    def _memoised(self, memo: dict[_K, _V], key: _K, build: Callable[[], _V]) -> _V:
        """``memo[key]``, building it once under the lock (readers of a filled memo never lock)."""
        try:
            return memo[key]
        except KeyError:
            pass
        with self._lock:
            if key not in memo:
                memo[key] = build()
            return memo[key]

    # -- API entries ------------------------------------------------------------------------------------

    def api_names(self, hei_id: str) -> frozenset[str]:
        """Local names of every API entry that the hosts covering ``hei_id`` publish."""
        return frozenset(name for host_index in self._hei_hosts.get(hei_id.lower(), ())
                         for name in self._apis_of(host_index))

    def lookup(self, hei_id: str, api: str, major: int | None = None) -> ApiEntry | None:
        """The entry of API ``api`` (the manifest entry's local name) serving ``hei_id``.

        :param hei_id: SCHAC id (case-insensitive).
        :param api: local name of the manifest entry element, e.g. ``iias`` or ``organizational-units``.
        :param major: the major version wanted; ``None`` picks the highest version available.
        :returns: the entry, or None if no host covering the HEI implements it. When several hosts do, the
            first in catalogue order wins and :attr:`warnings` says so.
        """
        key = (hei_id.lower(), api, major)
        found = self._lookups.get(key)
        if found is not None:
            return found
        best: _EntryRef | None = None
        for host_index in self._hei_hosts.get(key[0], ()):
            for ref in self._apis_of(host_index).get(api, ()):
                if (major is None or ref.version_key[0] == major) and (
                    best is None or ref.version_key > best.version_key
                ):
                    best = ref
        if best is None:
            return None
        entry = self._memoised(self._entries, best.element, lambda: self._materialise(best))
        self._lookups[key] = entry
        return entry

    def _materialise(self, ref: _EntryRef) -> ApiEntry:
        namespace, name = _entry_tag(ref.element.tag) or ("", "")
        urls: dict[str, str] = {}
        limits: dict[str, int] = {}
        flags: dict[str, str] = {}
        security = DEFAULT_HTTP_SECURITY
        prefix = f"{{{namespace}}}"
        for child in ref.element:
            tag = child.tag
            if not isinstance(tag, str) or not tag.startswith(prefix):
                continue  # comments, ewp:admin-* and foreign extensions
            local, text = tag[len(prefix) :], _text(child)
            if local == "http-security":
                security = HttpSecurity.from_element(child)
            elif local == "url" or local.endswith("-url"):
                urls[local] = text
            elif local.startswith("max-"):
                if text.isdigit():
                    limits[local] = int(text)
            elif len(child) == 0:
                flags[local] = text
        return ApiEntry(
            name=name,
            namespace=namespace,
            version=(ref.element.get("version") or "").strip(),
            major=ref.version_key[0],
            host_index=ref.host_index,
            urls=MappingProxyType(urls),
            limits=MappingProxyType(limits),
            flags=MappingProxyType(flags),
            security=security,
            server_key_ids=self._hosts[ref.host_index].server_keys,
        )

    # -- keys -------------------------------------------------------------------------------------------

    def is_known_key(self, key_id: str) -> bool:
        """Whether ``<binaries>`` holds a key with this fingerprint (client, server or unused)."""
        return key_id.lower() in self._binaries

    def _key(self, key_id: str) -> RSAPublicKey | None:
        text = self._binaries.get(key_id)
        if text is None:
            return None
        return self._memoised(self._keys, key_id, lambda: _load_key(key_id, text))

    def client_key(self, key_id: str) -> RSAPublicKey | None:
        """The key for a request's ``keyId``, only if some host lists it in ``client-credentials-in-use``."""
        key_id = key_id.lower()
        return self._key(key_id) if key_id in self._client_key_hosts else None

    def server_key(self, key_id: str) -> RSAPublicKey | None:
        """The key for a response's ``keyId`` if some host lists it in ``server-credentials-in-use``.

        To verify a response, also check ``key_id in entry.server_key_ids`` for the entry called.
        """
        key_id = key_id.lower()
        return self._key(key_id) if key_id in self._server_key_ids else None

    def heis_for_client_key(self, key_id: str) -> frozenset[str]:
        """HEIs a client key speaks for: the union over every host listing it (empty if not in binaries)."""
        key_id = key_id.lower()
        if key_id not in self._client_key_hosts or key_id not in self._binaries:
            return frozenset()
        return self._memoised(
            self._client_heis,
            key_id,
            lambda: frozenset(h for i in self._client_key_hosts[key_id] for h in self._hosts[i].heis),
        )

    # -- institutions -----------------------------------------------------------------------------------

    def hei_ids(self) -> frozenset[str]:
        """Every HEI id (lower-case) listed in ``<institutions>`` or covered by a host."""
        return self._all_hei_ids

    def hei(self, hei_id: str) -> HeiInfo | None:
        """Names and other ids of a HEI listed in ``<institutions>``."""
        hei_id = _hei_key(hei_id)
        record = self._hei_records.get(hei_id)
        if record is None:
            return None
        return self._memoised(self._heis, hei_id, lambda: _hei_info(hei_id, record))

    def hei_for_other_id(self, id_type: str, value: str) -> str | None:
        """The SCHAC id of the HEI with ``<other-id type=id_type>value</other-id>`` (e.g. an Erasmus code).

        ``euc`` and ``erasmus-charter`` are the same type (catalogue.xsd). If several HEIs claim the value,
        the first in ``<institutions>`` wins.
        """
        if self._other_ids is None:
            with self._lock:
                if self._other_ids is None:
                    self._other_ids = self._build_other_ids()
        return self._other_ids.get((_OTHER_ID_ALIASES.get(id_type, id_type), value.strip()))

    def _build_other_ids(self) -> dict[tuple[str, str], str]:
        table: dict[tuple[str, str], str] = {}
        for hei_id, record in self._hei_records.items():
            for kind, value in record.other_ids:
                table.setdefault((_OTHER_ID_ALIASES.get(kind, kind), value), hei_id)
        return table


def _hei_info(hei_id: str, record: _Hei) -> HeiInfo:
    names: dict[str, list[str]] = {}
    other_ids: dict[str, list[str]] = {}
    for lang, name in record.names:
        names.setdefault(lang, []).append(name)
    for kind, value in record.other_ids:
        other_ids.setdefault(kind, []).append(value)
    return HeiInfo(
        id=hei_id,
        names=MappingProxyType({lang: tuple(v) for lang, v in names.items()}),
        other_ids=MappingProxyType({kind: tuple(v) for kind, v in other_ids.items()}),
    )

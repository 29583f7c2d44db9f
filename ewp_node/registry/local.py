"""The local Registry of the sandbox and the integration tests: Discovery manifests in, one catalogue out.

Spec: ewp-specs-api-registry v1.5.0 (catalogue.xsd), ewp-specs-api-discovery v6.0.0 (manifest.xsd);
DIGEST.md sections 3 and 4. Like the real Registry it copies each manifest ``<host>``, moves full keys to
``<binaries>`` (referenced by ``sha-256``, keys under 2048 bits dropped), merges every ``<hei>`` into
``<institutions>`` and keeps invalid manifests out (serving their last valid copy, if any).
"""

from __future__ import annotations

import copy
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import requests
from flask import Flask, Response, jsonify, request
from lxml import etree

from ewp_node.security.keys import MIN_RSA_BITS, fingerprint, load_public_key_b64, public_key_b64
from ewp_node.xml.ns import COMMON, DISCOVERY, REGISTRY, XML_LANG, q
from ewp_node.xml.parse import MalformedDocument, parse_xml

logger = logging.getLogger(__name__)

CATALOGUE_PATH = "/catalogue-v1.xml"

_ADMIN_TAGS = frozenset(q(COMMON, name) for name in ("admin-email", "admin-provider", "admin-notes"))
_MANIFEST = q(DISCOVERY, "manifest")
_M_HOST = q(DISCOVERY, "host")
_M_COVERED = q(DISCOVERY, "institutions-covered")
_M_RSA_KEY = q(DISCOVERY, "rsa-public-key")
#: manifest credentials element -> catalogue credentials element (same local names, other namespaces).
_CREDENTIALS = {
    q(DISCOVERY, name): q(REGISTRY, name) for name in ("client-credentials-in-use", "server-credentials-in-use")
}
_APIS = q(REGISTRY, "apis-implemented")
_HEI = q(REGISTRY, "hei")
_NAME = q(REGISTRY, "name")
_OTHER_ID = q(REGISTRY, "other-id")


def _hei_part_key(element: etree._Element) -> tuple[object, ...]:
    return (element.tag, element.get("type"), element.get(XML_LANG), (element.text or "").strip())


class _CatalogueBuilder:
    """Accumulates catalogue hosts, merged HEIs and de-duplicated key binaries."""

    def __init__(self) -> None:
        self.hosts: list[etree._Element] = []
        self.heis: dict[str, etree._Element] = {}
        self.binaries: dict[str, str] = {}

    def add_host(self, host: etree._Element) -> None:
        out = etree.Element(q(REGISTRY, "host"))
        for child in host.iterchildren(tag=etree.Element):
            if child.tag in _ADMIN_TAGS or child.tag == _APIS:
                out.append(copy.deepcopy(child))
            elif child.tag == _M_COVERED:
                covered = etree.SubElement(out, q(REGISTRY, "institutions-covered"))
                for hei in child.iterchildren(_HEI):
                    hei_id = (hei.get("id") or "").strip()
                    if hei_id:
                        etree.SubElement(covered, q(REGISTRY, "hei-id")).text = hei_id
                        self._merge_hei(hei_id, hei)
            elif child.tag in _CREDENTIALS:
                credentials = etree.SubElement(out, _CREDENTIALS[child.tag])
                for key in child.iterchildren(_M_RSA_KEY):
                    key_id = self._add_key(key.text or "")
                    if key_id:
                        etree.SubElement(credentials, q(REGISTRY, "rsa-public-key"), {"sha-256": key_id})
        self.hosts.append(out)

    def _merge_hei(self, hei_id: str, hei: etree._Element) -> None:
        known = self.heis.get(hei_id)
        if known is None:
            self.heis[hei_id] = copy.deepcopy(hei)
            return
        present = {_hei_part_key(part) for part in known}
        first_name = known.find(_NAME)
        for part in hei.iterchildren(_OTHER_ID, _NAME):
            if _hei_part_key(part) in present:
                continue
            if part.tag == _OTHER_ID and first_name is not None:
                first_name.addprevious(copy.deepcopy(part))  # catalogue.xsd: other-id* before name+
            else:
                known.append(copy.deepcopy(part))

    def _add_key(self, text: str) -> str | None:
        try:
            key = load_public_key_b64(text)
        except ValueError as exc:
            logger.warning("manifest key dropped: %s", exc)
            return None
        if key.key_size < MIN_RSA_BITS:
            logger.warning("manifest key dropped: %d bits < %d", key.key_size, MIN_RSA_BITS)
            return None
        key_id = fingerprint(key)
        self.binaries.setdefault(key_id, public_key_b64(key))
        return key_id

    def to_bytes(self) -> bytes:
        if not self.hosts:
            raise ValueError("a catalogue needs at least one host (catalogue.xsd), and no manifest has one")
        root = etree.Element(q(REGISTRY, "catalogue"), nsmap={None: REGISTRY, "ewp": COMMON})
        root.extend(self.hosts)
        etree.SubElement(root, q(REGISTRY, "institutions")).extend(self.heis.values())
        if self.binaries:
            binaries = etree.SubElement(root, q(REGISTRY, "binaries"))
            for key_id, b64 in self.binaries.items():
                etree.SubElement(binaries, q(REGISTRY, "rsa-public-key"), {"sha-256": key_id}).text = b64
        etree.cleanup_namespaces(root)
        data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
        return data


def build_catalogue(manifests: Sequence[etree._Element]) -> bytes:
    """Build the catalogue the Registry would publish for these (already validated) manifests.

    :param manifests: Discovery v6 ``<manifest>`` roots, in catalogue order.
    :raises ValueError: if the manifests have no ``<host>`` at all (a catalogue needs one).
    """
    builder = _CatalogueBuilder()
    for manifest in manifests:
        for host in manifest.iterchildren(_M_HOST):
            builder.add_host(host)
    return builder.to_bytes()


@dataclass(frozen=True)
class ManifestStatus:
    """What the last rebuild made of one manifest URL."""

    url: str
    error: str | None
    included: bool


class LocalRegistry:
    """Polls manifest URLs and serves the resulting catalogue (with an ETag) to the sandbox's nodes."""

    def __init__(
        self,
        manifest_urls: Sequence[str],
        *,
        verify: str | bool = True,
        validator: Callable[[etree._Element], None] | None = None,
        session: requests.Session | None = None,
        rebuild_interval: float = 5.0,
        max_age: int = 60,
        timeout: float = 10.0,
    ) -> None:
        """
        :param manifest_urls: the registered manifest URLs ("manifest sources").
        :param verify: TLS verification for manifest fetches (a CA bundle path, or a bool).
        :param validator: raises ``ValueError`` for an invalid manifest (e.g. ``OfficialSchemas.validate``).
        :param rebuild_interval: seconds a served catalogue may be reused before a GET rebuilds it.
        :param max_age: ``Cache-Control: max-age`` of the catalogue response, in seconds.
        """
        self._urls = tuple(manifest_urls)
        self._verify = verify
        self._validator = validator
        self._session = session or requests.Session()
        self._rebuild_interval = rebuild_interval
        self._max_age = max_age
        self._timeout = timeout
        self._lock = threading.Lock()
        self._last_good: dict[str, etree._Element] = {}
        self._status = [ManifestStatus(url, "not fetched yet", False) for url in self._urls]
        self._published: tuple[bytes, str] | None = None
        self._built_at: float | None = None

    @property
    def catalogue(self) -> bytes | None:
        """The catalogue bytes last built, or None before the first successful build."""
        return self._published[0] if self._published else None

    def manifest_status(self) -> list[ManifestStatus]:
        return list(self._status)

    def rebuild(self) -> list[str]:
        """Fetch and validate every manifest, rebuild the catalogue; returns one message per problem."""
        with self._lock:
            return self._rebuild()

    def _rebuild(self) -> list[str]:
        statuses, manifests, errors = [], [], []
        for url in self._urls:
            error = self._fetch(url)
            included = url in self._last_good
            if included:
                manifests.append(self._last_good[url])
            if error:
                errors.append(f"{url}: {error}")
            statuses.append(ManifestStatus(url, error, included))
        try:
            data = build_catalogue(manifests)
        except ValueError as exc:
            errors.append(f"catalogue not rebuilt: {exc}")
        else:
            self._published = (data, hashlib.sha256(data).hexdigest()[:32])
        self._status = statuses
        self._built_at = time.monotonic()
        for message in errors:
            logger.warning("local registry: %s", message)
        return errors

    def _fetch(self, url: str) -> str | None:
        """Fetch, parse and validate one manifest; on success it becomes the last good copy."""
        try:
            response = self._session.get(url, timeout=self._timeout, verify=self._verify)
            response.raise_for_status()
            manifest = parse_xml(response.content)
            if manifest.tag != _MANIFEST:
                raise MalformedDocument(f"root element {manifest.tag!r} is not a Discovery v6 manifest")
            if self._validator is not None:
                self._validator(manifest)
        except (requests.RequestException, ValueError) as exc:
            return str(exc)
        self._last_good[url] = manifest
        return None

    def _rebuild_if_stale(self) -> None:
        with self._lock:
            if self._built_at is None or time.monotonic() - self._built_at >= self._rebuild_interval:
                self._rebuild()

    def wsgi_app(self) -> Flask:
        """``GET /catalogue-v1.xml`` (ETag, 304), ``POST /refresh``, ``GET /manifest-status``."""
        app = Flask(__name__)

        @app.get(CATALOGUE_PATH)
        def catalogue() -> Response:
            self._rebuild_if_stale()
            if self._published is None:
                return Response("no valid manifest yet\n", status=503, mimetype="text/plain")
            data, etag = self._published
            if request.if_none_match.contains(etag):
                response = Response(status=304)
            else:
                response = Response(data, mimetype="application/xml")
            response.set_etag(etag)
            response.cache_control.max_age = self._max_age
            return response

        @app.post("/refresh")
        def refresh() -> Response:
            return jsonify(errors=self.rebuild())

        @app.get("/manifest-status")
        def manifest_status() -> Response:
            return jsonify([asdict(status) for status in self._status])

        return app

"""Registry test helpers: RSA keys, Discovery manifests built in code, and a loopback WSGI server."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from lxml import etree
from werkzeug.serving import BaseWSGIServer, make_server

from ewp_node.security.keys import public_key_b64
from ewp_node.xml.ns import (
    CLIAUTH_HTTPSIG,
    COMMON,
    DISCOVERY,
    DISCOVERY_ENTRY,
    ECHO_ENTRY,
    GH,
    REGISTRY,
    SEC,
    SRVAUTH_HTTPSIG,
    SRVAUTH_TLSCERT,
    XML_LANG,
    q,
)

INSTITUTIONS_ENTRY = f"{GH}/ewp-specs-api-institutions/blob/stable-v2/manifest-entry.xsd"

ManifestFactory = Callable[..., etree._Element]


@pytest.fixture(scope="session")
def rsa_keys() -> list[RSAPrivateKey]:
    """Six real 2048-bit keys (generated once per session)."""
    return [rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(6)]


def _echo(base_url: str) -> etree._Element:
    entry = etree.Element(q(ECHO_ENTRY, "echo"), nsmap={None: ECHO_ENTRY}, version="2.0.1")
    security = etree.SubElement(entry, q(ECHO_ENTRY, "http-security"))
    client = etree.SubElement(security, q(SEC, "client-auth-methods"))
    etree.SubElement(client, q(CLIAUTH_HTTPSIG, "httpsig"), nsmap={None: CLIAUTH_HTTPSIG})
    server = etree.SubElement(security, q(SEC, "server-auth-methods"))
    etree.SubElement(server, q(SRVAUTH_TLSCERT, "tlscert"), nsmap={None: SRVAUTH_TLSCERT})
    etree.SubElement(server, q(SRVAUTH_HTTPSIG, "httpsig"), nsmap={None: SRVAUTH_HTTPSIG})
    etree.SubElement(entry, q(ECHO_ENTRY, "url")).text = f"{base_url}/echo"
    return entry


def _institutions(base_url: str) -> etree._Element:
    entry = etree.Element(q(INSTITUTIONS_ENTRY, "institutions"), nsmap={None: INSTITUTIONS_ENTRY}, version="2.2.0")
    etree.SubElement(entry, q(INSTITUTIONS_ENTRY, "url")).text = f"{base_url}/institutions"
    etree.SubElement(entry, q(INSTITUTIONS_ENTRY, "max-hei-ids")).text = "1"
    return entry


def _hei(hei_id: str, other_ids: Sequence[tuple[str, str]]) -> etree._Element:
    hei = etree.Element(q(REGISTRY, "hei"), id=hei_id)
    for kind, value in other_ids:
        etree.SubElement(hei, q(REGISTRY, "other-id"), type=kind).text = value
    etree.SubElement(hei, q(REGISTRY, "name"), {XML_LANG: "en"}).text = f"University {hei_id}"
    return hei


@pytest.fixture
def make_manifest() -> ManifestFactory:
    """``make_manifest(hei_ids, base_url, client, server, other_ids=(), extra_entries=())``: a Discovery v6
    manifest with discovery, echo and institutions entries. More than one HEI makes it schema-invalid (v6
    allows one per host) but yields the single-host Dashboard shape in a catalogue."""

    def build(
        hei_ids: Sequence[str],
        base_url: str,
        client: RSAPrivateKey | None,
        server: RSAPrivateKey | None,
        other_ids: Sequence[tuple[str, str]] = (),
        extra_entries: Sequence[etree._Element] = (),
    ) -> etree._Element:
        manifest = etree.Element(q(DISCOVERY, "manifest"), nsmap={None: DISCOVERY, "ewp": COMMON, "r": REGISTRY})
        host = etree.SubElement(manifest, q(DISCOVERY, "host"))
        etree.SubElement(host, q(COMMON, "admin-email")).text = "admin@example.com"
        etree.SubElement(host, q(COMMON, "admin-provider")).text = "ewp-node tests"
        apis = etree.SubElement(host, q(REGISTRY, "apis-implemented"))
        discovery = etree.SubElement(apis, q(DISCOVERY_ENTRY, "discovery"), nsmap={None: DISCOVERY_ENTRY})
        discovery.set("version", "6.0.0")
        etree.SubElement(discovery, q(DISCOVERY_ENTRY, "url")).text = f"{base_url}/manifest.xml"
        apis.extend([_echo(base_url), _institutions(base_url), *extra_entries])
        covered = etree.SubElement(host, q(DISCOVERY, "institutions-covered"))
        covered.extend(_hei(hei_id, other_ids) for hei_id in hei_ids)
        for tag, key in (("client-credentials-in-use", client), ("server-credentials-in-use", server)):
            if key is not None:
                credentials = etree.SubElement(host, q(DISCOVERY, tag))
                etree.SubElement(credentials, q(DISCOVERY, "rsa-public-key")).text = public_key_b64(key.public_key())
        return manifest

    return build


class LoopbackServer:
    """A WSGI app served on 127.0.0.1 (port 0) in a thread; ``stop()`` is bounded."""

    def __init__(self, app: Callable[..., object]) -> None:
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)  # type: ignore[arg-type]
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._server.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[..., object]], LoopbackServer]]:
    """``serve(wsgi_app)`` starts a loopback server, stopped at teardown."""
    servers: list[LoopbackServer] = []

    def start(app: Callable[..., object]) -> LoopbackServer:
        servers.append(LoopbackServer(app))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()

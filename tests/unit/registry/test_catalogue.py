"""CatalogueIndex: the official example, Dashboard-shaped catalogues, key trust rules."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from ewp_node.registry.catalogue import CatalogueIndex
from ewp_node.registry.httpsec import (
    CLIENT_HTTPSIG,
    CLIENT_TLSCERT,
    REQUEST_TLS,
    RESPONSE_TLS,
    SERVER_HTTPSIG,
    SERVER_TLSCERT,
    HttpSecurity,
)
from ewp_node.registry.local import build_catalogue
from ewp_node.security.keys import fingerprint, public_key_b64
from ewp_node.xml.ns import GH, REGISTRY, SEC, q
from ewp_node.xml.parse import MalformedDocument

EXAMPLE_KEY = "5531f9a02c44a894d0b706961259fec740ad4ae8a3555871f1a5cd9801285bd4"
IIAS_V6 = f"{GH}/ewp-specs-api-iias/blob/stable-v6/manifest-entry.xsd"
IIAS_V7 = f"{GH}/ewp-specs-api-iias/blob/stable-v7/manifest-entry.xsd"
REPLICATION = f"{GH}/ewp-specs-api-course-replication/blob/stable-v1/manifest-entry.xsd"


@pytest.fixture(scope="module")
def example(specs_dir: Path) -> CatalogueIndex:
    return CatalogueIndex.from_bytes((specs_dir / "ewp-specs-api-registry" / "catalogue-example.xml").read_bytes())


def test_example_key_is_a_client_and_server_key_of_uw(example: CatalogueIndex) -> None:
    key = example.client_key(EXAMPLE_KEY)
    assert key is not None and fingerprint(key) == EXAMPLE_KEY and key.key_size == 2048
    assert example.client_key(EXAMPLE_KEY.upper()) is key
    assert example.server_key(EXAMPLE_KEY) is key
    assert example.is_known_key(EXAMPLE_KEY)
    assert example.heis_for_client_key(EXAMPLE_KEY) == {"uw.edu.pl"}


def test_example_institutions(example: CatalogueIndex) -> None:
    assert example.hei_ids() == {"uw.edu.pl"}
    hei = example.hei("UW.edu.pl")
    assert hei is not None and hei.id == "uw.edu.pl"
    assert hei.name() == hei.name("pl") == "University of Warsaw"
    assert hei.other_ids["pic"] == ("999572294",)
    assert example.hei_for_other_id("erasmus", "PL WARSZAW01") == "uw.edu.pl"
    assert example.hei_for_other_id("euc", "45834-EPP-1-2014-1-PL-EPPKA3-ECHE") == "uw.edu.pl"
    assert example.hei_for_other_id("erasmus", "PL KRAKOW01") is None
    assert example.hei("unknown.example") is None


def test_example_echo_entry(example: CatalogueIndex) -> None:
    entry = example.lookup("uw.edu.pl", "echo")
    assert entry is not None
    assert (entry.name, entry.version, entry.major, entry.host_index) == ("echo", "2.0.0", 2, 1)
    assert entry.namespace == f"{GH}/ewp-specs-api-echo/blob/stable-v2/manifest-entry.xsd"
    assert dict(entry.urls) == {"url": "https://example.com/ewp/echo"}
    assert dict(entry.limits) == {} and dict(entry.flags) == {}
    assert entry.server_key_ids == {EXAMPLE_KEY}
    assert entry.security.client_auth == {CLIENT_TLSCERT, CLIENT_HTTPSIG}
    assert entry.security.server_auth == {SERVER_TLSCERT, SERVER_HTTPSIG}
    assert entry.security.request_encryption == {REQUEST_TLS}  # default: the child is missing
    assert entry.security.response_encryption == {RESPONSE_TLS}
    assert entry.security.supports_httpsig_client and entry.security.supports_httpsig_server
    assert not entry.security.allows_anonymous_client and not entry.security.supports_encrypted_request
    assert example.lookup("UW.EDU.PL", "echo") is entry
    assert example.lookup("uw.edu.pl", "echo", 2) is entry


def test_example_misses(example: CatalogueIndex) -> None:
    assert example.lookup("uw.edu.pl", "echo", 1) is None
    assert example.lookup("uw.edu.pl", "registry") is None  # the registry host covers no HEI
    assert example.lookup("other.example", "echo") is None
    discovery = example.lookup("uw.edu.pl", "discovery")
    assert discovery is not None and discovery.urls["url"] == "https://example.com/manifest.xml"
    assert example.client_key("ab" * 32) is None and not example.is_known_key("ab" * 32)
    assert example.heis_for_client_key("ab" * 32) == frozenset()
    assert example.warnings == ()


def test_http_security_defaults_and_partial() -> None:
    defaults = HttpSecurity.from_element(None)
    assert defaults.client_auth == {CLIENT_TLSCERT} and defaults.server_auth == {SERVER_TLSCERT}
    assert not defaults.supports_httpsig_client and defaults.accepts_tls_request
    element = etree.fromstring(
        f'<http-security xmlns:sec="{SEC}"><sec:server-auth-methods><x xmlns="urn:custom"/>'
        "</sec:server-auth-methods></http-security>"
    )
    partial = HttpSecurity.from_element(element)
    assert partial.server_auth == {"{urn:custom}x"}
    assert partial.client_auth == defaults.client_auth and partial.response_encryption == {RESPONSE_TLS}


def _entry(namespace: str, name: str, version: str, children: dict[str, str]) -> etree._Element:
    entry = etree.Element(q(namespace, name), nsmap={None: namespace}, version=version)
    for local, text in children.items():
        etree.SubElement(entry, q(namespace, local)).text = text
    return entry


@pytest.fixture
def dashboard(rsa_keys, make_manifest) -> tuple[CatalogueIndex, bytes]:  # type: ignore[no-untyped-def]
    """Provider P serves p0..p4 with one host per HEI (per-HEI URLs, same keys); provider S serves s0..s49
    from one host; two ordinary nodes; n0 is also claimed by the second node (a conflict)."""
    p_client, p_server, s_client, s_server, n_key, m_key = rsa_keys
    manifests = [
        make_manifest([f"p{i}.example"], f"https://dash.example/ewp/p{i}", p_client, p_server)
        for i in range(5)
    ]
    manifests.append(make_manifest([f"s{i}.example" for i in range(50)], "https://single.example/ewp", s_client,
                                   s_server))
    versions = [
        _entry(IIAS_V6, "iias", "6.1.0", {"get-url": "https://n0.example/iias6", "max-iia-ids": "2"}),
        _entry(IIAS_V7, "iias", "7.0.0", {"get-url": "https://n0.example/iias", "index-url": "https://n0.example/i",
                                          "max-iia-ids": "3", "max-broken": "lots"}),
        _entry(REPLICATION, "simple-course-replication", "1.0.0",
               {"url": "https://n0.example/r", "allows-anonymous-access": "true",
                "supports-modified-since": "false"}),
    ]
    manifests.append(make_manifest(["n0.example"], "https://n0.example", n_key, n_key,
                                   other_ids=[("erasmus", "N  ZERO01")], extra_entries=versions))
    manifests.append(make_manifest(["n0.example", "m0.example"], "https://m0.example", m_key, m_key))
    data = build_catalogue(manifests)
    return CatalogueIndex.from_bytes(data), data


def test_dashboard_host_per_hei(dashboard, rsa_keys) -> None:  # type: ignore[no-untyped-def]
    index, _ = dashboard
    p_client, p_server = (fingerprint(k.public_key()) for k in rsa_keys[:2])
    assert index.heis_for_client_key(p_client) == {f"p{i}.example" for i in range(5)}
    entries = [index.lookup(f"p{i}.example", "echo") for i in range(5)]
    assert [e.urls["url"] for e in entries if e] == [f"https://dash.example/ewp/p{i}/echo" for i in range(5)]
    assert len({e.host_index for e in entries if e}) == 5
    assert all(e is not None and e.server_key_ids == {p_server} for e in entries)


def test_dashboard_single_host(dashboard, rsa_keys) -> None:  # type: ignore[no-untyped-def]
    index, _ = dashboard
    s_client = fingerprint(rsa_keys[2].public_key())
    assert len(index.heis_for_client_key(s_client)) == 50
    first = index.lookup("s0.example", "institutions")
    assert first is not None and first.limits == {"max-hei-ids": 1}
    assert all(index.lookup(f"s{i}.example", "institutions") is first for i in range(50))
    assert len(index.hei_ids()) == 5 + 50 + 2


def test_versions_limits_and_flags(dashboard) -> None:  # type: ignore[no-untyped-def]
    index, _ = dashboard
    latest = index.lookup("n0.example", "iias")
    assert latest is not None and (latest.version, latest.major) == ("7.0.0", 7)
    assert dict(latest.urls) == {"get-url": "https://n0.example/iias", "index-url": "https://n0.example/i"}
    assert dict(latest.limits) == {"max-iia-ids": 3}  # a non-integer max-* is dropped
    older = index.lookup("n0.example", "iias", 6)
    assert older is not None and older.version == "6.1.0" and older.limits == {"max-iia-ids": 2}
    assert index.lookup("n0.example", "iias", 5) is None
    replication = index.lookup("n0.example", "simple-course-replication")
    assert replication is not None
    assert dict(replication.flags) == {"allows-anonymous-access": "true", "supports-modified-since": "false"}
    assert index.hei_for_other_id("erasmus", "N  ZERO01") == "n0.example"


def test_conflicting_hosts_first_wins_with_warning(dashboard) -> None:  # type: ignore[no-untyped-def]
    index, _ = dashboard
    entry = index.lookup("n0.example", "echo")
    assert entry is not None and entry.urls["url"] == "https://n0.example/echo"
    assert any("n0.example: echo v2" in w for w in index.warnings)
    assert not any("discovery" in w for w in index.warnings)  # every host lists its own discovery entry
    both = index.lookup("m0.example", "echo")
    assert both is not None and both.urls["url"] == "https://m0.example/echo"


def test_server_key_is_not_a_client_key(dashboard, rsa_keys) -> None:  # type: ignore[no-untyped-def]
    index, _ = dashboard
    p_client, p_server = (fingerprint(k.public_key()) for k in rsa_keys[:2])
    assert index.is_known_key(p_server)
    assert index.server_key(p_server) is not None
    assert index.client_key(p_server) is None
    assert index.heis_for_client_key(p_server) == frozenset()
    assert index.server_key(p_client) is None and index.client_key(p_client) is not None


def _replace_binary(data: bytes, key_id: str, new_text: str) -> bytes:
    root = etree.fromstring(data)
    for element in root.iter(q(REGISTRY, "rsa-public-key")):
        if element.getparent().tag == q(REGISTRY, "binaries") and element.get("sha-256") == key_id:
            element.text = new_text
    return etree.tostring(root)


def test_binary_with_wrong_fingerprint_is_not_trusted(dashboard, rsa_keys) -> None:  # type: ignore[no-untyped-def]
    _, data = dashboard
    p_client = fingerprint(rsa_keys[0].public_key())
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    index = CatalogueIndex.from_bytes(_replace_binary(data, p_client, public_key_b64(attacker)))
    assert not index.is_known_key(p_client)
    assert index.client_key(p_client) is None
    assert index.heis_for_client_key(p_client) == frozenset()
    assert index.client_key(fingerprint(attacker)) is None
    broken = CatalogueIndex.from_bytes(_replace_binary(data, p_client, "not base64 !"))
    assert broken.client_key(p_client) is None


def test_weak_key_is_not_trusted(dashboard, rsa_keys) -> None:  # type: ignore[no-untyped-def]
    _, data = dashboard
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    root = etree.fromstring(data)
    host = root.find(q(REGISTRY, "host"))
    etree.SubElement(host.find(q(REGISTRY, "client-credentials-in-use")), q(REGISTRY, "rsa-public-key"),
                     {"sha-256": fingerprint(weak)})
    etree.SubElement(root.find(q(REGISTRY, "binaries")), q(REGISTRY, "rsa-public-key"),
                     {"sha-256": fingerprint(weak)}).text = public_key_b64(weak)
    index = CatalogueIndex.from_bytes(etree.tostring(root))
    assert index.is_known_key(fingerprint(weak)) and index.client_key(fingerprint(weak)) is None


@pytest.mark.parametrize(
    "data",
    [b"<catalogue/>", b"<?xml version='1.0'?><!DOCTYPE x []><x/>", b"not xml", b""],
    ids=["no-namespace", "doctype", "garbage", "empty"],
)
def test_malformed_catalogues_are_refused(data: bytes) -> None:
    with pytest.raises(MalformedDocument):
        CatalogueIndex.from_bytes(data)


def test_concurrent_first_lookups_share_one_entry(dashboard) -> None:  # type: ignore[no-untyped-def]
    _, data = dashboard
    index = CatalogueIndex.from_bytes(data)
    results: list[object] = []
    barrier = threading.Barrier(8)

    def work() -> None:
        barrier.wait(timeout=5)
        results.extend(index.lookup(f"s{i}.example", api) for i in range(50) for api in ("echo", "institutions"))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(results) == 8 * 100
    assert len({id(r) for r in results}) == 2

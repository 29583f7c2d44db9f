"""The Discovery manifest (v6) of one covered HEI, built from the enabled handlers' ``ApiSpec``.

Spec: ewp-specs-api-discovery v6.0.0: one ``<host>`` per manifest, at most one HEI per host, so a node
covering several HEIs publishes one manifest per HEI (same keys, per-HEI URLs).
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from ewp_node.api import ApiSpec, Endpoint, Flag, Limit
from ewp_node.config import HeiConfig, Settings
from ewp_node.xml import ns
from ewp_node.xml.ns import q

DISCOVERY_VERSION = "6.0.0"
MANIFEST_PATH = "manifest.xml"

_NSMAP = {None: ns.DISCOVERY, "ewp": ns.COMMON, "r": ns.REGISTRY, "sec": ns.SEC}


def build_http_security(api: ApiSpec, *, rsa_aes128gcm: bool = False) -> etree._Element:
    """``<http-security>``: httpsig client auth (plus anonymous where allowed), TLS + httpsig server auth,
    TLS encryption both ways (and ewp-rsa-aes128gcm when enabled). Client auth is written out: its default
    is the deprecated TLS method."""
    el = etree.Element("http-security")
    cli = etree.SubElement(el, q(ns.SEC, "client-auth-methods"))
    if api.anonymous:
        etree.SubElement(cli, q(ns.CLIAUTH_NONE, "anonymous"), nsmap={None: ns.CLIAUTH_NONE})
    etree.SubElement(cli, q(ns.CLIAUTH_HTTPSIG, "httpsig"), nsmap={None: ns.CLIAUTH_HTTPSIG})
    srv = etree.SubElement(el, q(ns.SEC, "server-auth-methods"))
    etree.SubElement(srv, q(ns.SRVAUTH_TLSCERT, "tlscert"), nsmap={None: ns.SRVAUTH_TLSCERT})
    etree.SubElement(srv, q(ns.SRVAUTH_HTTPSIG, "httpsig"), nsmap={None: ns.SRVAUTH_HTTPSIG})
    req = etree.SubElement(el, q(ns.SEC, "request-encryption-methods"))
    etree.SubElement(req, q(ns.REQENCR_TLS, "tls"), nsmap={None: ns.REQENCR_TLS})
    res = etree.SubElement(el, q(ns.SEC, "response-encryption-methods"))
    etree.SubElement(res, q(ns.RESENCR_TLS, "tls"), nsmap={None: ns.RESENCR_TLS})
    if rsa_aes128gcm:
        etree.SubElement(req, q(ns.REQENCR_RSA_AES, "ewp-rsa-aes128gcm"), nsmap={None: ns.REQENCR_RSA_AES})
        etree.SubElement(res, q(ns.RESENCR_RSA_AES, "ewp-rsa-aes128gcm"), nsmap={None: ns.RESENCR_RSA_AES})
    return el


def build_api_entry(api: ApiSpec, settings: Settings, hei_id: str) -> etree._Element:
    """One ``apis-implemented`` entry, children in the entry XSD's order."""
    entry = etree.Element(q(api.namespace, api.name), nsmap={None: api.namespace}, version=api.version)
    if api.http_security:
        security = build_http_security(api, rsa_aes128gcm=settings.rsa_aes128gcm)
        security.tag = q(api.namespace, "http-security")
        entry.append(security)
    for item in api.items:
        child = etree.SubElement(entry, q(api.namespace, item.element))
        if isinstance(item, Endpoint):
            child.text = settings.url(f"ewp/{item.path}", hei_id)
        elif isinstance(item, Limit):
            child.text = str(api.limit(settings, item.element))
        elif isinstance(item, Flag):
            child.text = item.value
    return entry


def _build_hei(hei: HeiConfig) -> etree._Element:
    el = etree.Element(q(ns.REGISTRY, "hei"), id=hei.id)
    for kind, value in hei.other_ids:
        etree.SubElement(el, q(ns.REGISTRY, "other-id"), type=kind).text = value
    for lang, name in hei.names.items():
        etree.SubElement(el, q(ns.REGISTRY, "name"), {ns.XML_LANG: lang}).text = name
    return el


def build_manifest(settings: Settings, apis: Sequence[ApiSpec], hei: HeiConfig,
                   client_key_b64: str, server_key_b64: str) -> etree._Element:
    """The manifest of ``hei``: admin contacts, APIs (Discovery first), the HEI, client and server keys."""
    root = etree.Element(q(ns.DISCOVERY, "manifest"), nsmap=_NSMAP)
    host = etree.SubElement(root, q(ns.DISCOVERY, "host"))
    etree.SubElement(host, q(ns.COMMON, "admin-email")).text = settings.admin_email
    etree.SubElement(host, q(ns.COMMON, "admin-provider")).text = settings.admin_provider
    implemented = etree.SubElement(host, q(ns.REGISTRY, "apis-implemented"))
    discovery = etree.SubElement(implemented, q(ns.DISCOVERY_ENTRY, "discovery"),
                                 nsmap={None: ns.DISCOVERY_ENTRY}, version=DISCOVERY_VERSION)
    etree.SubElement(discovery, q(ns.DISCOVERY_ENTRY, "url")).text = settings.url(MANIFEST_PATH, hei.id)
    for api in apis:
        implemented.append(build_api_entry(api, settings, hei.id))
    etree.SubElement(host, q(ns.DISCOVERY, "institutions-covered")).append(_build_hei(hei))
    etree.SubElement(etree.SubElement(host, q(ns.DISCOVERY, "client-credentials-in-use")),
                     q(ns.DISCOVERY, "rsa-public-key")).text = client_key_b64
    etree.SubElement(etree.SubElement(host, q(ns.DISCOVERY, "server-credentials-in-use")),
                     q(ns.DISCOVERY, "rsa-public-key")).text = server_key_b64
    return root

"""EWP namespaces, in one place. ``GH`` is the common GitHub prefix of every EWP namespace."""

from __future__ import annotations

GH = "https://github.com/erasmus-without-paper"

COMMON = f"{GH}/ewp-specs-architecture/blob/stable-v1/common-types.xsd"
SEC = f"{GH}/ewp-specs-sec-intro/tree/stable-v2"
CLIAUTH_NONE = f"{GH}/ewp-specs-sec-cliauth-none/tree/stable-v1"
CLIAUTH_HTTPSIG = f"{GH}/ewp-specs-sec-cliauth-httpsig/tree/stable-v1"
CLIAUTH_TLSCERT = f"{GH}/ewp-specs-sec-cliauth-tlscert/tree/stable-v1"
SRVAUTH_TLSCERT = f"{GH}/ewp-specs-sec-srvauth-tlscert/tree/stable-v1"
SRVAUTH_HTTPSIG = f"{GH}/ewp-specs-sec-srvauth-httpsig/tree/stable-v1"
REQENCR_TLS = f"{GH}/ewp-specs-sec-reqencr-tls/tree/stable-v1"
RESENCR_TLS = f"{GH}/ewp-specs-sec-resencr-tls/tree/stable-v1"
REQENCR_RSA_AES = f"{GH}/ewp-specs-sec-reqencr-rsa-aes128gcm/tree/stable-v1"
RESENCR_RSA_AES = f"{GH}/ewp-specs-sec-resencr-rsa-aes128gcm/tree/stable-v1"

DISCOVERY = f"{GH}/ewp-specs-api-discovery/tree/stable-v6"
DISCOVERY_ENTRY = f"{GH}/ewp-specs-api-discovery/blob/stable-v6/manifest-entry.xsd"
REGISTRY = f"{GH}/ewp-specs-api-registry/tree/stable-v1"

ECHO = f"{GH}/ewp-specs-api-echo/tree/stable-v2"
ECHO_ENTRY = f"{GH}/ewp-specs-api-echo/blob/stable-v2/manifest-entry.xsd"

XML = "http://www.w3.org/XML/1998/namespace"
XML_LANG = f"{{{XML}}}lang"


def q(namespace: str, local: str) -> str:
    """Clark notation ``{namespace}local`` for lxml."""
    return f"{{{namespace}}}{local}"

"""The ``<http-security>`` options of one manifest API entry, as sets of method element names.

Spec: ewp-specs-sec-intro v2 (``sec:HttpSecurityOptions``); SECURITY.md (d). A missing child means the
v1-compatible default set, not "anything goes": client-auth = TLS client certificate, server-auth = TLS
server certificate, request and response encryption = TLS.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from ewp_node.xml.ns import (
    CLIAUTH_HTTPSIG,
    CLIAUTH_NONE,
    CLIAUTH_TLSCERT,
    REQENCR_RSA_AES,
    REQENCR_TLS,
    RESENCR_RSA_AES,
    RESENCR_TLS,
    SEC,
    SRVAUTH_HTTPSIG,
    SRVAUTH_TLSCERT,
    q,
)

CLIENT_HTTPSIG = q(CLIAUTH_HTTPSIG, "httpsig")
CLIENT_ANONYMOUS = q(CLIAUTH_NONE, "anonymous")
CLIENT_TLSCERT = q(CLIAUTH_TLSCERT, "tlscert")
SERVER_TLSCERT = q(SRVAUTH_TLSCERT, "tlscert")
SERVER_HTTPSIG = q(SRVAUTH_HTTPSIG, "httpsig")
REQUEST_TLS = q(REQENCR_TLS, "tls")
REQUEST_RSA_AES = q(REQENCR_RSA_AES, "ewp-rsa-aes128gcm")
RESPONSE_TLS = q(RESENCR_TLS, "tls")
RESPONSE_RSA_AES = q(RESENCR_RSA_AES, "ewp-rsa-aes128gcm")

_SEC_PREFIX = f"{{{SEC}}}"
#: (child local name, attribute, default set) in schema order; sec-intro v2 gives the defaults.
_ASPECTS = (
    ("client-auth-methods", "client_auth", frozenset({CLIENT_TLSCERT})),
    ("server-auth-methods", "server_auth", frozenset({SERVER_TLSCERT})),
    ("request-encryption-methods", "request_encryption", frozenset({REQUEST_TLS})),
    ("response-encryption-methods", "response_encryption", frozenset({RESPONSE_TLS})),
)


@dataclass(frozen=True, slots=True)
class HttpSecurity:
    """Methods an API entry accepts, each a frozenset of Clark names (``{namespace}local``).

    Unknown (non-standard) method elements are kept in the sets; callers intersect with what they support.
    """

    client_auth: frozenset[str]
    server_auth: frozenset[str]
    request_encryption: frozenset[str]
    response_encryption: frozenset[str]

    @classmethod
    def from_element(cls, element: etree._Element | None) -> HttpSecurity:
        """Read an ``<http-security>`` element (any namespace); ``None`` gives the spec defaults."""
        found: dict[str, frozenset[str]] = {}
        for child in element if element is not None else ():
            tag = child.tag
            if isinstance(tag, str) and tag.startswith(_SEC_PREFIX):
                found[tag[len(_SEC_PREFIX) :]] = frozenset(m.tag for m in child if isinstance(m.tag, str))
        return cls(**{attr: found.get(local, default) for local, attr, default in _ASPECTS})

    @property
    def supports_httpsig_client(self) -> bool:
        """The caller may authenticate with an HTTP signature (cliauth-httpsig)."""
        return CLIENT_HTTPSIG in self.client_auth

    @property
    def allows_anonymous_client(self) -> bool:
        """The caller may stay anonymous (cliauth-none)."""
        return CLIENT_ANONYMOUS in self.client_auth

    @property
    def supports_httpsig_server(self) -> bool:
        """The server signs responses when asked (srvauth-httpsig)."""
        return SERVER_HTTPSIG in self.server_auth

    @property
    def accepts_tls_request(self) -> bool:
        """Plain (TLS-only) request bodies are accepted (reqencr-tls)."""
        return REQUEST_TLS in self.request_encryption

    @property
    def supports_encrypted_request(self) -> bool:
        """Request bodies may be ``ewp-rsa-aes128gcm`` encrypted (reqencr-rsa-aes128gcm)."""
        return REQUEST_RSA_AES in self.request_encryption

    @property
    def supports_tls_response(self) -> bool:
        """Plain (TLS-only) responses are available (resencr-tls)."""
        return RESPONSE_TLS in self.response_encryption

    @property
    def supports_encrypted_response(self) -> bool:
        """Responses may be ``ewp-rsa-aes128gcm`` encrypted (resencr-rsa-aes128gcm)."""
        return RESPONSE_RSA_AES in self.response_encryption


#: The options of an entry without ``<http-security>``: shared, since the value is immutable.
DEFAULT_HTTP_SECURITY = HttpSecurity.from_element(None)

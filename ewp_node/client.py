"""The signed EWP client: find a partner's API in the registry, call it, verify and parse the answer.

"See what is signed": the response signature and Digest are checked over the raw bytes as received
(before gzip decoding), and only those bytes are decoded and parsed.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from lxml import etree

from ewp_node.config import check_url
from ewp_node.security.errors import UntrustedServerKey
from ewp_node.security.httpsig import HeaderView, parse_signature_params, sign_request, verify_response
from ewp_node.security.rsa_aes import CODING, decrypt, encrypt
from ewp_node.store.audit import Direction, Exchange
from ewp_node.xml.parse import parse_xml

if TYPE_CHECKING:
    from ewp_node.context import NodeContext
    from ewp_node.registry.catalogue import ApiEntry

#: Largest partner response we read; a hostile partner cannot make us buffer more.
MAX_RESPONSE_BYTES = 16 * 1024 * 1024


class PartnerUnavailable(RuntimeError):
    """The registry lists no usable endpoint of that API for that HEI, or the call failed in transit."""


def _gunzip(data: bytes) -> bytes:
    """Decompress a gzip body, refusing to inflate past :data:`MAX_RESPONSE_BYTES` (no gzip bombs)."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    content = inflater.decompress(data, MAX_RESPONSE_BYTES + 1)
    if len(content) > MAX_RESPONSE_BYTES or inflater.unconsumed_tail:
        raise PartnerUnavailable(f"a gzip answer inflates past {MAX_RESPONSE_BYTES} bytes")
    return content


@dataclass(frozen=True)
class ClientResponse:
    """A partner's answer: status, verified body, parsed root (XML answers), and what was checked."""

    status: int
    body: bytes
    content_type: str
    root: etree._Element | None
    signature_verified: bool
    entry: ApiEntry
    url: str


class EwpClient:
    """Calls partner APIs found through the registry, signing with our client key."""

    def __init__(self, ctx: NodeContext, *, session: requests.Session | None = None, timeout: float = 30) -> None:
        self._ctx = ctx
        self._session = session or requests.Session()
        self._timeout = timeout
        ca_bundle = ctx.settings.ca_bundle
        self._verify: str | bool = str(ca_bundle) if ca_bundle else True

    def find(self, hei_id: str, api: str, *, major: int | None = None) -> ApiEntry:
        """The registry entry of ``api`` for ``hei_id``. :raises PartnerUnavailable: none usable."""
        entry = self._ctx.registry.index.lookup(hei_id, api, major)
        if entry is None:
            raise PartnerUnavailable(f"the registry lists no {api!r} API for HEI {hei_id!r}")
        if not entry.security.supports_httpsig_client:
            raise PartnerUnavailable(f"{hei_id} serves {api!r} without HTTP-signature client authentication")
        return entry

    def call(self, hei_id: str, api: str, endpoint: str = "url", params: Sequence[tuple[str, str]] = (), *,
             major: int | None = None, method: str = "POST", xml_body: bytes | None = None) -> ClientResponse:
        """Call one endpoint of a partner's API with a signed request.

        :param endpoint: the manifest element holding the URL (``url``, ``get-url``, ``index-url``...).
        :param params: form parameters (query string for GET, form body for POST).
        :param xml_body: a raw XML body instead of parameters (update endpoints).
        :raises PartnerUnavailable: no usable endpoint, or a transport failure.
        :raises ResponseVerificationError: the answer's signature does not hold.
        """
        entry = self.find(hei_id, api, major=major)
        url = entry.urls.get(endpoint)
        if url is None:
            raise PartnerUnavailable(f"{hei_id}'s {api!r} entry has no {endpoint!r}")
        check_url(url, f"{api} {endpoint}", allow_http=self._ctx.settings.allow_http)
        parts = urlsplit(url)
        query = parts.query
        body = b""
        headers = {"Host": parts.netloc, "Accept-Encoding": "gzip", "Want-Digest": "SHA-256"}
        security = entry.security
        wants_signature = security.supports_httpsig_server
        if wants_signature:
            headers["Accept-Signature"] = "rsa-sha256"
        if security.supports_encrypted_response and not security.supports_tls_response:
            headers["Accept-Encoding"] = f"{CODING}, gzip"
        if method == "GET":
            query = "&".join(filter(None, [query, urlencode(list(params))]))
        elif xml_body is not None:
            body, headers["Content-Type"] = xml_body, "text/xml; charset=utf-8"
        else:
            body, headers["Content-Type"] = urlencode(list(params)).encode(), "application/x-www-form-urlencoded"
        if method != "GET" and security.supports_encrypted_request and not security.accepts_tls_request:
            if not entry.server_key_ids:
                raise PartnerUnavailable(f"{hei_id} requires {CODING} for {api!r} but publishes no server key")
            body = encrypt(body, self._server_key(entry, min(entry.server_key_ids)))
            headers["Content-Encoding"] = CODING
        target = parts.path + (f"?{query}" if query else "")
        signed = sign_request(method=method, target=target, headers=headers, body=body,
                              private_key=self._ctx.client_key.private, key_id=self._ctx.client_key.key_id,
                              now=datetime.now(UTC))
        started = time.perf_counter()
        status = 0
        try:
            response = self._session.request(method, f"{parts.scheme}://{parts.netloc}{target}", data=body,
                                             headers=signed, verify=self._verify, timeout=self._timeout,
                                             stream=True, allow_redirects=False)
            raw = response.raw.read(MAX_RESPONSE_BYTES + 1, decode_content=False)
            status = response.status_code
            if len(raw) > MAX_RESPONSE_BYTES:
                raise PartnerUnavailable(f"{hei_id}'s {api!r} answer exceeds {MAX_RESPONSE_BYTES} bytes")
        except requests.RequestException as exc:
            raise PartnerUnavailable(f"calling {url} failed: {exc}") from exc
        finally:
            self._audit(hei_id, api, method, status, started, signed["X-Request-Id"])
        received = HeaderView(response.headers.items())
        verified = False
        if wants_signature:
            verify_response(headers=received, body=raw, now=datetime.now(UTC), request_method=method,
                            request_target=target, request_id=signed["X-Request-Id"],
                            request_signature=parse_signature_params(signed["Authorization"]).signature,
                            resolve_server_key=lambda key_id: self._server_key(entry, key_id))
            verified = True
        content = self._decode(raw, received.get("content-encoding"))
        content_type = received.get("content-type") or ""
        root = parse_xml(content) if "xml" in content_type and content else None
        return ClientResponse(status=status, body=content, content_type=content_type, root=root,
                              signature_verified=verified, entry=entry, url=url)

    def _decode(self, raw: bytes, content_encoding: str | None) -> bytes:
        """Undo the response's content codings, last applied first (gzip, ewp-rsa-aes128gcm)."""
        content = raw
        for coding in reversed([c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]):
            if coding == CODING:
                content = decrypt(content, {self._ctx.client_key.key_id: self._ctx.client_key.private})
            elif coding == "gzip":
                content = _gunzip(content)
            elif coding != "identity":
                raise PartnerUnavailable(f"the partner answered with an unsupported content coding {coding!r}")
        return content

    def _server_key(self, entry: ApiEntry, key_id: str) -> RSAPublicKey:
        key = self._ctx.registry.index.server_key(key_id) if key_id in entry.server_key_ids else None
        if key is None:
            raise UntrustedServerKey("the response was signed with a key that is not a server key of the "
                                     "host serving this API")
        return key

    def _audit(self, hei_id: str, api: str, method: str, status: int, started: float, request_id: str) -> None:
        self._ctx.audit.record(Exchange(
            at=datetime.now(UTC), direction=Direction.OUT, api=api, method=method, status=status,
            duration_ms=int((time.perf_counter() - started) * 1000), partner_hei=hei_id, request_id=request_id,
            key_id=self._ctx.client_key.key_id,
        ))

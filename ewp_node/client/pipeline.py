"""The signed EWP client: one pipeline of small steps for every call to a partner API.

``call`` = resolve (the partner's API entry in the registry) -> build (URL, headers, body, encryption) ->
sign (HTTP signature with our client key) -> send (bounded read, the response closed on every path) ->
verify (the response signature over the raw bytes as received) -> decode (content codings, then XML).
Every call, whatever its outcome, is reported once to the audit hook.

"See what is signed": the response signature and Digest are checked over the raw bytes as received
(before gzip decoding), and only those bytes are decoded and parsed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlencode, urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from lxml import etree

from ewp_node.client.codings import MAX_RESPONSE_BYTES, decode_content
from ewp_node.client.errors import PartnerRefused, PartnerUnavailable
from ewp_node.client.monitoring import STATS_PORTAL_HEI, MonitoringReport, MonitoringReporter, failure_report
from ewp_node.config import ConfigError, check_url
from ewp_node.security.errors import UntrustedServerKey
from ewp_node.security.httpsig import HeaderView, parse_signature_params, sign_request, verify_response
from ewp_node.security.rsa_aes import CODING, encrypt
from ewp_node.store.audit import Direction, Exchange
from ewp_node.store.captures import Capture
from ewp_node.xml.parse import parse_xml

if TYPE_CHECKING:
    from ewp_node.context import NodeContext
    from ewp_node.registry.catalogue import ApiEntry

#: Receives one :class:`Exchange` per call (the node's audit sink by default).
AuditHook = Callable[[Exchange], None]
#: Seconds a partner's whole answer may take (each read waits at most the call's timeout): a partner that drips its
#: answer a byte at a time cannot hold one of our threads (an outbox worker, a console request) for longer.
ANSWER_DEADLINE_S = 120.0
_READ_CHUNK = 64 * 1024


class _RawBody(Protocol):
    def read1(self, amt: int, decode_content: bool) -> bytes: ...


def read_bounded(raw: _RawBody, limit: int, deadline: float) -> bytes:
    """The undecoded body, cut after ``limit`` + 1 bytes (the caller refuses more than ``limit``), read one socket
    read at a time until ``deadline`` (``time.monotonic()``). :raises TimeoutError: the deadline passed first."""
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the answer did not arrive within the deadline ({size} bytes by then)")
        chunk = raw.read1(min(_READ_CHUNK, limit + 1 - size), decode_content=False)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


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


@dataclass(frozen=True)
class PreparedCall:
    """A request ready to sign: where it goes, what it carries, and what the answer must prove."""

    hei_id: str
    api: str
    entry: ApiEntry
    url: str
    method: str
    origin: str
    target: str
    headers: Mapping[str, str]
    #: The body as sent (encrypted when the partner requires ewp-rsa-aes128gcm).
    body: bytes
    #: The body before encryption: what the audit capture keeps (the ciphertext would tell the office nothing).
    plain_body: bytes

    @property
    def wants_signature(self) -> bool:
        return self.entry.security.supports_httpsig_server


@dataclass(frozen=True)
class RawAnswer:
    """What came back, read in full (bounded) and with the connection already released."""

    status: int
    headers: HeaderView
    raw: bytes


class EwpClient:
    """Calls partner APIs found through the registry, signing with our client key."""

    def __init__(self, ctx: NodeContext, *, session: requests.Session | None = None, timeout: float = 30,
                 answer_deadline_s: float = ANSWER_DEADLINE_S, audit: AuditHook | None = None) -> None:
        """:param timeout: seconds each connect or read may wait. :param answer_deadline_s: seconds the whole
        answer may take, from the request on (checked between reads)."""
        self._ctx = ctx
        self._session = session or requests.Session()
        self._timeout = timeout
        self._answer_deadline_s = answer_deadline_s
        self._audit_hook: AuditHook = audit or ctx.audit.record
        ca_bundle = ctx.settings.ca_bundle
        self._verify: str | bool = str(ca_bundle) if ca_bundle else True

    def find(self, hei_id: str, api: str, *, major: int | None = None) -> ApiEntry:
        """The registry entry of ``api`` for ``hei_id``. :raises PartnerRefused: none usable."""
        entry = self._ctx.registry.index.lookup(hei_id, api, major)
        if entry is None:
            raise PartnerRefused(f"the registry lists no {api!r} API for HEI {hei_id!r}")
        if not entry.security.supports_httpsig_client:
            raise PartnerRefused(f"{hei_id} serves {api!r} without HTTP-signature client authentication")
        return entry

    def find_preferred(self, hei_id: str, api: str, majors: Sequence[int]) -> ApiEntry:
        """The entry of the first of ``majors`` (preferred first) that ``hei_id`` serves.
        :raises PartnerRefused: none usable."""
        for major in majors[:-1]:
            try:
                return self.find(hei_id, api, major=major)
            except PartnerRefused:
                continue
        return self.find(hei_id, api, major=majors[-1])

    def call(self, hei_id: str, api: str, endpoint: str = "url", params: Sequence[tuple[str, str]] = (), *,
             major: int | None = None, method: str = "POST", xml_body: bytes | None = None,
             note: str | None = None) -> ClientResponse:
        """Call one endpoint of a partner's API with a signed request.

        :param endpoint: the manifest element holding the URL (``url``, ``get-url``, ``index-url``...).
        :param params: form parameters (query string for GET, form body for POST).
        :param xml_body: a raw XML body instead of parameters (update endpoints).
        :param note: a few words for the audit entry (e.g. which outbox row this attempt serves).
        :raises PartnerRefused: no usable endpoint in the registry.
        :raises PartnerUnavailable: a transport failure or an unreadable answer.
        :raises ResponseVerificationError: the answer's signature does not hold.
        """
        started = time.perf_counter()
        status, request_id, error, failure = 0, None, None, None
        prepared, signed, answer, response = None, {}, None, None
        try:
            prepared = self.prepare(hei_id, api, endpoint, params, major=major, method=method, xml_body=xml_body)
            signed = self._sign(prepared)
            request_id = signed["X-Request-Id"]
            answer = self._send(prepared, signed)
            status = answer.status
            verified = self._verify_answer(prepared, signed, answer)
            response = self._decode(prepared, answer, verified)
            return response
        except Exception as exc:
            error, failure = f"{type(exc).__name__}: {exc}", exc
            raise
        finally:
            failed = error is not None or not 200 <= status < 400
            self._audit(hei_id, api, method, status, started, request_id, note, error,
                        _capture(prepared, signed, answer, response)
                        if self._ctx.settings.exchange_capture.keeps(failed=failed) else None)
            self._monitor(hei_id, api, endpoint, status, failure, response)

    # -- the steps ----------------------------------------------------------------------------------------

    def prepare(self, hei_id: str, api: str, endpoint: str = "url", params: Sequence[tuple[str, str]] = (), *,
                major: int | None = None, method: str = "POST", xml_body: bytes | None = None) -> PreparedCall:
        """Resolve the partner's endpoint and build the unsigned request (encrypting the body if required)."""
        entry = self.find(hei_id, api, major=major)
        url = entry.urls.get(endpoint)
        if url is None:
            raise PartnerRefused(f"{hei_id}'s {api!r} entry has no {endpoint!r}")
        try:
            check_url(url, f"{api} {endpoint}", allow_http=self._ctx.settings.allow_http)
        except ConfigError as exc:
            raise PartnerRefused(str(exc)) from exc
        parts = urlsplit(url)
        query, body = parts.query, b""
        headers = {"Host": parts.netloc, "Accept-Encoding": "gzip", "Want-Digest": "SHA-256"}
        security = entry.security
        if security.supports_httpsig_server:
            headers["Accept-Signature"] = "rsa-sha256"
        if security.supports_encrypted_response and not security.supports_tls_response:
            headers["Accept-Encoding"] = f"{CODING}, gzip"
        if method == "GET":
            query = "&".join(filter(None, [query, urlencode(list(params))]))
        elif xml_body is not None:
            body, headers["Content-Type"] = xml_body, "text/xml; charset=utf-8"
        else:
            body, headers["Content-Type"] = urlencode(list(params)).encode(), "application/x-www-form-urlencoded"
        plain_body = body
        if method != "GET" and security.supports_encrypted_request and not security.accepts_tls_request:
            if not entry.server_key_ids:
                raise PartnerRefused(f"{hei_id} requires {CODING} for {api!r} but publishes no server key")
            body = encrypt(body, self._server_key(entry, min(entry.server_key_ids)))
            headers["Content-Encoding"] = CODING
        target = parts.path + (f"?{query}" if query else "")
        return PreparedCall(hei_id=hei_id, api=api, entry=entry, url=url, method=method,
                            origin=f"{parts.scheme}://{parts.netloc}", target=target, headers=headers, body=body,
                            plain_body=plain_body)

    def _sign(self, call: PreparedCall) -> dict[str, str]:
        key = self._ctx.client_key
        return sign_request(method=call.method, target=call.target, headers=dict(call.headers), body=call.body,
                            private_key=key.private, key_id=key.key_id, now=datetime.now(UTC))

    def _send(self, call: PreparedCall, signed: Mapping[str, str]) -> RawAnswer:
        """Send and read at most :data:`MAX_RESPONSE_BYTES` + 1 bytes, all of it within the answer deadline; the
        response is closed on every path, so its pooled connection goes back to the pool (or is dropped) whatever
        happened."""
        deadline = time.monotonic() + self._answer_deadline_s
        try:
            response = self._session.request(call.method, call.origin + call.target, data=call.body,
                                             headers=dict(signed), verify=self._verify, timeout=self._timeout,
                                             stream=True, allow_redirects=False)
        except requests.RequestException as exc:
            raise PartnerUnavailable(f"calling {call.url} failed: {exc}") from exc
        try:
            raw = read_bounded(response.raw, MAX_RESPONSE_BYTES, deadline)
        except Exception as exc:  # urllib3 and http.client errors while reading the body
            raise PartnerUnavailable(f"reading the answer of {call.url} failed: {exc}") from exc
        finally:
            response.close()
        if len(raw) > MAX_RESPONSE_BYTES:
            raise PartnerUnavailable(f"{call.hei_id}'s {call.api!r} answer exceeds {MAX_RESPONSE_BYTES} bytes")
        return RawAnswer(status=response.status_code, headers=HeaderView(response.headers.items()), raw=raw)

    def _verify_answer(self, call: PreparedCall, signed: Mapping[str, str], answer: RawAnswer) -> bool:
        """Check the answer's signature and Digest over the raw bytes when the partner signs (else False)."""
        if not call.wants_signature:
            return False
        verify_response(headers=answer.headers, body=answer.raw, now=datetime.now(UTC), request_method=call.method,
                        request_target=call.target, request_id=signed["X-Request-Id"],
                        request_signature=parse_signature_params(signed["Authorization"]).signature,
                        resolve_server_key=lambda key_id: self._server_key(call.entry, key_id))
        return True

    def _decode(self, call: PreparedCall, answer: RawAnswer, verified: bool) -> ClientResponse:
        key = self._ctx.client_key
        content = decode_content(answer.raw, answer.headers.get("content-encoding"), {key.key_id: key.private})
        content_type = answer.headers.get("content-type") or ""
        root = parse_xml(content) if "xml" in content_type and content else None
        return ClientResponse(status=answer.status, body=content, content_type=content_type, root=root,
                              signature_verified=verified, entry=call.entry, url=call.url)

    def server_keys(self, entry: ApiEntry) -> list[RSAPublicKey]:
        """The server keys the registry lists for the host of ``entry``: the only keys that may sign its
        answers, and the documents it signs (an ELMO transcript, SECURITY.md section f)."""
        index = self._ctx.registry.index
        return [key for key in map(index.server_key, sorted(entry.server_key_ids)) if key is not None]

    # -- helpers ------------------------------------------------------------------------------------------

    def _server_key(self, entry: ApiEntry, key_id: str) -> RSAPublicKey:
        key = self._ctx.registry.index.server_key(key_id) if key_id in entry.server_key_ids else None
        if key is None:
            raise UntrustedServerKey("the response was signed with a key that is not a server key of the "
                                     "host serving this API")
        return key

    def _monitor(self, hei_id: str, api: str, endpoint: str, status: int, failure: BaseException | None,
                 response: ClientResponse | None) -> None:
        """Queue a Monitoring API report of a failed call (when the node reports: ``ctx.monitoring``)."""
        reporter = self._ctx.monitoring
        if reporter is not None:
            report = failure_report(hei_id, api, endpoint, status, failure,
                                    response.root if response is not None else None)
            if report is not None:
                reporter.report(report)

    def _audit(self, hei_id: str, api: str, method: str, status: int, started: float, request_id: str | None,
               note: str | None, error: str | None, capture: Capture | None) -> None:
        message = "; ".join(filter(None, [note, error])) or None
        self._audit_hook(Exchange(
            at=datetime.now(UTC), direction=Direction.OUT, api=api, method=method, status=status,
            duration_ms=int((time.perf_counter() - started) * 1000), partner_hei=hei_id, request_id=request_id,
            key_id=self._ctx.client_key.key_id, message=message, capture=capture,
        ))


def _capture(call: PreparedCall | None, signed: Mapping[str, str], answer: RawAnswer | None,
             response: ClientResponse | None) -> Capture | None:
    """The wire of a call that got as far as a request: the body before encryption, the answer's body decoded
    when it could be (else as received). References only: the audit sink redacts and cuts."""
    if call is None:
        return None
    answer_body = response.body if response is not None else answer.raw if answer is not None else None
    return Capture(call.origin + call.target, (signed or call.headers).items(), call.plain_body,
                   answer.headers.items() if answer is not None else (), answer_body)


def monitoring_reporter(ctx: NodeContext, client: EwpClient | None = None) -> MonitoringReporter:
    """The node's reporter: each report is one signed POST to the Stats Portal's Monitoring API (by ``client``,
    within 20 s by default). A catalogue without that API (a local network, a test registry) gets no report, and
    no audit row says so."""
    client = client or EwpClient(ctx, timeout=10, answer_deadline_s=20)

    def send(report: MonitoringReport) -> None:
        client.find(STATS_PORTAL_HEI, "monitoring")  # raises (the report is dropped) before anything is audited
        client.call(STATS_PORTAL_HEI, "monitoring", params=report.params())

    return MonitoringReporter(send)

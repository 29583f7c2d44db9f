"""Flask side of the security layer: authenticate each EWP request, sign and compress each answer.

This module owns the whole 401 answer (status, ``WWW-Authenticate: Signature realm="EWP"``,
``Want-Digest: SHA-256`` and the error body) and every other security status, from one table: the
exception's ``status``. Handlers never see a header: they get a :class:`Caller`.
"""

from __future__ import annotations

import gzip
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from flask import Flask, Response

from ewp_node.errors import ServiceUnavailable, build_error_response
from ewp_node.ratelimit import TokenBucket
from ewp_node.registry.fetch import RegistryUnavailable
from ewp_node.responses import Answer, xml_answer
from ewp_node.security.caller import Caller
from ewp_node.security.encryption import decode_request_body, response_key
from ewp_node.security.errors import MalformedSignature, NotAClientKey, SecurityError, UnknownKey
from ewp_node.security.httpsig import (
    SIGNED_RESPONSE_HEADERS,
    HeaderView,
    VerifiedRequest,
    parse_signature_params,
    sign_response,
    verify_request,
    wants_signed_response,
)
from ewp_node.security.rsa_aes import CODING, accepts_coding, encrypt

if TYPE_CHECKING:
    from ewp_node.context import NodeContext

log = logging.getLogger(__name__)

#: Responses smaller than this are not worth compressing.
GZIP_MIN_BYTES = 512
#: Signed error answers per second (and at once) to requests whose own signature did not verify (anonymous
#: 401s, bad signatures, unknown keys), per process. Each costs an RSA signature an anonymous flood would
#: otherwise buy; past the bound such errors go unsigned, which the specs allow ("when possible", sec-intro),
#: while answers to verified requests (and successful anonymous ones) are always signed.
UNVERIFIED_SIGNATURES_PER_SECOND = 20
UNVERIFIED_SIGNATURES_BURST = 20
_BUDGET = "ewp_node.unverified_signatures"
#: The response headers a signature covers when present (read in one pass: werkzeug's ``get`` of an absent header
#: raises and catches an exception).
_SIGNED = frozenset(name.lower() for name in SIGNED_RESPONSE_HEADERS)


@dataclass
class RequestState:
    """One EWP request as the node handles it, kept on ``flask.g.ewp`` from routing to the audit record.

    Built once from the WSGI environ (:meth:`begin`), filled by :func:`authenticate` and
    :func:`negotiate_encryption`, read when the answer is signed and audited.
    """

    #: The EWP API name (``"unknown"`` for an EWP URL called with a wrong method).
    api: str
    method: str
    #: ``(request-target)`` path and query exactly as sent.
    target: str
    headers: HeaderView
    #: ``time.perf_counter()`` when the request reached the app.
    started: float
    caller: Caller | None = None
    verified: VerifiedRequest | None = None
    #: The registry key that signed the request.
    client_key: RSAPublicKey | None = None
    #: The key the response must be encrypted for (ewp-rsa-aes128gcm), when the client asked for it.
    response_key: RSAPublicKey | None = None
    #: The request body as the handler got it (decrypted), once read: kept for the audit capture.
    body: bytes | None = None

    @classmethod
    def begin(cls, api: str, environ: dict[str, Any]) -> RequestState:
        return cls(api=api, method=environ.get("REQUEST_METHOD", "GET").upper(), target=request_target(environ),
                   headers=HeaderView.from_wsgi_environ(environ), started=time.perf_counter())

    def honoured(self, name: str) -> str | None:
        """A request header (lower-case ``name``) the server may act on: once a signature verified, signed
        headers only (SECURITY.md a.2 step 10); every header of an anonymous request."""
        if self.verified is not None and name not in self.verified.signed_headers:
            return None
        return self.headers.get(name)


def request_target(environ: dict[str, Any]) -> str:
    """``(request-target)`` path and query exactly as sent (percent-encoding kept)."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return str(raw)
    path = quote(environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""), safe="/%;:@&=+$,!~*'()")
    query = environ.get("QUERY_STRING", "")
    return f"{path}?{query}" if query else path


def _resolve_client_key(ctx: NodeContext, key_id: str) -> RSAPublicKey:
    try:
        index = ctx.registry.index
    except RegistryUnavailable:
        raise ServiceUnavailable("the registry catalogue is not available yet: retry later") from None
    key = index.client_key(key_id)
    if key is not None:
        return key
    if index.is_known_key(key_id):
        raise NotAClientKey("the key that signed this request is not a client credential in the registry")
    ctx.registry.refresh_for_unknown_key(key_id)  # in the background: never wait on the registry here
    raise UnknownKey("the key that signed this request is not in the registry catalogue (an early catalogue "
                     "refresh was asked for: a key published minutes ago works on a later request)")


def authenticate(ctx: NodeContext, state: RequestState, body: bytes, *, anonymous_allowed: bool) -> Caller:
    """Verify the request's HTTP signature (SECURITY.md a.2) and record the caller in ``state``.

    :raises SecurityError: with the status the spec gives (401, 400 or 403).
    """
    headers = state.headers
    authorization = headers.get("authorization") or ""
    if anonymous_allowed and not authorization.lower().startswith("signature "):
        state.caller = Caller.anonymous()
        return state.caller
    now = datetime.now(UTC)

    def resolve(key_id: str) -> RSAPublicKey:
        state.client_key = _resolve_client_key(ctx, key_id)
        return state.client_key

    verified = verify_request(
        method=state.method,
        target=state.target,
        headers=headers,
        body=body,
        now=now,
        expected_host=ctx.settings.host,
        resolve_client_key=resolve,
        is_replay=lambda request_id: ctx.replay.seen(request_id, now),
    )
    state.verified = verified
    state.caller = Caller(key_id=verified.key_id, hei_ids=ctx.registry.index.heis_for_client_key(verified.key_id))
    return state.caller


def negotiate_encryption(ctx: NodeContext, state: RequestState, body: bytes) -> bytes:
    """After :func:`authenticate`: the plaintext request body, and the response key if the client asked for
    an ``ewp-rsa-aes128gcm`` response (SECURITY.md c.2, c.3).

    :raises SecurityError: 405/400/415 for a misused request coding, 400/406 for an unusable response key.
    """
    enabled = ctx.settings.rsa_aes128gcm
    content_encoding = state.honoured("content-encoding")
    plaintext = body if content_encoding is None else decode_request_body(
        state.method, content_encoding, body, enabled=enabled,
        private_keys={ctx.server_key.key_id: ctx.server_key.private})
    if enabled:
        state.response_key = response_key(state.honoured("accept-encoding"),
                                          state.honoured("accept-response-encryption-key"),
                                          caller_key=state.client_key)
    return plaintext


def security_error_answer(exc: SecurityError) -> Answer:
    answer = xml_answer(build_error_response(str(exc)), exc.status)
    answer.headers.append(("X-EWP-Verification-Message", f"{exc.check}: {exc}"[:300]))
    if exc.status == 401:
        answer.headers += [("WWW-Authenticate", 'Signature realm="EWP"'), ("Want-Digest", "SHA-256")]
    return answer


def security_error_response(exc: SecurityError) -> Response:
    """:func:`security_error_answer` as a Flask response (the app's handler of security errors)."""
    return security_error_answer(exc).response()


def _request_signature(state: RequestState) -> str | None:
    """The request's signature value to echo: the verified one, else the one an unverified request carried."""
    if state.verified is not None:
        return state.verified.signature
    authorization = state.headers.get("authorization") or ""
    if not authorization.lower().startswith("signature "):
        return None
    try:
        return parse_signature_params(authorization).signature
    except MalformedSignature:
        return None


def finalize_answer(ctx: NodeContext, state: RequestState, answer: Answer, budget: TokenBucket) -> Answer:
    """Compress when accepted, encrypt when asked, then sign when ``Accept-Signature: rsa-sha256`` asks
    (srvauth-httpsig). Error responses are signed too (sec-intro: "error signing"), those to unverified
    requests within :data:`UNVERIFIED_SIGNATURES_PER_SECOND`. The body is final before the Digest: gzip
    first, then ewp-rsa-aes128gcm, so the client decodes in reverse order.
    """
    body = answer.body
    codings = []
    accept_encoding = state.headers.get("accept-encoding")
    if len(body) >= GZIP_MIN_BYTES and accept_encoding and accepts_coding(accept_encoding, "gzip"):
        body = gzip.compress(body, compresslevel=5, mtime=0)
        codings.append("gzip")
    if state.response_key is not None and answer.status < 500:
        body = encrypt(body, state.response_key)
        codings.append(CODING)
    if codings:
        answer.body = body
        answer.set_header("Content-Encoding", ", ".join(codings))
    if wants_signed_response(state.headers.get("accept-signature")) and (
            state.verified is not None or answer.status < 400 or budget.take()):
        answer.headers += sign_response(
            headers={name: value for name, value in answer.headers if name.lower() in _SIGNED},
            body=body,
            private_key=ctx.server_key.private,
            key_id=ctx.server_key.key_id,
            now=datetime.now(UTC),
            request_id=state.headers.get("x-request-id"),
            request_signature=_request_signature(state),
        ).items()
    return answer


def install(app: Flask) -> None:
    """Register the security error handler (the 401 challenge lives here, nowhere else) and the app's budget
    of signatures for unverified requests."""
    app.register_error_handler(SecurityError, security_error_response)
    app.extensions[_BUDGET] = TokenBucket(UNVERIFIED_SIGNATURES_PER_SECOND, UNVERIFIED_SIGNATURES_BURST)


def signing_budget(app: Flask) -> TokenBucket:
    """The app's budget of signatures for unverified requests."""
    budget: TokenBucket = app.extensions[_BUDGET]
    return budget


def set_unverified_signing_budget(app: Flask, budget: TokenBucket) -> None:
    """Replace the app's budget of signatures for unverified requests (tests, benchmarks)."""
    app.extensions[_BUDGET] = budget

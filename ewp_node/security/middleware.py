"""Flask side of the security layer: authenticate each EWP request, sign and compress each answer.

This module owns the whole 401 answer (status, ``WWW-Authenticate: Signature realm="EWP"``,
``Want-Digest: SHA-256`` and the error body) and every other security status, from one table: the
exception's ``status``. Handlers never see a header: they get a :class:`Caller`.
"""

from __future__ import annotations

import gzip
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import quote

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from flask import Flask, Request, Response, g, request

from ewp_node.errors import ServiceUnavailable, build_error_response
from ewp_node.registry.fetch import RegistryUnavailable
from ewp_node.responses import xml_response
from ewp_node.security.caller import Caller
from ewp_node.security.encryption import decode_request_body, response_key
from ewp_node.security.errors import MalformedSignature, NotAClientKey, SecurityError, UnknownKey
from ewp_node.security.httpsig import (
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


@dataclass
class RequestSecurity:
    """What the middleware learnt about the current request (kept on ``flask.g``)."""

    verified: VerifiedRequest | None = None
    signed_headers: frozenset[str] = field(default_factory=frozenset)
    #: The registry key that signed the request.
    client_key: RSAPublicKey | None = None
    #: The key the response must be encrypted for (ewp-rsa-aes128gcm), when the client asked for it.
    response_key: RSAPublicKey | None = None

    def honoured(self, req: Request, name: str) -> str | None:
        """A request header the server may act on: once a signature verified, signed headers only
        (SECURITY.md a.2 step 10); every header of an anonymous request."""
        if self.verified is not None and name.lower() not in self.signed_headers:
            return None
        return req.headers.get(name)


def request_target(req: Request) -> str:
    """``(request-target)`` path and query exactly as sent (percent-encoding kept)."""
    raw = req.environ.get("RAW_URI") or req.environ.get("REQUEST_URI")
    if raw:
        return str(raw)
    path = quote(req.environ.get("SCRIPT_NAME", "") + req.environ.get("PATH_INFO", ""), safe="/%;:@&=+$,!~*'()")
    query = req.environ.get("QUERY_STRING", "")
    return f"{path}?{query}" if query else path


def _resolve_client_key(ctx: NodeContext, key_id: str) -> RSAPublicKey:
    try:
        index = ctx.registry.index
    except RegistryUnavailable:
        raise ServiceUnavailable("the registry catalogue is not available yet: retry later") from None
    key = index.client_key(key_id)
    if key is None and not index.is_known_key(key_id) and ctx.registry.refresh_for_unknown_key(key_id):
        index = ctx.registry.index
        key = index.client_key(key_id)
    if key is not None:
        return key
    if index.is_known_key(key_id):
        raise NotAClientKey("the key that signed this request is not a client credential in the registry")
    raise UnknownKey("the key that signed this request is not in the registry catalogue")


def authenticate(ctx: NodeContext, req: Request, body: bytes, *, anonymous_allowed: bool) -> Caller:
    """Verify the request's HTTP signature (SECURITY.md a.2) and return the caller.

    :raises SecurityError: with the status the spec gives (401, 400 or 403).
    """
    headers = HeaderView(req.headers.items())
    state = RequestSecurity()
    g.ewp_security = state
    authorization = headers.get("authorization") or ""
    if anonymous_allowed and not authorization.lower().startswith("signature "):
        return Caller.anonymous()
    now = datetime.now(UTC)

    def resolve(key_id: str) -> RSAPublicKey:
        state.client_key = _resolve_client_key(ctx, key_id)
        return state.client_key

    verified = verify_request(
        method=req.method,
        target=request_target(req),
        headers=headers,
        body=body,
        now=now,
        expected_host=ctx.settings.host,
        resolve_client_key=resolve,
        is_replay=lambda request_id: ctx.replay.seen(request_id, now),
    )
    state.verified = verified
    state.signed_headers = verified.signed_headers
    return Caller(key_id=verified.key_id, hei_ids=ctx.registry.index.heis_for_client_key(verified.key_id))


def negotiate_encryption(ctx: NodeContext, req: Request, body: bytes) -> bytes:
    """After :func:`authenticate`: the plaintext request body, and the response key if the client asked for
    an ``ewp-rsa-aes128gcm`` response (SECURITY.md c.2, c.3).

    :raises SecurityError: 405/400/415 for a misused request coding, 400/406 for an unusable response key.
    """
    state: RequestSecurity = g.ewp_security
    enabled = ctx.settings.rsa_aes128gcm
    plaintext = decode_request_body(req.method, state.honoured(req, "Content-Encoding"), body, enabled=enabled,
                                    private_keys={ctx.server_key.key_id: ctx.server_key.private})
    state.response_key = response_key(state.honoured(req, "Accept-Encoding"),
                                      state.honoured(req, "Accept-Response-Encryption-Key"),
                                      enabled=enabled, caller_key=state.client_key)
    return plaintext


def security_error_response(exc: SecurityError) -> Response:
    response = xml_response(build_error_response(str(exc)), exc.status)
    response.headers["X-EWP-Verification-Message"] = f"{exc.check}: {exc}"[:300]
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = 'Signature realm="EWP"'
        response.headers["Want-Digest"] = "SHA-256"
    return response


def _request_signature(req: Request) -> str | None:
    authorization = req.headers.get("Authorization", "")
    if not authorization.lower().startswith("signature "):
        return None
    try:
        return parse_signature_params(authorization).signature
    except MalformedSignature:
        return None


def finalize_response(ctx: NodeContext, response: Response) -> Response:
    """Compress when accepted, encrypt when asked, then sign when ``Accept-Signature: rsa-sha256`` asks
    (srvauth-httpsig). Error responses are signed too (sec-intro: "error signing"). The body is final
    before the Digest: gzip first, then ewp-rsa-aes128gcm, so the client decodes in reverse order.
    """
    if response.direct_passthrough:
        return response
    body = response.get_data()
    codings = []
    accept_encoding = request.headers.get("Accept-Encoding")
    if len(body) >= GZIP_MIN_BYTES and accept_encoding and accepts_coding(accept_encoding, "gzip"):
        body = gzip.compress(body, compresslevel=5, mtime=0)
        codings.append("gzip")
    state: RequestSecurity | None = g.get("ewp_security")
    if state is not None and state.response_key is not None and response.status_code < 500:
        body = encrypt(body, state.response_key)
        codings.append(CODING)
    if codings:
        response.set_data(body)
        response.headers["Content-Encoding"] = ", ".join(codings)
    if wants_signed_response(request.headers.get("Accept-Signature")):
        response.headers.extend(
            sign_response(
                headers={k: v for k, v in response.headers.items()},
                body=body,
                private_key=ctx.server_key.private,
                key_id=ctx.server_key.key_id,
                now=datetime.now(UTC),
                request_id=request.headers.get("X-Request-Id"),
                request_signature=state.verified.signature if state is not None and state.verified is not None
                else _request_signature(request),
            )
        )
    return response


def install(app: Flask) -> None:
    """Register the security error handler (the 401 challenge lives here, nowhere else)."""
    app.register_error_handler(SecurityError, security_error_response)

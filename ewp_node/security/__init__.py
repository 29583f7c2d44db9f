"""The EWP security layer: HTTP signatures, Digest, ``ewp-rsa-aes128gcm`` and keys (the replay guard, which
needs the database, is :mod:`ewp_node.store.replay`).

Rule: pure functions over (method, target, headers, body bytes, ``now``). No Flask, no ``requests``, no
clock and no I/O except reading and writing key files in :mod:`ewp_node.security.keys`; the middleware and
the HTTP client do the rest.
"""

from __future__ import annotations

from ewp_node.security.digest import digest_header, verify_digest
from ewp_node.security.errors import ResponseVerificationError, SecurityError
from ewp_node.security.httpsig import (
    CLOCK_SKEW,
    HeaderView,
    VerifiedRequest,
    sign_request,
    sign_response,
    verify_request,
    verify_response,
    wants_signed_response,
)
from ewp_node.security.keys import fingerprint
from ewp_node.security.rsa_aes import accepts_coding, decrypt, encrypt

__all__ = [
    "CLOCK_SKEW",
    "HeaderView",
    "ResponseVerificationError",
    "SecurityError",
    "VerifiedRequest",
    "accepts_coding",
    "decrypt",
    "digest_header",
    "encrypt",
    "fingerprint",
    "sign_request",
    "sign_response",
    "verify_digest",
    "verify_request",
    "verify_response",
    "wants_signed_response",
]

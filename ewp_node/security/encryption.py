"""Negotiation of ``ewp-rsa-aes128gcm`` for one exchange: decoding request bodies, choosing the response key.

Spec: ewp-specs-sec-reqencr-rsa-aes128gcm v0.4.0 and -resencr-rsa-aes128gcm v0.3.0 (SECURITY.md c.2, c.3).
Pure functions: the middleware passes the headers it may honour (signed ones, once a signature verified).
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from ewp_node.security.errors import (
    EncodingNotAcceptable,
    EncryptedRequestWithoutBody,
    MalformedSignature,
    MisusedContentEncoding,
    UnsupportedContentEncoding,
)
from ewp_node.security.keys import load_public_key_b64
from ewp_node.security.rsa_aes import CODING, accepts_coding, decrypt

_BODYLESS_METHODS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})


def decode_request_body(method: str, content_encoding: str | None, body: bytes, *, enabled: bool,
                        private_keys: Mapping[str, RSAPrivateKey]) -> bytes:
    """The plaintext of a request body (call it after the signature and Digest were checked).

    :param content_encoding: the request's ``Content-Encoding`` if the server may honour it.
    :param enabled: whether this node accepts ``ewp-rsa-aes128gcm`` request encryption.
    :raises EncryptedRequestWithoutBody: 405 for an encrypted GET.
    :raises MisusedContentEncoding: 400 for ``ewp-rsa-aes128gcm`` mixed with other codings.
    :raises UnsupportedContentEncoding: 415 for any other coding, or encryption where it is not enabled.
    :raises DecryptionError: 400 for a body that does not decrypt.
    """
    codings = [c.strip().lower() for c in (content_encoding or "").split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if not codings:
        return body
    if CODING in codings:
        if method.upper() in _BODYLESS_METHODS:
            raise EncryptedRequestWithoutBody(f"{CODING} needs a method with a body, not {method}")
        if codings != [CODING]:
            raise MisusedContentEncoding(f"{CODING} must be the only content coding, not {content_encoding!r}")
        if not enabled:
            raise UnsupportedContentEncoding(f"this endpoint does not accept {CODING} request encryption")
        return decrypt(body, private_keys)
    raise UnsupportedContentEncoding(f"unsupported request content coding {content_encoding!r}")


def response_key(accept_encoding: str | None, accept_response_key: str | None, *,
                 caller_key: RSAPublicKey | None) -> RSAPublicKey | None:
    """The key to encrypt the response for, or None for a plain (TLS-only) response. Call it only where
    this node offers ewp-rsa-aes128gcm.

    :param accept_encoding: the request's ``Accept-Encoding`` (encrypt when it allows our coding, q > 0).
    :param accept_response_key: ``Accept-Response-Encryption-Key`` if the server may honour it (signed).
    :param caller_key: the public key that signed the request (httpsig), if any.
    :raises MalformedSignature: 400 for an ``Accept-Response-Encryption-Key`` that is not an RSA key.
    :raises EncodingNotAcceptable: 406 when encryption is asked but no key is known.
    """
    if not accepts_coding(accept_encoding, CODING):
        return None
    if accept_response_key:
        try:
            return load_public_key_b64(accept_response_key)
        except (ValueError, binascii.Error):
            raise MalformedSignature("Accept-Response-Encryption-Key is not a base64 RSA public key",
                                     check="accept-response-encryption-key") from None
    if caller_key is None:
        raise EncodingNotAcceptable(f"{CODING} asked without Accept-Response-Encryption-Key or an httpsig key")
    return caller_key


__all__ = ["decode_request_body", "response_key"]

"""The ``Digest`` header (RFC 3230 / RFC 5843) as EWP uses it: SHA-256 over the body bytes as sent.

Spec: ewp-specs-sec-cliauth-httpsig v1.0.1; ewp-specs/SECURITY.md a.2 step 9.
"""

from __future__ import annotations

import base64
import hashlib

from ewp_node.security.errors import DigestMismatch, DigestMissing, DigestUnsupported


def digest_header(body: bytes) -> str:
    """The ``Digest`` value for ``body``: ``SHA-256=<base64>``."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def verify_digest(value: str | None, body: bytes) -> None:
    """Check a ``Digest`` header against the body bytes as received.

    The value is a comma list of ``algorithm=value``; algorithm names are case-insensitive, unknown ones
    are ignored, and every SHA-256 value must match.

    :param value: the ``Digest`` header, or None if absent.
    :param body: the raw body (still encrypted if ``ewp-rsa-aes128gcm`` was used).
    :raises DigestMissing: if there is no ``Digest`` header.
    :raises DigestUnsupported: if it carries no SHA-256 value.
    :raises DigestMismatch: if a SHA-256 value differs from the body's.
    """
    if value is None or not value.strip():
        raise DigestMissing("the Digest header is missing; send Digest: SHA-256=<base64 of sha256(body)>")
    sha256_values = []
    for item in value.split(","):
        algorithm, separator, encoded = item.partition("=")
        if separator and algorithm.strip().lower() == "sha-256":
            sha256_values.append(encoded.strip())
    if not sha256_values:
        raise DigestUnsupported("the Digest header has no SHA-256 value; EWP requires SHA-256")
    expected = digest_header(body).partition("=")[2]
    if any(encoded != expected for encoded in sha256_values):
        raise DigestMismatch("the SHA-256 Digest does not match the body as received")

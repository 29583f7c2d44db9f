"""Security failures, one class per failed check.

``status`` is the HTTP status a server answers with (ewp-specs/SECURITY.md a.2, c.2, c.3); ``check`` is the
short name of the failed check, for the developer message. Messages never contain key material.
"""

from __future__ import annotations


class SecurityError(Exception):
    """Base of every security failure."""

    status: int = 400
    check: str = "security"

    def __init__(self, message: str, *, check: str | None = None) -> None:
        super().__init__(message)
        if check is not None:
            self.check = check


# -- request side: our server verifying a client (cliauth-httpsig) ------------------------------------------


class MissingSignature(SecurityError):
    """No ``Authorization: Signature`` header: the client does not use httpsig (answer 401 + challenge)."""

    status = 401
    check = "authorization"


class MalformedSignature(SecurityError):
    """The signature parameters cannot be parsed, or a required parameter is missing."""

    check = "signature-params"


class UnsupportedAlgorithm(SecurityError):
    check = "algorithm"


class UnsignedHeader(SecurityError):
    """A header the EWP profile requires to be signed is not listed in ``headers=``."""

    check = "signed-headers"


class MissingHeader(SecurityError):
    """A header listed in ``headers=`` is absent from the message."""

    check = "signed-headers"


class HostMismatch(SecurityError):
    check = "host"


class UnknownKey(SecurityError):
    """The keyId is not a key of the Registry catalogue."""

    status = 403
    check = "key"


class NotAClientKey(SecurityError):
    """The keyId is a known key but not listed in any ``<client-credentials-in-use>`` (e.g. a server key)."""

    status = 403
    check = "key"


class MissingDate(SecurityError):
    check = "date"


class MalformedDate(SecurityError):
    check = "date"


class DateOutOfWindow(SecurityError):
    check = "date"


class BadRequestId(SecurityError):
    check = "x-request-id"


class ReplayedRequest(SecurityError):
    check = "replay"


class BadSignature(SecurityError):
    check = "signature"


class DigestMissing(SecurityError):
    check = "digest"


class DigestMismatch(SecurityError):
    check = "digest"


class DigestUnsupported(SecurityError):
    """The ``Digest`` header has no SHA-256 value."""

    check = "digest"


# -- response side: our client verifying a partner's response (srvauth-httpsig) ---------------------------


class ResponseVerificationError(SecurityError):
    """A partner's response failed verification.

    A failed shared check (digest, date, signature...) is re-raised as this class with the same ``check``;
    the precise request-side error is its ``__cause__``. Never sent to the partner: 502 if relayed.
    """

    status = 502
    check = "response"


class ResponseNotSigned(ResponseVerificationError):
    check = "response-signature"


class RequestIdMismatch(ResponseVerificationError):
    check = "x-request-id"


class RequestSignatureMismatch(ResponseVerificationError):
    check = "x-request-signature"


class UntrustedServerKey(ResponseVerificationError):
    """For the caller's key resolver: the keyId is not a server key of the host that serves the endpoint."""

    check = "key"


# -- ewp-rsa-aes128gcm --------------------------------------------------------------------------------------


class DecryptionError(SecurityError):
    """The body cannot be decrypted: wrong recipient, truncated, or corrupted (one message for all crypto failures)."""

    check = "encryption"


class EncodingNotAcceptable(SecurityError):
    """We must encrypt the response but the client does not accept ``ewp-rsa-aes128gcm`` (or gave no key)."""

    status = 406
    check = "encoding"


class UnsupportedContentEncoding(SecurityError):
    """The request body uses a content coding this endpoint does not accept (reqencr: 415)."""

    status = 415
    check = "content-encoding"


class MisusedContentEncoding(SecurityError):
    """``ewp-rsa-aes128gcm`` mixed with other codings (400, SECURITY.md c.2)."""

    check = "content-encoding"


class EncryptedRequestWithoutBody(SecurityError):
    """An encrypted request sent with a method that has no body semantics, such as GET (405)."""

    status = 405
    check = "content-encoding"

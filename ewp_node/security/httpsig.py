"""HTTP Signatures, draft-cavage-http-signatures-07 with ``rsa-sha256``, as profiled by EWP.

Spec: ewp-specs-sec-cliauth-httpsig v1.0.1 (requests) and ewp-specs-sec-srvauth-httpsig v1.0.2 (responses);
summary in ewp-specs/SECURITY.md sections a and b. Pure functions over method, target, headers, body and
``now``: the Flask middleware and the ``requests`` client do the I/O.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable, ItemsView, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from ewp_node.security.digest import digest_header, verify_digest
from ewp_node.security.errors import (
    BadRequestId,
    BadSignature,
    DateOutOfWindow,
    HostMismatch,
    MalformedDate,
    MalformedSignature,
    MissingDate,
    MissingHeader,
    MissingSignature,
    ReplayedRequest,
    RequestIdMismatch,
    RequestSignatureMismatch,
    ResponseNotSigned,
    ResponseVerificationError,
    SecurityError,
    UnsignedHeader,
    UnsupportedAlgorithm,
)

#: Accepted distance between a message's Date/Original-Date and our clock. EWP makes 5 minutes the minimum
#: every node must tolerate: less rejects valid partners, more widens the window for replays.
CLOCK_SKEW = timedelta(minutes=5)
#: Canonical lower-case UUID, as servers check ``X-Request-Id`` (upper case is rejected).
REQUEST_ID_RE = re.compile(r"\A[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
ALGORITHM = "rsa-sha256"
REQUEST_TARGET = "(request-target)"
#: Headers every EWP request signature must cover, besides ``date`` or ``original-date``.
REQUIRED_REQUEST_HEADERS = (REQUEST_TARGET, "host", "digest", "x-request-id")
DATE_HEADERS = ("date", "original-date")
#: Response headers a response signature covers when present, besides the ones ``sign_response`` adds.
SIGNED_RESPONSE_HEADERS = ("Content-Type", "Content-Encoding")

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_HTTP_DATE_RE = re.compile(
    rf"\A({'|'.join(_WEEKDAYS)}), ([0-9]{{2}}) ({'|'.join(_MONTHS)}) ([0-9]{{4}}) "
    r"([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT\Z"
)
_SCHEME_RE = re.compile(r"\A\s*signature\s+", re.IGNORECASE | re.ASCII)
_PARAM_RE = re.compile(  # quoted strings unrolled ("[^"\\]*(\\.[^"\\]*)*"): no per-character alternation
    r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"([^"\\]*(?:\\.[^"\\]*)*)"|([^",\s]*))\s*(?:,|\Z)', re.ASCII | re.DOTALL
)
_ESCAPE_RE = re.compile(r"\\(.)", re.DOTALL)
#: Headers ``sign_request`` sets itself; passing them in would leave them unsigned or duplicated.
_SIGNER_OWNED = frozenset({"date", "original-date", "digest", "x-request-id", "authorization"})
_CONTENT_KEYS = {"CONTENT_TYPE": "content-type", "CONTENT_LENGTH": "content-length"}
_ENVIRON_CONTENT_KEYS = frozenset({"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"})


def format_http_date(dt: datetime) -> str:
    """Format an aware datetime as IMF-fixdate, e.g. ``Tue, 07 Jan 2025 12:00:00 GMT``.

    :raises ValueError: for a naive datetime.
    """
    if dt.tzinfo is None:
        raise ValueError("naive datetime: pass an aware datetime")
    dt = dt.astimezone(UTC)
    return (f"{_WEEKDAYS[dt.weekday()]}, {dt.day:02d} {_MONTHS[dt.month - 1]} {dt.year:04d} "
            f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d} GMT")


def parse_http_date(value: str) -> datetime:
    """Parse a strict RFC 1123 date in GMT (weekday checked) into an aware UTC datetime.

    :raises ValueError: if the value is not such a date.
    """
    match = _HTTP_DATE_RE.match(value.strip())
    if match is None:
        raise ValueError(f"not an RFC 1123 date like 'Tue, 07 Jan 2025 12:00:00 GMT': {value[:40]!r}")
    weekday, day, month, year, hour, minute, second = match.groups()
    parsed = datetime(
        int(year), _MONTHS.index(month) + 1, int(day), int(hour), int(minute), int(second), tzinfo=UTC
    )
    if _WEEKDAYS[parsed.weekday()] != weekday:
        raise ValueError(f"wrong weekday in {value!r}")
    return parsed


class HeaderView:
    """A read-only, case-insensitive view of message headers.

    Built from (name, value) pairs in wire order (``werkzeug`` ``Headers`` or ``dict.items()``); several
    values of one header read as one, joined with ``", "`` (cavage-07 section 2.3), each trimmed.
    """

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        values: dict[str, str] = {}
        for name, value in items:
            key = name.lower()
            values[key] = f"{values[key]}, {value.strip()}" if key in values else value.strip()
        self._values = values

    @classmethod
    def from_wsgi_environ(cls, environ: Mapping[str, Any]) -> HeaderView:
        """The request headers of a WSGI environ (PEP 3333: ``HTTP_*`` keys, ``CONTENT_TYPE`` and
        ``CONTENT_LENGTH``; the server has already joined repeated headers), as ``werkzeug`` reads them."""
        view = cls(())
        values = view._values
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                if key not in _ENVIRON_CONTENT_KEYS:
                    values[key[5:].replace("_", "-").lower()] = value.strip()
            elif key in _CONTENT_KEYS and value:
                values[_CONTENT_KEYS[key]] = value.strip()
        return view

    def get(self, name: str) -> str | None:
        return self._values.get(name.lower())

    def items(self) -> ItemsView[str, str]:
        """``(lower-case name, value)`` of every header (a view, nothing copied)."""
        return self._values.items()

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._values


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class SignatureParams:
    """The parameters of an ``Authorization: Signature`` or ``Signature`` header."""

    key_id: str
    algorithm: str
    headers: tuple[str, ...]
    signature: str

    def format(self) -> str:
        """The header value without scheme: ``keyId="…",algorithm="…",headers="…",signature="…"``."""
        return (
            f"keyId={_quote(self.key_id)},algorithm={_quote(self.algorithm)},"
            f"headers={_quote(' '.join(self.headers))},signature={_quote(self.signature)}"
        )


def parse_signature_params(value: str) -> SignatureParams:
    """Parse signature parameters, with or without the ``Signature`` scheme (case-insensitive).

    Values may be quoted strings (backslash escapes allowed) or tokens; parameter names are
    case-insensitive; unknown parameters are ignored; ``headers`` defaults to ``date`` (cavage-07).

    :raises MalformedSignature: on syntax errors, duplicate or missing parameters, or a non-base64 signature.
    """
    text = _SCHEME_RE.sub("", value, count=1).strip()
    found: dict[str, str] = {}
    position = 0
    while position < len(text):
        match = _PARAM_RE.match(text, position)
        if match is None:
            raise MalformedSignature(f"cannot parse the signature parameters at character {position}")
        name, quoted, token = match.groups()
        if name.lower() in found:
            raise MalformedSignature(f"signature parameter {name!r} appears twice")
        if quoted is None:
            found[name.lower()] = token
        else:
            found[name.lower()] = _ESCAPE_RE.sub(r"\1", quoted) if "\\" in quoted else quoted
        position = match.end()
    missing = [name for name in ("keyId", "algorithm", "signature") if not found.get(name.lower())]
    if missing:
        raise MalformedSignature(f"signature parameters lack {', '.join(missing)}")
    try:
        base64.b64decode(found["signature"], validate=True)
    except ValueError:
        raise MalformedSignature("the signature parameter is not base64") from None
    return SignatureParams(
        key_id=found["keyid"],
        algorithm=found["algorithm"],
        headers=tuple(found.get("headers", "date").lower().split()),
        signature=found["signature"],
    )


def signing_string(names: Sequence[str], headers: HeaderView, request_target: str | None) -> str:
    """Build the cavage-07 signing string: one ``name: value`` line per entry of ``names``.

    :param request_target: ``<lower-case method> <path?query>``, for a ``(request-target)`` entry.
    :raises MissingHeader: if a listed header is absent (or ``(request-target)`` is listed without a target).
    """
    lines = []
    for name in names:
        value = request_target if name.lower() == REQUEST_TARGET else headers.get(name)
        if value is None:
            raise MissingHeader(f"the signed header {name} is absent")
        lines.append(f"{name.lower()}: {value}")
    return "\n".join(lines)


def _request_target(method: str, target: str) -> str:
    return f"{method.lower()} {target}"


def _sign(private_key: RSAPrivateKey, key_id: str, names: Sequence[str], headers: HeaderView,
          request_target: str | None) -> str:
    text = signing_string(names, headers, request_target)
    signature = private_key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return SignatureParams(key_id, ALGORITHM, tuple(names), base64.b64encode(signature).decode("ascii")).format()


def _parse_profiled(value: str, required: Sequence[str]) -> SignatureParams:
    """Parse signature parameters and check the EWP profile: algorithm and signed-header coverage."""
    params = parse_signature_params(value)
    if params.algorithm.lower() != ALGORITHM:
        raise UnsupportedAlgorithm(f"algorithm {params.algorithm[:40]!r} is not supported; use {ALGORITHM}")
    missing = [name for name in required if name not in params.headers]
    if not set(DATE_HEADERS) & set(params.headers):
        missing.append("date or original-date")
    if missing:
        raise UnsignedHeader(f"the signature must cover {', '.join(missing)}")
    return params


def _check_dates(headers: HeaderView, now: datetime) -> None:
    present = [(name, value) for name in DATE_HEADERS if (value := headers.get(name)) is not None]
    if not present:
        raise MissingDate("neither Date nor Original-Date is present")
    for name, value in present:
        try:
            sent = parse_http_date(value)
        except ValueError as exc:
            raise MalformedDate(f"{name}: {exc}") from None
        if abs(now - sent) > CLOCK_SKEW:
            raise DateOutOfWindow(
                f"{name} {value!r} is more than {CLOCK_SKEW} away from our clock ({format_http_date(now)})"
            )


def _check_signature(params: SignatureParams, headers: HeaderView, request_target: str,
                     public_key: RSAPublicKey) -> None:
    text = signing_string(params.headers, headers, request_target)
    try:
        public_key.verify(base64.b64decode(params.signature), text.encode("utf-8"), padding.PKCS1v15(),
                          hashes.SHA256())
    except InvalidSignature:
        raise BadSignature(f"the signature does not verify with key {params.key_id}") from None


# -- requests (cliauth-httpsig) -----------------------------------------------------------------------------


def sign_request(*, method: str, target: str, headers: Mapping[str, str], body: bytes,
                 private_key: RSAPrivateKey, key_id: str, now: datetime, request_id: str | None = None,
                 use_original_date: bool = False) -> dict[str, str]:
    """Sign a request: return every header to send, ``Authorization`` included.

    Signs ``(request-target) host date digest x-request-id`` and then every given header in order.

    :param target: path and query exactly as sent, e.g. ``/ewp/echo?echo=a``.
    :param headers: the headers to send and sign; must contain ``Host`` (host[:port] as sent).
    :param body: the final body bytes (already encrypted if ``ewp-rsa-aes128gcm`` is used).
    :param key_id: the fingerprint of our client key.
    :param request_id: a canonical UUID; a fresh random one when None.
    :param use_original_date: send ``Original-Date`` instead of ``Date`` (for proxies that rewrite Date).
    :raises ValueError: without ``Host``, with a header this function sets, or with a non-canonical id.
    """
    host = next((value for name, value in headers.items() if name.lower() == "host"), None)
    if host is None:
        raise ValueError("headers must contain Host, exactly as it will be sent (host[:port])")
    owned = sorted(name for name in headers if name.lower() in _SIGNER_OWNED)
    if owned:
        raise ValueError(f"sign_request sets {', '.join(owned)} itself; remove them from headers")
    request_id = request_id or str(uuid.uuid4())
    if not REQUEST_ID_RE.match(request_id):
        raise ValueError("request_id must be a canonical lower-case UUID")
    date_name = "Original-Date" if use_original_date else "Date"
    sent = {"Host": host, date_name: format_http_date(now), "X-Request-Id": request_id,
            "Digest": digest_header(body)}
    others = {name: value for name, value in headers.items() if name.lower() != "host"}
    sent.update(others)
    names = [REQUEST_TARGET, "host", date_name.lower(), "digest", "x-request-id", *map(str.lower, others)]
    credentials = _sign(private_key, key_id, names, HeaderView(sent.items()), _request_target(method, target))
    sent["Authorization"] = "Signature " + credentials
    return sent


@dataclass(frozen=True)
class VerifiedRequest:
    """What a verified request proves: who signed it, and which headers may be trusted."""

    key_id: str
    signed_headers: frozenset[str]
    signature: str
    request_id: str


def verify_request(*, method: str, target: str, headers: HeaderView, body: bytes, now: datetime,
                   expected_host: str | None, resolve_client_key: Callable[[str], RSAPublicKey],
                   is_replay: Callable[[str], bool] | None = None) -> VerifiedRequest:
    """Verify an HTTP-signed request (ewp-specs/SECURITY.md a.2 steps 1-9).

    The replay check runs last, so that only fully verified requests are remembered (an unsigned request
    can neither burn a partner's request id nor fill the cache).

    :param target: path and query exactly as received.
    :param headers: the request headers as received.
    :param body: the raw body as received.
    :param now: our clock (aware).
    :param expected_host: our own host[:port], or None to skip the Host check.
    :param resolve_client_key: the client key for a keyId; raises :class:`UnknownKey` or
        :class:`NotAClientKey`.
    :param is_replay: records a request id and says whether it was seen before (e.g. ``ReplayGuard.seen``).
    :returns: the verified request; the caller must drop every header not in ``signed_headers``.
    :raises SecurityError: the subclass naming the failed check.
    """
    scheme, _, credentials = (headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "signature":
        raise MissingSignature("no 'Authorization: Signature' header: HTTP Signature authentication is required")
    params = _parse_profiled(credentials, REQUIRED_REQUEST_HEADERS)
    if expected_host is not None:
        host = headers.get("host")
        if host is None:
            raise MissingHeader("the signed header host is absent")
        if host.lower() != expected_host.lower():
            raise HostMismatch(f"Host {host[:100]!r} is not this server ({expected_host})")
    public_key = resolve_client_key(params.key_id)
    _check_dates(headers, now)
    request_id = headers.get("x-request-id")
    if request_id is None or not REQUEST_ID_RE.match(request_id):
        raise BadRequestId("X-Request-Id must be a canonical lower-case UUID")
    _check_signature(params, headers, _request_target(method, target), public_key)
    verify_digest(headers.get("digest"), body)
    if is_replay is not None and is_replay(request_id):
        raise ReplayedRequest(f"X-Request-Id {request_id} was already used")
    return VerifiedRequest(params.key_id, frozenset(params.headers), params.signature, request_id)


# -- responses (srvauth-httpsig) ----------------------------------------------------------------------------


def wants_signed_response(accept_signature: str | None) -> bool:
    """Whether an ``Accept-Signature`` header asks for ``rsa-sha256`` (unknown algorithms are ignored)."""
    if accept_signature is None:
        return False
    return any(item.partition(";")[0].strip().lower() == ALGORITHM for item in accept_signature.split(","))


def sign_response(*, headers: Mapping[str, str], body: bytes, private_key: RSAPrivateKey, key_id: str,
                  now: datetime, request_id: str | None, request_signature: str | None) -> dict[str, str]:
    """Sign a response: return the headers to add to it.

    Adds ``Original-Date`` (not ``Date``: the WSGI server adds its own, and two Dates break verifiers),
    ``Digest``, ``X-Request-Id`` and ``X-Request-Signature`` when given, and ``Signature`` covering them plus
    ``Content-Type`` and ``Content-Encoding`` when present.

    :param headers: the response headers as they will be sent, or at least its ``SIGNED_RESPONSE_HEADERS``.
    :param body: the body as sent (after gzip/encryption).
    :param request_id: the request's ``X-Request-Id``, if it had one.
    :param request_signature: the ``signature`` value of the request's ``Authorization``, if signed.
    """
    added = {"Original-Date": format_http_date(now), "Digest": digest_header(body)}
    if request_id is not None:
        added["X-Request-Id"] = request_id
    if request_signature is not None:
        added["X-Request-Signature"] = request_signature
    names = [name.lower() for name in added]
    view = HeaderView([*((n, v) for n, v in headers.items() if n.lower() not in names), *added.items()])
    names += [name.lower() for name in SIGNED_RESPONSE_HEADERS if name in view]
    added["Signature"] = _sign(private_key, key_id, names, view, None)
    return added


def verify_response(*, headers: HeaderView, body: bytes, now: datetime, request_method: str,
                    request_target: str, request_id: str | None, request_signature: str | None,
                    resolve_server_key: Callable[[str], RSAPublicKey]) -> bytes:
    """Verify a partner's signed response (ewp-specs/SECURITY.md b.2 checks 1-8).

    Accepts a ``(request-target)`` entry, computed from our request as the Java reference signer does.

    :param request_method: the method of our request.
    :param request_target: path and query of our request.
    :param request_id: the ``X-Request-Id`` we sent, or None.
    :param request_signature: the ``signature`` value of our ``Authorization``, or None if unsigned.
    :param resolve_server_key: the server key for a keyId, valid for the host that serves the endpoint;
        raises a :class:`SecurityError` (e.g. :class:`UntrustedServerKey`) otherwise.
    :returns: the verified body bytes (parse exactly these).
    :raises ResponseVerificationError: naming the failed check; a shared check's error is its cause.
    """
    try:
        echoed_id = headers.get("x-request-id")
        if echoed_id != request_id:
            raise RequestIdMismatch(f"X-Request-Id {echoed_id!r} does not echo ours ({request_id!r})")
        value = headers.get("signature")
        if value is None:
            raise ResponseNotSigned("the response has no Signature header")
        required = ["digest"]
        if request_id is not None:
            required.append("x-request-id")
        if request_signature is not None:
            required.append("x-request-signature")
        params = _parse_profiled(value, required)
        if headers.get("x-request-signature") != request_signature:
            raise RequestSignatureMismatch("X-Request-Signature does not echo our request's signature")
        _check_dates(headers, now)
        public_key = resolve_server_key(params.key_id)
        _check_signature(params, headers, _request_target(request_method, request_target), public_key)
        verify_digest(headers.get("digest"), body)
    except ResponseVerificationError:
        raise
    except SecurityError as exc:
        raise ResponseVerificationError(f"partner response rejected: {exc}", check=exc.check) from exc
    return body

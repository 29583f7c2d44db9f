"""What the audit log keeps of an exchange's wire, and how it rides in the journal line.

This runs on the request thread, inside :meth:`ewp_node.audit.AuditSink.record`: it only redacts header values,
slices the bodies at the cap and turns them into text for the JSON line (``latin-1``: one character per byte,
lossless for any bytes). Compression waits for the flusher, pretty-printing for the console.

Never stored (the value becomes :data:`REDACTED`): ``Authorization`` unless it carries an HTTP Signature (a
signature over this one request, no secret: it names the key that signed, so it is kept), which covers the
``/status`` bearer token; ``Proxy-Authorization``; ``Cookie`` and ``Set-Cookie`` (the console's session cookie
never reaches an EWP route, a partner's cookies are not ours to keep). The ``Signature`` header of responses is
kept. Private keys never travel, so no capture holds one. Bodies longer than the cap keep their first
``cap`` bytes and their full length, which the console shows.
"""

from __future__ import annotations

from typing import Any

from ewp_node.store.captures import Capture, Headers

REDACTED = "(redacted)"
#: Headers whose values are never stored (lower case).
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
#: Default cap on each stored body (the ``exchange_capture_bytes`` setting).
CAPTURE_BYTES = 64 * 1024


def redacted(headers: Headers) -> list[tuple[str, str]]:
    """``headers`` with the value of every secret header replaced by :data:`REDACTED`."""
    return [(name, REDACTED if name.lower() in SECRET_HEADERS and not _http_signature(name, value) else value)
            for name, value in headers]


def _http_signature(name: str, value: str) -> bool:
    return name.lower() == "authorization" and value[:10].lower() == "signature "


def journal_values(capture: Capture, cap: int) -> list[Any]:
    """``capture`` as JSON values for the journal line: headers redacted, bodies cut to ``cap`` bytes."""
    request, response = capture.request_body, capture.response_body
    return [capture.url, redacted(capture.request_headers), _text(request, cap), redacted(capture.response_headers),
            _text(response, cap), None if request is None else len(request),
            None if response is None else len(response)]


def from_journal(values: list[Any]) -> Capture:
    """The capture of :func:`journal_values`. :raises ValueError: not such values."""
    if not isinstance(values, list) or len(values) != len(Capture._fields):
        raise ValueError(f"a capture holds {len(Capture._fields)} values")
    url, request_headers, request, response_headers, response, request_bytes, response_bytes = values
    return Capture(str(url), _pairs(request_headers), _bytes(request), _pairs(response_headers), _bytes(response),
                   request_bytes, response_bytes)


def _text(body: bytes | None, cap: int) -> str | None:
    return None if body is None else body[:cap].decode("latin-1")


def _bytes(text: str | None) -> bytes | None:
    return None if text is None else text.encode("latin-1")


def _pairs(headers: list[list[str]]) -> list[tuple[str, str]]:
    return [(str(name), str(value)) for name, value in headers]

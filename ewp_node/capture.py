"""What the audit log keeps of an exchange's wire, and how it rides in the journal line.

This runs on the request thread, inside :meth:`ewp_node.audit.AuditSink.record`, so it does as little as it
can: headers become ``name: value`` lines (secret values redacted), bodies are sliced at the cap, and both go
into the line as raw bytes after the JSON part, tab-separated, with only ``\\``, tab and newline escaped
(``bytes.replace``: no per-character work in Python, no JSON escaping of the bodies). The flusher stores that
tail as it is, compressed (:class:`PackedCapture`): it is read back into headers and bodies only when the
console shows the exchange (:func:`capture_of`), and pretty-printed there.

Never stored (the value becomes :data:`REDACTED`): ``Authorization`` unless it carries an HTTP Signature (a
signature over this one request, no secret: it names the key that signed, so it is kept), which covers the
``/status`` bearer token; ``Proxy-Authorization``; ``Cookie`` and ``Set-Cookie`` (the console's session cookie
never reaches an EWP route, a partner's cookies are not ours to keep). The ``Signature`` header of responses is
kept. Private keys never travel, so no capture holds one. Bodies longer than the cap keep their first
``cap`` bytes and their full length, which the console shows.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from ewp_node.store.captures import Capture, CaptureRow, Headers, PackedCapture, packed_wire

REDACTED = "(redacted)"
#: Headers whose values are never stored (lower case).
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
#: Default cap on each stored body (the ``exchange_capture_bytes`` setting).
CAPTURE_BYTES = 64 * 1024
_UNESCAPE = {b"\\": b"\\", b"t": b"\t", b"n": b"\n"}
_ESCAPED = re.compile(rb"\\(.)", re.DOTALL)


def redacted(headers: Headers) -> str:
    """``headers`` as ``name: value`` lines, the value of every secret header replaced by :data:`REDACTED`."""
    lines = []
    for name, value in headers:  # a plain loop: cheaper here than joins and substring searches over the text
        if name.lower() in SECRET_HEADERS and not _http_signature(name, value):
            value = REDACTED
        lines.append(f"{name}: {value}")
    return "\n".join(lines)


def _http_signature(name: str, value: str) -> bool:
    return name.lower() == "authorization" and value[:10].lower() == "signature "


def journal_parts(capture: Capture, cap: int) -> tuple[list[Any], bytes]:
    """``capture`` for the journal line: JSON values (URL, full body lengths, None for no body) and the
    tab-separated tail (redacted headers and bodies cut to ``cap`` bytes, escaped so that the line holds no raw
    tab or newline)."""
    request, response = capture.request_body, capture.response_body
    values = [capture.url, None if request is None else len(request), None if response is None else len(response)]
    tail = b"\t".join([_headers(capture.request_headers), b"" if request is None else _escape(request[:cap]),
                       _headers(capture.response_headers), b"" if response is None else _escape(response[:cap])])
    return values, tail


def pack(capture: Capture, cap: int) -> PackedCapture:
    """``capture`` as the journal carries it and the database keeps it."""
    values, tail = journal_parts(capture, cap)
    return PackedCapture(values[0], values[1], values[2], tail)


def from_journal(values: list[Any], tail: bytes) -> PackedCapture:
    """The capture of :func:`journal_parts`, still packed. :raises ValueError: not such parts."""
    if not isinstance(values, list) or len(values) != 3 or tail.count(b"\t") != 3:
        raise ValueError("a capture holds 3 values and 4 tab-separated fields")
    url, request_bytes, response_bytes = values
    return PackedCapture(str(url), request_bytes, response_bytes, tail)


def unpacked(capture: PackedCapture) -> Capture:
    """The headers and bodies of a packed capture."""
    request_headers, request, response_headers, response = map(_unescape, capture.tail.split(b"\t"))
    return Capture(capture.url, _pairs(request_headers), None if capture.request_bytes is None else request,
                   _pairs(response_headers), None if capture.response_bytes is None else response,
                   capture.request_bytes, capture.response_bytes)


def capture_of(session: Session, uid: str | None) -> Capture | None:
    """The stored capture of the audit row ``uid``, read back (None: none kept, or purged)."""
    row = session.get(CaptureRow, uid) if uid else None
    return None if row is None else unpacked(packed_wire(row))


def _escape(data: bytes) -> bytes:
    return data.replace(b"\\", b"\\\\").replace(b"\t", b"\\t").replace(b"\n", b"\\n")


def _unescape(data: bytes) -> bytes:
    return _ESCAPED.sub(lambda m: _UNESCAPE.get(m[1], m[0]), data)


def _headers(headers: Headers) -> bytes:
    return _escape(redacted(headers).encode(errors="backslashreplace"))


def _pairs(text: bytes) -> list[tuple[str, str]]:
    """The pairs of :func:`redacted`'s lines."""
    return [(name, value) for name, _, value in
            (line.partition(": ") for line in text.decode(errors="replace").split("\n") if line)]

"""Hostile input: the XML corpus against every parse entry point, and malformed requests against a running node.

Acceptance ("Core node"): bad input gets a 4xx EWP ``error-response``, never a 500. The XML corpus lives in
``tests/data/hostile_xml/`` (one attack per file; see its README); the oversize cases are generated here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ewp_node.registry.catalogue import CatalogueIndex
from ewp_node.xml.parse import MAX_DOCUMENT_BYTES, MalformedDocument, iter_elements, parse_xml

CORPUS = Path(__file__).resolve().parents[1] / "data" / "hostile_xml"
HOSTILE_FILES = sorted(CORPUS.glob("*.xml"))

#: Every entry point that turns outside bytes into a tree.
PARSE_ENTRY_POINTS: dict[str, Callable[[bytes], object]] = {
    "parse_xml": parse_xml,
    "CatalogueIndex.from_bytes": CatalogueIndex.from_bytes,
}


def _corpus_params() -> list[object]:
    return [pytest.param(path, id=path.name) for path in HOSTILE_FILES]


def test_the_corpus_has_every_attack_family() -> None:
    names = {path.stem for path in HOSTILE_FILES}
    for family in ("billion_laughs", "quadratic_blowup", "external_entity_file", "external_dtd", "parameter_entity",
                   "doctype_only", "xinclude", "deeply_nested"):
        assert family in names


@pytest.mark.parametrize("entry_point", PARSE_ENTRY_POINTS.values(), ids=PARSE_ENTRY_POINTS.keys())
@pytest.mark.parametrize("path", _corpus_params())
def test_every_hostile_document_is_refused(path: Path, entry_point: Callable[[bytes], object]) -> None:
    with pytest.raises(MalformedDocument):
        entry_point(path.read_bytes())


def test_an_oversize_document_is_refused_before_parsing() -> None:
    document = b"<r>" + b"x" * MAX_DOCUMENT_BYTES + b"</r>"
    with pytest.raises(MalformedDocument, match="too large"):
        parse_xml(document)
    with pytest.raises(MalformedDocument, match="too large"):
        parse_xml(b"<r>" + b"x" * 100 + b"</r>", max_bytes=50)


@pytest.mark.parametrize("entry_point", PARSE_ENTRY_POINTS.values(), ids=PARSE_ENTRY_POINTS.keys())
def test_no_local_file_is_opened_for_an_external_dtd(tmp_path: Path, entry_point: Callable[[bytes], object]) -> None:
    """An existing and a missing local DTD must be refused alike, without touching the file system."""
    existing = tmp_path / "exists.dtd"
    existing.write_text("a private file, not a DTD")
    messages = []
    for target in (existing, tmp_path / "missing.dtd"):
        with pytest.raises(MalformedDocument) as refused:
            entry_point(f'<?xml version="1.0"?><!DOCTYPE r SYSTEM "{target.as_uri()}"><r><x/></r>'.encode())
        messages.append(str(refused.value))
    assert messages[0] == messages[1]


def _stream_every(data: bytes, tag: str = "x") -> list[str]:
    """The streaming parser over a document whose root is ``r`` (or not), reading each ``tag`` element."""
    return [element.tag for element in iter_elements(data, "r", (tag,), max_bytes=MAX_DOCUMENT_BYTES)]


@pytest.mark.parametrize("path", _corpus_params())
def test_the_streaming_parser_refuses_what_the_tree_parser_refuses(path: Path) -> None:
    with pytest.raises(MalformedDocument):
        _stream_every(path.read_bytes(), "{http://www.w3.org/2001/XInclude}include" if "xinclude" in path.name else "x")


def test_the_streaming_parser_checks_its_arguments_and_the_root() -> None:
    with pytest.raises(MalformedDocument, match="too large"):
        list(iter_elements(b"<r><x/></r>", "r", ("x",), max_bytes=5))
    with pytest.raises(MalformedDocument, match="root element"):
        _stream_every(b"<other><x/></other>")
    assert _stream_every(b"<r><x/><y/><x>text</x></r>") == ["x", "x"]


def test_the_streaming_parser_drops_what_it_has_yielded() -> None:
    """Memory stays bounded by one input chunk (64 KiB, a few thousand of these elements), not the document."""
    data = b"<r>" + b"".join(b"<x><c>%d</c></x>" % i for i in range(50_000)) + b"</r>"
    siblings = []
    for element in iter_elements(data, "r", ("x",), max_bytes=len(data)):
        assert element.findtext("c") is not None  # complete when yielded
        siblings.append(len(element.getparent()))
    assert len(siblings) == 50_000
    assert max(siblings) < 5_000


# -- malformed requests against a running node ----------------------------------------------------------------

SIGNED = ["(request-target)", "host", "date", "digest", "x-request-id"]

#: name -> (overrides applied after signing, expected status)
GARBAGE_AFTER_SIGNING: dict[str, tuple[dict[str, str | None], int]] = {
    "authorization-scheme-only": ({"Authorization": "Signature"}, 400),
    "authorization-basic": ({"Authorization": "Basic dXNlcjpwYXNz"}, 401),
    "authorization-empty-params": ({"Authorization": "Signature keyId="}, 400),
    "authorization-binary-noise": ({"Authorization": "Signature \x01\x02\xff\xfe,,,==\"\""}, 400),
    "authorization-unterminated-quote": ({"Authorization": 'Signature keyId="abc,algorithm="rsa-sha256'}, 400),
    "authorization-signature-not-base64": ({"Authorization": 'Signature keyId="a",algorithm="rsa-sha256",'
                                            'headers="(request-target) host date digest x-request-id",'
                                            'signature="!!not base64!!"'}, 400),
    "authorization-unknown-algorithm": ({"Authorization": 'Signature keyId="a",algorithm="hmac-sha1",'
                                         'headers="(request-target) host date digest x-request-id",'
                                         'signature="AAAA"'}, 400),
    "authorization-no-headers-param": ({"Authorization": 'Signature keyId="a",algorithm="rsa-sha256",'
                                        'signature="AAAA"'}, 400),
    "authorization-huge": ({"Authorization": 'Signature keyId="' + "a" * 200_000 + '"'}, 400),
    "digest-garbage": ({"Digest": "%%%garbage%%%"}, 400),
    "digest-empty": ({"Digest": ""}, 400),
    "date-garbage": ({"Date": "yesterday, around noon"}, 400),
    "date-huge": ({"Date": "Tue, " + "9" * 100_000}, 400),
    "request-id-garbage": ({"X-Request-Id": "'; DROP TABLE audit_log; --"}, 400),
    "host-garbage": ({"Host": "evil.example.com:99999"}, 400),
}


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("name", GARBAGE_AFTER_SIGNING)
def test_garbage_headers_get_a_4xx_error_response(probe, method: str, name: str) -> None:  # type: ignore[no-untyped-def]
    overrides, status = GARBAGE_AFTER_SIGNING[name]
    probe.fails(probe.request(method, [("echo", "a")], after=overrides), status)


@pytest.mark.parametrize("header", ["Digest", "Date", "X-Request-Id"])
def test_signed_garbage_headers_get_400(probe, header: str) -> None:  # type: ignore[no-untyped-def]
    """Garbage that the signature covers: the signature holds, the value's own check must refuse it."""
    probe.fails(probe.request("POST", [("echo", "a")], headers={header: "\x7fgarbage=="}), 400, header)


def test_a_duplicated_authorization_header_gets_400(probe) -> None:  # type: ignore[no-untyped-def]
    sent = probe.request("GET", [("echo", "a")])
    authorization = sent.header("Authorization")
    sent.headers.append(("Authorization", authorization))
    response = probe.send(sent)
    assert response.status_code == 400
    assert b"error-response" in response.get_data()


def test_a_huge_unsigned_header_is_harmless(probe) -> None:  # type: ignore[no-untyped-def]
    """An unsigned extra header is ignored, whatever its size (the WSGI server bounds it in production)."""
    probe.ok(probe.request("GET", [("echo", "a")], after={"X-Padding": "p" * 500_000}))


def test_a_non_utf8_form_body_gets_400(probe) -> None:  # type: ignore[no-untyped-def]
    probe.fails(probe.request("POST", body=b"echo=\xff\xfe\xfd"), 400, "UTF-8")


def test_an_xml_body_with_entities_sent_as_a_form_is_never_expanded(probe) -> None:  # type: ignore[no-untyped-def]
    body = (CORPUS / "billion_laughs.xml").read_bytes()
    reply = probe.ok(probe.request("POST", body=body, headers={"Content-Type": "text/xml"}))
    assert b"lollollol" not in reply.body


def test_an_oversize_body_gets_413_before_any_parsing(probe) -> None:  # type: ignore[no-untyped-def]
    limit = probe.node.ctx.settings.max_request_bytes
    probe.fails(probe.request("POST", body=b"echo=" + b"a" * limit), 413)


def test_an_oversize_body_with_a_lying_content_length_never_reaches_the_handler(probe) -> None:  # type: ignore[no-untyped-def]
    limit = probe.node.ctx.settings.max_request_bytes
    sent = probe.request("POST", body=b"echo=" + b"a" * limit, after={"Content-Length": "10"})
    response = probe.send(sent)
    assert 400 <= response.status_code < 500


def test_a_path_that_does_not_exist_gets_a_404_error_response(probe) -> None:  # type: ignore[no-untyped-def]
    probe.fails(probe.request("GET", path="/ewp/no-such-api"), 404)


def test_hostile_values_fit_the_audit_columns(probe) -> None:  # type: ignore[no-untyped-def]
    """The audit log columns are bounded (request_id 64, method 8): PostgreSQL refuses longer values, and
    one refused row loses its whole batch, so unauthenticated input must be cut before it is audited."""
    from sqlalchemy import select

    from ewp_node.store.audit import AuditEntry

    long_id = "f" * 300
    probe.fails(probe.request("GET", [("echo", "a")], after={"X-Request-Id": long_id}), 400)
    response = probe.send(probe.request("LONGMETHODNAME", [("echo", "a")]))
    assert response.status_code == 405
    probe.node.ctx.audit.flush()
    with probe.node.ctx.sessions() as session:
        rows = list(session.scalars(select(AuditEntry)))
    assert len(rows) == 2
    assert all(len(row.request_id or "") <= 64 and len(row.method) <= 8 for row in rows)

"""The Answer record the API front sends, and its conversions at the Flask door."""

from __future__ import annotations

from flask import Response
from lxml import etree

from ewp_node.responses import XML_CONTENT_TYPE, Answer, xml_answer


def test_headers_are_read_and_set_in_any_case_keeping_the_order() -> None:
    answer = Answer(200, [("Content-Type", "text/plain"), ("X-One", "1"), ("x-two", "2")], b"body")
    assert answer.header("content-type") == "text/plain"
    assert answer.header("X-TWO") == "2"
    assert answer.header("absent") is None
    answer.set_header("X-ONE", "one")
    answer.set_header("Content-Length", "4")
    assert answer.headers == [("Content-Type", "text/plain"), ("x-two", "2"), ("X-ONE", "one"),
                              ("Content-Length", "4")]


def test_the_status_line_is_werkzeugs_even_for_a_code_it_does_not_name() -> None:
    assert Answer(404, [], b"").status_line == Response(status=404).status == "404 NOT FOUND"
    assert Answer(429, [], b"").status_line == "429 TOO MANY REQUESTS"
    assert Answer(599, [], b"").status_line == "599 UNKNOWN"


def test_an_answer_survives_the_flask_door_both_ways() -> None:
    answer = xml_answer(etree.fromstring(b"<a/>"), 400)
    answer.headers.append(("Retry-After", "10"))
    response = answer.response()
    assert (response.status_code, response.headers["Content-Type"], response.headers["Retry-After"]) == (
        400, XML_CONTENT_TYPE, "10")
    back = Answer.of(response)
    assert (back.status, back.body) == (400, answer.body)
    assert back.header("retry-after") == "10"
    assert back.header("content-length") is None  # it follows from the body, whatever the body becomes
    assert back.wire_headers()[-1] == ("Content-Length", str(len(answer.body)))
    back.body = b"<b/>"
    assert back.wire_headers() == [*back.headers, ("Content-Length", "4")]

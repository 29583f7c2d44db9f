"""The production server under ``ewp-node serve`` (2 workers, loopback): slow and idle clients, long query
strings, odd or malformed requests, repeated headers, chunked and oversize bodies (issue 7, findings 1, 7, 8).

Every answer the app gives is an EWP ``<error-response>`` (signed when asked); what the HTTP layer refuses
before there is a request (a head over 64 KiB, a line that is not HTTP) gets a bare status, never HTML.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest
import requests
from lxml import etree

from ewp_node.params import MAX_PARAMETERS
from ewp_node.xml import ns

from .conftest import (
    NODE_HEI,
    ServedNode,
    SlowClients,
    assert_error_response,
    parse_raw,
    raw_exchange,
)

pytestmark = pytest.mark.slow  # one node (2 workers) for the module; the slow-client test waits ~15 s

#: What a partner must get: the answer to a signed request within this many seconds.
ANSWER_WITHIN_S = 2.0
ONE_MIB = 1024 * 1024


def raw_request(method: str, target: str, headers: Sequence[tuple[str, str]], body: bytes = b"") -> bytes:
    head = [f"{method} {target} HTTP/1.1", *(f"{name}: {value}" for name, value in headers), "Connection: close"]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def chunked(body: bytes, size: int = 65536) -> bytes:
    parts = [b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size]) for i in range(0, len(body), size)]
    return b"".join(parts) + b"0\r\n\r\n"


def test_signed_requests_are_answered_while_64_slow_and_16_idle_connections_are_open(served: ServedNode) -> None:
    with SlowClients(served.port, count=64, idle=16, interval=5.0) as slow:
        time.sleep(1.0)
        for index in range(5):
            started = time.monotonic()
            response = served.get(f"/ewp/echo?echo=probe{index}", timeout=10)
            elapsed = time.monotonic() - started
            assert response.status_code == 200, response.content[:300]
            assert elapsed < ANSWER_WITHIN_S, f"probe {index} took {elapsed:.1f} s"
        assert slow.open_count() == 64  # still there: the probes did not just win a race against their close
        # The header-time bound (10 s) closes them, though each still sends a byte every 5 s.
        deadline = time.monotonic() + 20
        while slow.open_count() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert slow.open_count() == 0, "the server kept connections whose headers never end"


def test_an_echo_get_of_8_kb_is_answered(served: ServedNode) -> None:
    values = [f"{i:03d}" + "e" * 47 for i in range(120)]  # 120 values of 50 characters: ~7.3 kB of query
    target = "/ewp/echo?" + "&".join(f"echo={v}" for v in values)
    response = served.get(target)
    assert response.status_code == 200, response.content[:300]
    echoed = [e.text for e in etree.fromstring(response.content).iterfind(f"{{{ns.ECHO}}}echo")]
    assert echoed == values


@pytest.mark.parametrize(("path", "name"), [("/ewp/ounits", "ounit_id"), ("/ewp/courses", "los_id")])
def test_the_advertised_maximum_of_ids_works_and_one_more_is_an_error_response(served: ServedNode, path: str,
                                                                                name: str) -> None:
    ids = [f"{i:04d}-" + "7c3e9a12" * 7 + "abc" for i in range(101)]  # 64 characters each, as real ids go
    for count, status in ((100, 200), (101, 400)):
        target = f"{path}?hei_id={NODE_HEI}&" + "&".join(f"{name}={i}" for i in ids[:count])
        response = served.get(target)
        assert response.status_code == status, response.content[:300]
        if status != 200:
            assert_error_response(status, response.headers.get("Content-Type"), response.content)
            assert "Signature" in response.headers


def test_a_header_repeated_on_the_wire_verifies_when_the_signer_joined_it_with_comma_space(
        served: ServedNode) -> None:
    target = "/ewp/echo?echo=repeated"
    headers = served.signed_headers("GET", target, headers={"X-Ewp-Trace": "first, second"})
    wire = [(n, v) for n, v in headers.items() if n != "X-Ewp-Trace"] + [("X-Ewp-Trace", "first"),
                                                                        ("X-Ewp-Trace", "second")]
    status, _, body = parse_raw(raw_exchange(served.port, raw_request("GET", target, wire)))
    assert status == 200, body[:300]


def _signed_post(served: ServedNode, body: bytes, digest_over: bytes) -> list[tuple[str, str]]:
    headers = served.signed_headers("POST", "/ewp/echo", body=digest_over,
                                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    return list(headers.items())


def test_a_chunked_body_is_verified_whole(served: ServedNode) -> None:
    body = b"echo=chunked&echo=" + b"z" * 200_000
    wire = _signed_post(served, body, body) + [("Transfer-Encoding", "chunked")]
    status, headers, answer = parse_raw(raw_exchange(served.port, raw_request("POST", "/ewp/echo", wire,
                                                                             chunked(body, 4096))))
    assert status == 200, answer[:300]
    assert b"<echo>chunked</echo>" in answer


def test_an_oversize_chunked_body_is_refused_with_413_not_cut(served: ServedNode) -> None:
    first_mib = b"echo=" + b"a" * (ONE_MIB - 5)
    wire = _signed_post(served, first_mib + b"&echo=tail", first_mib) + [("Transfer-Encoding", "chunked")]
    status, headers, answer = parse_raw(raw_exchange(
        served.port, raw_request("POST", "/ewp/echo", wire, chunked(first_mib + b"&echo=tail"))))
    assert status == 413, answer[:300]
    assert_error_response(status, headers.get("content-type"), answer)
    assert "signature" in headers  # asked for with Accept-Signature: signed like every error


def test_an_oversize_declared_body_is_refused_before_it_is_sent(served: ServedNode) -> None:
    wire = [("Host", served.host), ("Content-Length", str(2 * ONE_MIB)), ("Content-Type", "text/xml")]
    status, headers, answer = parse_raw(raw_exchange(served.port, raw_request("POST", "/ewp/echo", wire)))
    assert status == 413
    assert_error_response(status, headers.get("content-type"), answer)


@pytest.mark.parametrize("extra", [
    [("X_Underscore", "y")],
    [("X-Empty", "")],
    [("X-Latin", "caf\xe9")],
    [("X-Long", "l" * 16_000)],
    [("Content-Length", "0"), ("Content-Length", "0")],
], ids=["underscore", "empty", "latin-1", "16-kB", "duplicate-length"])
def test_odd_but_parseable_headers_get_an_error_response(served: ServedNode, extra: list[tuple[str, str]]) -> None:
    wire = [("Host", served.host), ("Accept-Signature", "rsa-sha256"), *extra]
    status, headers, answer = parse_raw(raw_exchange(served.port, raw_request("GET", "/ewp/echo", wire)))
    assert 400 <= status < 500
    assert_error_response(status, headers.get("content-type"), answer)


@pytest.mark.parametrize("data", [
    b"GET /ewp/echo HTTP/1.1\r\nHost: x\r\nBad Name: y\r\n\r\n",
    b"GET /ewp/echo HTTP/1.1\r\nHost: x\r\nX: " + b"h" * 70_000 + b"\r\n\r\n",
    b"GET /ewp/echo?echo=" + b"q" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"NOT HTTP AT ALL\r\n\r\n",
    b"POST /ewp/echo HTTP/1.1\r\nHost: x\r\nContent-Length: many\r\n\r\n",
], ids=["header-name", "70-kB-header", "70-kB-target", "not-http", "bad-length"])
def test_what_the_http_layer_refuses_is_a_bare_4xx_never_html(served: ServedNode, data: bytes) -> None:
    status, headers, answer = parse_raw(raw_exchange(served.port, data))
    assert 400 <= status < 500
    assert "html" not in headers.get("content-type", "")
    assert b"<html" not in answer.lower()


def test_a_body_of_many_tiny_parameters_is_refused_before_it_costs_memory(served: ServedNode) -> None:
    for count, status in ((MAX_PARAMETERS, 200), (MAX_PARAMETERS + 1, 400)):
        body = b"&".join([b"echo=x"] * count)
        headers = served.signed_headers("POST", "/ewp/echo", body=body,
                                        headers={"Content-Type": "application/x-www-form-urlencoded"})
        response = requests.post(served.url + "/ewp/echo", data=body, headers=headers, timeout=10)
        assert response.status_code == status, response.content[:300]
    assert_error_response(400, response.headers.get("Content-Type"), response.content)

"""The ASGI bridge of ``ewp_node.server`` without a server: environ building, bounded body reading, the TLS
key handed to granian, ``--bind`` parsing."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ewp_node.errors import REJECTED_ENVIRON_KEY, RejectedByServer
from ewp_node.server import (
    BodyRefused,
    BufferedWsgi,
    ClientGone,
    Message,
    ServerLimits,
    parse_bind,
    pkcs8_key_file,
    read_body,
    wsgi_environ,
)

CHUNKED = [(b"transfer-encoding", b"chunked")]


def http_scope(headers: Sequence[tuple[bytes, bytes]] = (), raw_path: bytes = b"/ewp/echo",
               query: bytes = b"") -> Message:
    return {"type": "http", "method": "POST", "path": raw_path.decode(), "raw_path": raw_path,
            "query_string": query, "headers": list(headers), "client": ("127.0.0.1", 5000),
            "server": ("127.0.0.1", 8443), "scheme": "https", "http_version": "1.1"}


def receiver(messages: Sequence[Message], delay: float = 0.0):  # type: ignore[no-untyped-def]
    queue = list(messages)

    async def receive() -> Message:
        await asyncio.sleep(delay)
        return queue.pop(0) if queue else {"type": "http.disconnect"}

    return receive


def refusal(scope: Message, messages: Sequence[Message], limits: ServerLimits, delay: float = 0.0) -> RejectedByServer:
    with pytest.raises(BodyRefused) as refused:
        asyncio.run(read_body(scope, receiver(messages, delay), limits))
    return refused.value.rejection


def test_repeated_headers_are_joined_with_comma_space_and_the_target_is_kept_as_sent() -> None:
    scope = http_scope([(b"x-trace", b"first"), (b"X-Trace", b"second"), (b"content-type", b"text/xml"),
                        (b"transfer-encoding", b"chunked")], raw_path=b"/ewp/echo%2Fx", query=b"echo=a%20b")
    environ = wsgi_environ(scope, b"<x/>")
    assert environ["HTTP_X_TRACE"] == "first, second"
    assert environ["RAW_URI"] == "/ewp/echo%2Fx?echo=a%20b"
    assert environ["PATH_INFO"] == "/ewp/echo/x"
    assert environ["QUERY_STRING"] == "echo=a%20b"
    assert environ["CONTENT_TYPE"] == "text/xml"
    assert environ["CONTENT_LENGTH"] == "4"
    assert "HTTP_TRANSFER_ENCODING" not in environ
    assert environ["wsgi.input"].read() == b"<x/>"


def test_a_body_in_chunks_is_read_whole() -> None:
    messages = [{"type": "http.request", "body": b"ab", "more_body": True},
                {"type": "http.request", "body": b"cd", "more_body": False}]
    assert asyncio.run(read_body(http_scope(CHUNKED), receiver(messages), ServerLimits())) == b"abcd"


def test_a_request_without_length_or_chunks_has_no_body_to_wait_for() -> None:
    assert asyncio.run(read_body(http_scope(), receiver([], delay=60), ServerLimits())) == b""


def test_a_streamed_body_over_the_limit_is_413_not_cut() -> None:
    messages = [{"type": "http.request", "body": b"x" * 600, "more_body": True},
                {"type": "http.request", "body": b"x" * 600, "more_body": False}]
    assert refusal(http_scope(CHUNKED), messages, ServerLimits(max_body_bytes=1000)).status == 413


def test_a_declared_length_over_the_limit_is_413_before_reading() -> None:
    scope = http_scope([(b"content-length", b"1001")])
    assert refusal(scope, [], ServerLimits(max_body_bytes=1000)).status == 413


def test_a_length_that_is_not_a_number_is_400() -> None:
    assert refusal(http_scope([(b"content-length", b"-5")]), [], ServerLimits()).status == 400


def test_a_body_slower_than_the_bound_is_408() -> None:
    messages = [{"type": "http.request", "body": b"x", "more_body": True}] * 10
    assert refusal(http_scope(CHUNKED), messages, ServerLimits(body_timeout_s=0.2), delay=0.05).status == 408


def test_a_client_gone_midway_is_told_apart() -> None:
    with pytest.raises(ClientGone):
        messages = [{"type": "http.request", "body": b"x", "more_body": True}]
        asyncio.run(read_body(http_scope(CHUNKED), receiver(messages), ServerLimits()))


def test_a_pkcs8_key_is_used_as_is_and_another_pem_key_is_converted(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pkcs8 = tmp_path / "pkcs8.pem"
    pkcs8.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
    sec1 = tmp_path / "sec1.pem"
    sec1.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()))
    assert pkcs8_key_file(pkcs8, tmp_path / "work") == pkcs8
    (tmp_path / "work").mkdir()
    converted = pkcs8_key_file(sec1, tmp_path / "work")
    assert converted.read_bytes() == pkcs8.read_bytes()
    assert converted.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(("bind", "expected"), [("127.0.0.1:8443", ("127.0.0.1", 8443)),
                                                ("[::1]:8443", ("::1", 8443))])
def test_bind_addresses(bind: str, expected: tuple[str, int]) -> None:
    assert parse_bind(bind) == expected


@pytest.mark.parametrize("bind", ["8443", "host:80800", "host:", ":8443"])
def test_bad_bind_addresses_are_refused(bind: str) -> None:
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_bind(bind)


def run_bridge(limits: ServerLimits, scope: Message, messages: Sequence[Message]) -> tuple[list[Message], list[str]]:
    """One request through :class:`BufferedWsgi` (start-up, the request, shut-down) to a WSGI app that answers
    200 with the body it got, or the status of the refusal the bridge put in its environ."""
    exits: list[str] = []

    def app(environ, start_response):  # type: ignore[no-untyped-def]
        rejected = environ.get(REJECTED_ENVIRON_KEY)
        start_response(f"{rejected.status if rejected else 200} X", [("Content-Type", "text/plain")])
        return [environ["wsgi.input"].read()]

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def main() -> None:
        bridge = BufferedWsgi(lambda: app, limits, threads=2, on_exit=lambda _app: exits.append("closed"))
        lifespan = asyncio.Queue[Message]()
        await lifespan.put({"type": "lifespan.startup"})
        lifespan_task = asyncio.create_task(bridge({"type": "lifespan"}, lifespan.get, send))
        while not sent:
            await asyncio.sleep(0.01)
        await bridge(scope, receiver(messages), send)
        await lifespan.put({"type": "lifespan.shutdown"})
        await lifespan_task

    asyncio.run(main())
    return sent, exits


def test_the_bridge_answers_from_the_app_and_closes_it_at_worker_exit() -> None:
    body = [{"type": "http.request", "body": b"hello", "more_body": False}]
    sent, exits = run_bridge(ServerLimits(), http_scope([(b"content-length", b"5")]), body)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "http.response.start", "http.response.body",
                                         "lifespan.shutdown.complete"]
    assert sent[1]["status"] == 200 and sent[2]["body"] == b"hello"
    assert exits == ["closed"]


def test_a_client_over_its_share_of_requests_is_refused_through_the_app() -> None:
    sent, _ = run_bridge(ServerLimits(max_in_flight_per_client=0), http_scope(), [])
    assert sent[1]["status"] == 429
    assert (b"connection", b"close") in sent[1]["headers"]

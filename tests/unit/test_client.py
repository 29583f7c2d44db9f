"""The signed client against a real node app (in-process transport): registry lookup, signing, response
verification over the raw bytes, content codings, and refusals."""

from __future__ import annotations

import gzip

import pytest
from lxml import etree

from ewp_node.client import MAX_RESPONSE_BYTES, PartnerUnavailable
from ewp_node.client.codings import gunzip as _gunzip
from ewp_node.security.errors import ResponseVerificationError
from ewp_node.store.audit import Direction, recent_exchanges
from ewp_node.xml import ns

A, B = "uni-a.example.eu", "uni-b.example.eu"


def _echo(response) -> tuple[list[str], list[str]]:  # type: ignore[no-untyped-def]
    root = response.root
    return ([e.text for e in root.iter(f"{{{ns.ECHO}}}hei-id")], [e.text for e in root.iter(f"{{{ns.ECHO}}}echo")])


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_signed_echo_through_the_registry(make_pair, method: str) -> None:  # type: ignore[no-untyped-def]
    pair = make_pair()
    response = pair.client(pair.a).call(B, "echo", params=[("echo", "zażółć"), ("echo", "a b&c")], method=method)
    assert response.status == 200
    assert response.signature_verified
    assert _echo(response) == ([A], ["zażółć", "a b&c"])
    assert response.url == "https://b.test.example.eu/ewp/echo"
    pair.a.audit.flush()
    with pair.a.sessions() as session:
        [entry] = recent_exchanges(session)
    assert (entry.direction, entry.api, entry.partner_hei, entry.status) == (Direction.OUT, "echo", B, 200)


def test_gzip_answers_are_verified_then_inflated(make_pair) -> None:  # type: ignore[no-untyped-def]
    pair = make_pair()
    values = [("echo", f"value number {i}") for i in range(200)]
    response = pair.client(pair.a).call(B, "echo", params=values)
    assert response.signature_verified and len(_echo(response)[1]) == 200


def test_partner_requiring_encryption_gets_encrypted_requests_and_answers(make_pair) -> None:  # type: ignore[no-untyped-def]
    def only_rsa_aes(manifests: list) -> None:  # type: ignore[type-arg]
        for tls in manifests[1].iter(f"{{{ns.REQENCR_TLS}}}tls", f"{{{ns.RESENCR_TLS}}}tls"):
            tls.getparent().remove(tls)

    pair = make_pair(edit_manifests=only_rsa_aes, rsa_aes128gcm=True)
    response = pair.client(pair.a).call(B, "echo", params=[("echo", "secret")])
    assert response.status == 200 and response.signature_verified
    assert _echo(response)[1] == ["secret"]
    from ewp_node.capture import capture_of

    pair.a.audit.flush()
    with pair.a.sessions() as session:
        [entry] = [e for e in recent_exchanges(session) if e.direction is Direction.OUT]
        capture = capture_of(session, entry.uid)
    assert capture is not None and capture.request_body == b"echo=secret"  # what was sealed, not the ciphertext
    assert b"secret" in (capture.response_body or b"")  # the answer as decrypted


def test_unknown_partner_api_is_reported(make_pair) -> None:  # type: ignore[no-untyped-def]
    pair = make_pair()
    with pytest.raises(PartnerUnavailable, match="no 'monitoring' API"):
        pair.client(pair.a).call(B, "monitoring")
    with pytest.raises(PartnerUnavailable, match="no 'echo' API for HEI 'nowhere.example.eu'"):
        pair.client(pair.a).call("nowhere.example.eu", "echo")


def test_a_response_signed_by_a_key_of_another_host_is_rejected(make_pair) -> None:  # type: ignore[no-untyped-def]
    pair = make_pair()
    pair.b.server_key = pair.a.server_key  # B signs with A's server key: listed, but not for B's host
    with pytest.raises(ResponseVerificationError):
        pair.client(pair.a).call(B, "echo", params=[("echo", "x")])


def test_gzip_bombs_are_refused() -> None:
    assert _gunzip(gzip.compress(b"ok")) == b"ok"
    with pytest.raises(PartnerUnavailable, match="inflates past"):
        _gunzip(gzip.compress(b"\0" * (MAX_RESPONSE_BYTES + 1)))


def test_error_answers_come_back_signed_and_parsed(make_pair) -> None:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.asymmetric import rsa

    from ewp_node.context import KeyPair
    from ewp_node.security.keys import fingerprint

    pair = make_pair()
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pair.a.client_key = KeyPair(stranger, fingerprint(stranger.public_key()))  # a key no registry lists
    response = pair.client(pair.a).call(B, "echo", params=[("echo", "x")])
    assert response.status == 403
    assert response.signature_verified
    assert etree.QName(response.root).localname == "error-response"
    assert "not in the registry" in response.root.findtext(f"{{{ns.COMMON}}}developer-message")


def _watch_responses(client) -> list:  # type: ignore[no-untyped-def]
    """Every ``requests`` response the client's transport hands back, to check they were closed."""
    adapter = client._session.get_adapter("https://")
    seen: list = []
    send = adapter.send

    def watching_send(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(send(*args, **kwargs))
        return seen[-1]

    adapter.send = watching_send
    return seen


def test_the_response_is_closed_when_the_answer_is_oversize(make_pair, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    pair = make_pair()
    client = pair.client(pair.a)
    seen = _watch_responses(client)
    monkeypatch.setattr("ewp_node.client.pipeline.MAX_RESPONSE_BYTES", 100)
    with pytest.raises(PartnerUnavailable, match="exceeds 100 bytes"):
        client.call(B, "echo", params=[("echo", "x" * 200)])
    assert len(seen) == 1 and seen[0].raw.closed  # the pooled connection is not left checked out


def test_the_response_is_closed_and_audited_when_its_signature_fails(make_pair) -> None:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.asymmetric import rsa

    from ewp_node.context import KeyPair
    from ewp_node.security.keys import fingerprint

    pair = make_pair()
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pair.b.server_key = KeyPair(stranger, fingerprint(stranger.public_key()))  # B signs with a key no one lists
    client = pair.client(pair.a)
    seen = _watch_responses(client)
    with pytest.raises(ResponseVerificationError):
        client.call(B, "echo", params=[("echo", "x")], note="checking")
    assert len(seen) == 1 and seen[0].raw.closed
    pair.a.audit.flush()
    with pair.a.sessions() as session:
        [entry] = recent_exchanges(session)
    assert entry.status == 200 and entry.message.startswith("checking; UntrustedServerKey")


def test_every_call_reaches_the_audit_hook_even_a_failed_one(make_pair) -> None:  # type: ignore[no-untyped-def]
    from ewp_node.client import EwpClient

    pair = make_pair()
    heard: list = []
    client = EwpClient(pair.a, audit=heard.append)  # no transport for this host: the connection fails
    with pytest.raises(PartnerUnavailable, match="calling https://b.test.example.eu/ewp/echo failed"):
        client.call(B, "echo", params=[("echo", "x")])
    [exchange] = heard
    assert (exchange.api, exchange.partner_hei, exchange.status) == ("echo", B, 0)
    assert exchange.request_id and "PartnerUnavailable" in exchange.message


class _DripServer:
    """A partner on 127.0.0.1 that answers every connection with ``head`` at once, then ``body`` one byte every
    ``every`` seconds (a slow or hostile host)."""

    def __init__(self, head: bytes, body: bytes, every: float) -> None:
        import socket
        import threading

        self.head, self.body, self.every = head, body, every
        self._stop = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}/"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        conn, _ = self._sock.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(self.head)
            for byte in self.body:
                if self._stop.wait(self.every):
                    return
                conn.sendall(bytes([byte]))

    def close(self) -> None:
        self._stop.set()
        self._sock.close()
        self._thread.join(timeout=5)


def test_a_dripping_answer_is_cut_at_the_deadline() -> None:
    import time

    import requests

    from ewp_node.client.pipeline import read_bounded

    server = _DripServer(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", b"x" * 1000, every=0.05)
    try:  # each byte comes well within the per-read timeout: only the whole-answer deadline stops it
        response = requests.get(server.url, stream=True, timeout=2)
        started = time.monotonic()
        with pytest.raises(TimeoutError, match="did not arrive within the deadline"):
            read_bounded(response.raw, MAX_RESPONSE_BYTES, started + 0.5)
        assert time.monotonic() - started < 2.5  # one more read at most after the deadline
        response.close()
    finally:
        server.close()


@pytest.mark.parametrize("head", [b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n",
                                  b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"], ids=["length", "chunked"])
def test_a_bounded_read_returns_the_whole_raw_body(head: bytes) -> None:
    import time

    import requests

    from ewp_node.client.pipeline import read_bounded

    body = b"hello world" if b"Content-Length" in head else b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    for limit, expected in ((100, b"hello world"), (4, b"hello")):  # limit + 1 bytes at most: the caller refuses them
        server = _DripServer(head, body, every=0)
        try:
            response = requests.get(server.url, stream=True, timeout=5)
            assert read_bounded(response.raw, limit, time.monotonic() + 10) == expected
            response.close()
        finally:
            server.close()


# -- Monitoring API reports (call and forget) -------------------------------------------------------------------------

def _reporting(ctx):  # type: ignore[no-untyped-def]
    from ewp_node.client.monitoring import MonitoringReporter

    sent: list = []  # type: ignore[type-arg]
    ctx.monitoring = MonitoringReporter(sent.append)
    return sent


def test_failed_calls_are_reported_to_the_stats_portal(make_pair) -> None:  # type: ignore[no-untyped-def]
    pair = make_pair()
    sent = _reporting(pair.a)
    client = pair.client(pair.a)
    with pytest.raises(PartnerUnavailable):
        client.call(B, "imobility-stats", "get-url", [("id", "x")])  # B lists no such API
    answer = client.call(B, "organizational-units", params=[])  # B answers 400: hei_id is required
    assert answer.status == 400
    assert client.call(B, "echo", params=[("echo", "x")]).status == 200  # a success is not reported
    pair.a.monitoring.join()
    lookup, refused = sent
    assert lookup.params()[:4] == [("server_hei_id", B), ("api_name", "imobility-stats"), ("endpoint_name", "get"),
                                   ("http_code", "")]
    assert lookup.client_message.startswith("PartnerRefused: the registry lists no 'imobility-stats' API")
    assert (refused.api_name, refused.endpoint_name, refused.http_code) == ("organizational-units", "", 400)
    assert "hei_id" in refused.server_message and refused.client_message == ""  # the partner's developer-message


def test_what_is_never_reported(make_pair) -> None:  # type: ignore[no-untyped-def]
    from ewp_node.client.monitoring import failure_report

    pair = make_pair()
    pair.b.server_key = pair.a.server_key  # every answer of B fails verification
    sent = _reporting(pair.a)
    with pytest.raises(ResponseVerificationError):
        pair.client(pair.a).call(B, "echo", params=[("echo", "x")])  # Echo: not reported, though it failed
    pair.a.monitoring.join()
    assert sent == []
    assert failure_report("stats.erasmuswithoutpaper.eu", "iias", "get-url", 500, None, None) is None
    assert failure_report(B, "monitoring", "url", 500, None, None) is None
    assert failure_report(B, "iias", "get-url", 200, None, None) is None
    assert failure_report(B, "iias", "get-url", 0, RuntimeError("our database"), None) is None  # not the partner's
    report = failure_report(B, "iias", "index-url", 0, PartnerUnavailable("calling x failed: timed out"), None)
    assert report is not None and (report.endpoint_name, report.http_code) == ("index", None)


def test_the_reporter_drops_what_it_cannot_send_or_hold() -> None:
    import threading

    from ewp_node.client.monitoring import MonitoringReport, MonitoringReporter

    taken, release, sent = threading.Event(), threading.Event(), []

    def send(report: MonitoringReport) -> None:
        taken.set()
        release.wait(5)
        if report.api_name == "broken":
            raise ConnectionError("the Stats Portal is away")
        sent.append(report.api_name)

    reporter = MonitoringReporter(send, capacity=2)
    reporter.report(MonitoringReport(B, "broken", "", None, "", "x"))
    assert taken.wait(5)  # the thread holds the first report: two more wait in the queue, the rest are dropped
    for api in ("a", "b", "c", "d"):
        reporter.report(MonitoringReport(B, api, "", None, "", "x"))
    release.set()
    reporter.join()
    assert sent == ["a", "b"]  # the failed one was not retried, the dropped ones never sent


def test_reports_go_to_the_monitoring_api_in_the_catalogue(make_pair) -> None:  # type: ignore[no-untyped-def]
    """B plays the Stats Portal and lists a Monitoring API (at its Echo URL, which takes any POST): A's report is
    one signed, verified, audited POST there; without such an entry nothing is sent and nothing audited."""
    import copy

    from ewp_node.client.monitoring import STATS_PORTAL_HEI, MonitoringReport
    from ewp_node.client.pipeline import monitoring_reporter

    monitoring_entry = "https://github.com/erasmus-without-paper/ewp-specs-api-monitoring/blob/stable-v1/manifest-entry.xsd"

    def list_monitoring(manifests: list) -> None:  # type: ignore[type-arg]
        echo = next(manifests[1].iter(f"{{{ns.ECHO_ENTRY}}}echo"))
        entry = copy.deepcopy(echo)
        for element in entry.iter(f"{{{ns.ECHO_ENTRY}}}*"):  # the entry and its own children (http-security, url)
            element.tag = f"{{{monitoring_entry}}}{etree.QName(element).localname}"
        entry.tag, entry.attrib["version"] = f"{{{monitoring_entry}}}monitoring", "0.2.0"
        echo.addnext(entry)

    report = MonitoringReport(A, "iias", "get", 500, "", "PartnerUnavailable: timed out")
    for edit, expected in ((None, []), (list_monitoring, [("monitoring", 200, STATS_PORTAL_HEI)])):
        pair = make_pair(b_heis=(STATS_PORTAL_HEI,), edit_manifests=edit)
        reporter = monitoring_reporter(pair.a, pair.client(pair.a))
        reporter.report(report)
        reporter.join()
        pair.a.audit.flush()
        with pair.a.sessions() as session:
            rows = [(e.api, e.status, e.partner_hei) for e in recent_exchanges(session) if e.direction is Direction.OUT]
        assert rows == expected

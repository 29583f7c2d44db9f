"""Exchange captures: headers redacted and bodies cut before the journal line is written, stored with the audit
row by the flusher (also from a dead process's journal), purged after their retention, both directions."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import signal
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from ewp_node.audit import AuditSink, decode, encode
from ewp_node.capture import REDACTED, capture_of, redacted, unpacked
from ewp_node.client import EwpClient
from ewp_node.client.errors import PartnerUnavailable
from ewp_node.config import CapturePolicy
from ewp_node.store.audit import AuditEntry, Direction, Exchange
from ewp_node.store.captures import COMPRESS_FROM, Capture, CaptureRow, PackedCapture, purge_captures, tail_of, wire_of
from ewp_node.store.db import make_engine, upgrade_database

REQUEST = b"<echo>caf\xc3\xa9 \xff\t\\t\\\\n\n binary-safe</echo>"  # bytes, tabs, backslashes, newlines


@pytest.fixture
def engine(sqlite_store: Engine) -> Engine:
    return sqlite_store


@pytest.fixture
def any_engine(store_engine: Engine) -> Engine:
    """A migrated store on SQLite and on PostgreSQL."""
    upgrade_database(store_engine)
    return store_engine


def _exchange(n: int = 1, *, response: bytes = b"<ok/>", at: datetime | None = None) -> Exchange:
    capture = Capture(f"/ewp/echo?n={n}",
                      [("host", "node.example.eu"), ("authorization", "Signature keyId=\"k\",signature=\"s\""),
                       ("cookie", "ewp_office=session-secret")],
                      REQUEST, [("Content-Type", "text/xml"), ("Set-Cookie", "x=secret")], response)
    return Exchange(at=at or datetime.now(UTC), direction=Direction.IN, api="echo", method="POST", status=200,
                    duration_ms=3, request_id=f"{n:08d}-0000-4000-8000-000000000000", capture=capture)


def _read_back(exchange: Exchange) -> Capture:
    """The capture of an exchange decoded from the journal, unpacked as the console reads it."""
    assert isinstance(exchange.capture, PackedCapture)
    return unpacked(exchange.capture)


def _stored(engine: Engine) -> list[tuple[AuditEntry, Capture | None]]:
    with Session(engine) as session:
        return [(entry, capture_of(session, entry.uid))
                for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_secret_headers_are_redacted_and_http_signatures_kept() -> None:
    headers = [("Authorization", "Bearer status-token-123456789"), ("authorization", "signature keyId=\"k\""),
               ("Proxy-Authorization", "Basic dTpw"), ("Cookie", "ewp_office=abc"), ("Set-Cookie", "a=b"),
               ("Signature", "keyId=\"server\""), ("X-Request-Id", "r1")]
    assert redacted(headers).splitlines() == [
        f"Authorization: {REDACTED}", "authorization: signature keyId=\"k\"", f"Proxy-Authorization: {REDACTED}",
        f"Cookie: {REDACTED}", f"Set-Cookie: {REDACTED}", "Signature: keyId=\"server\"", "X-Request-Id: r1"]


def test_a_line_keeps_bytes_exactly_and_no_secret_reaches_the_journal() -> None:
    line = encode(_exchange(1)._replace(uid="ab" * 16))
    assert b"session-secret" not in line and b"x=secret" not in line
    capture = _read_back(decode(line))
    assert capture.request_body == REQUEST and capture.response_body == b"<ok/>"
    assert capture.request_bytes == len(REQUEST) and capture.response_bytes == 5
    assert capture.request_headers[1] == ("authorization", "Signature keyId=\"k\",signature=\"s\"")
    assert capture.request_headers[2] == ("cookie", REDACTED)
    assert capture.response_headers == [("Content-Type", "text/xml"), ("Set-Cookie", REDACTED)]
    assert decode(encode(decode(line))) == decode(line)


def test_an_empty_body_is_not_a_missing_one() -> None:
    exchange = _exchange(1)
    assert exchange.capture is not None
    capture = _read_back(decode(encode(exchange._replace(capture=exchange.capture._replace(
        request_body=b"", response_body=None, response_headers=[("X-Tab", "a\tb\\c")])))))
    assert capture.request_body == b"" and capture.request_bytes == 0
    assert capture.response_body is None and capture.response_bytes is None
    assert capture.response_headers == [("X-Tab", "a\tb\\c")]


def test_bodies_are_cut_at_the_cap_with_their_full_length() -> None:
    big = b"<a>" + b"x" * 5000 + b"</a>"
    capture = _read_back(decode(encode(_exchange(1, response=big), capture_bytes=100)))
    assert capture.response_body == big[:100] and capture.response_bytes == len(big)
    assert capture.request_body == REQUEST  # under the cap: whole


def test_no_capture_is_kept_when_capture_is_off_and_old_lines_still_read() -> None:
    assert decode(encode(_exchange(1), capture_bytes=0)).capture is None
    old = json.loads(encode(_exchange(1)._replace(capture=None)))[:-1]  # a line written before captures
    assert decode(json.dumps(old).encode()).capture is None


def test_the_flush_stores_the_capture_with_its_audit_row(any_engine: Engine, tmp_path: Path) -> None:
    engine = any_engine
    sink = AuditSink(engine, tmp_path / "journal", flush_seconds=3600, capture_bytes=8)
    sink.record(_exchange(1))
    sink.record(_exchange(2)._replace(capture=None))
    assert sink.flush() is True
    sink.flush()  # a second flush (nothing new) changes nothing
    [(first, capture), (second, none)] = _stored(engine)
    assert none is None and second.request_id == _exchange(2).request_id
    assert capture is not None and capture.url == "/ewp/echo?n=1"
    assert capture.request_body == REQUEST[:8] and capture.request_bytes == len(REQUEST)
    assert capture.response_body == b"<ok/>" and capture.response_bytes == 5
    assert capture.request_headers[2] == ("cookie", REDACTED)
    sink.close()


def test_small_captures_are_stored_as_they_are_large_ones_compressed_and_both_read_back(
        any_engine: Engine, tmp_path: Path) -> None:
    engine = any_engine
    sink = AuditSink(engine, tmp_path / "journal", flush_seconds=3600)
    large = b"<answer>" + b"x" * 2 * COMPRESS_FROM + b"</answer>"
    sink.record(_exchange(1))
    sink.record(_exchange(2, response=large))
    assert sink.flush() is True
    with Session(engine) as session:
        small_wire, large_wire = session.scalars(select(CaptureRow.wire).order_by(CaptureRow.uid)).all()
    assert small_wire.startswith(b"\x00") and b"/ewp/echo" not in small_wire and b"<ok/>" in small_wire
    assert len(large_wire) < COMPRESS_FROM and zlib.decompress(large_wire).endswith(b"</answer>")
    [(_, small), (_, big)] = _stored(engine)
    assert small is not None and small.response_body == b"<ok/>" and small.request_body == REQUEST
    assert big is not None and big.response_body == large
    sink.close()


def test_a_capture_stored_compressed_before_small_ones_were_stored_raw_still_reads() -> None:
    tail = b"host: a\t\tcontent-type: text/xml\t<ok/>"
    assert tail_of(zlib.compress(tail, 1)) == tail == tail_of(wire_of(tail))


def test_a_capture_waits_in_memory_redacted_when_the_journal_is_not_writable(
        engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sink = AuditSink(engine, tmp_path / "journal", flush_seconds=3600)

    def disk_full(_line: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sink._journal, "append", disk_full)
    sink.record(_exchange(1))
    assert sink.flush() is True
    [(_, capture)] = _stored(engine)
    assert capture is not None and capture.request_headers[2] == ("cookie", REDACTED)
    sink.close()


def _record_and_die(database_url: str, journal_dir: Path) -> None:
    sink = AuditSink(make_engine(database_url), journal_dir, flush_seconds=3600)
    for n in range(3):
        sink.record(_exchange(n))
    os.kill(os.getpid(), signal.SIGKILL)


def test_captures_of_a_killed_process_survive_in_its_journal(engine: Engine, tmp_path: Path) -> None:
    journal_dir = tmp_path / "journal"
    child = multiprocessing.get_context("fork").Process(target=_record_and_die, args=(str(engine.url), journal_dir))
    child.start()
    child.join(timeout=30)
    assert child.exitcode == -signal.SIGKILL
    survivor = AuditSink(engine, journal_dir, flush_seconds=3600)
    assert survivor.recover() == 1
    stored = _stored(engine)
    assert [c.url for _, c in stored if c is not None] == [f"/ewp/echo?n={n}" for n in range(3)]
    survivor.close()


def test_the_purge_drops_old_captures_and_keeps_the_audit_rows(any_engine: Engine, tmp_path: Path) -> None:
    engine = any_engine
    sink = AuditSink(engine, tmp_path / "journal", flush_seconds=3600)
    now = datetime.now(UTC)
    sink.record(_exchange(1, at=now - timedelta(days=20)))
    sink.record(_exchange(2, at=now))
    sink.flush()
    with Session(engine) as session, session.begin():
        assert purge_captures(session, now - timedelta(days=14)) == 1
    assert [c is not None for _, c in _stored(engine)] == [False, True]
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 2
    sink.close()


def _headers(row: Capture, which: str) -> dict[str, str]:
    return {name.lower(): value for name, value in getattr(row, f"{which}_headers")}


def test_a_served_exchange_is_captured_with_its_plain_response(make_node) -> None:  # type: ignore[no-untyped-def]
    node = make_node()
    response = node.call("POST", "/ewp/echo", [("echo", "bonjour")], headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    node.ctx.audit.flush()
    [(entry, row)] = _stored(node.ctx.audit._engine)
    assert entry.direction is Direction.IN and row is not None and row.url == "/ewp/echo"
    assert row.request_body == b"echo=bonjour"
    assert _headers(row, "request")["authorization"].startswith("Signature keyId=")
    assert b"<echo>bonjour</echo>" in (row.response_body or b"")  # stored before any content coding
    sent = _headers(row, "response")
    assert "signature" in sent and sent["content-type"].startswith("text/xml")


def test_a_client_call_is_captured_with_the_decoded_answer(make_pair) -> None:  # type: ignore[no-untyped-def]
    pair = make_pair()
    pair.client(pair.a).call("uni-b.example.eu", "echo", params=[("echo", "hello")])
    pair.a.audit.flush()
    [(entry, row)] = _stored(pair.a.audit._engine)
    assert entry.direction is Direction.OUT and row is not None
    assert row.url == "https://b.test.example.eu/ewp/echo" and row.request_body == b"echo=hello"
    assert _headers(row, "request")["authorization"].startswith("Signature keyId=")
    assert b"<echo>hello</echo>" in (row.response_body or b"")
    assert "signature" in _headers(row, "response")


class _Refusing(requests.adapters.BaseAdapter):
    """A transport whose every connection is refused."""

    def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
        raise requests.ConnectionError("connection refused")

    def close(self) -> None:
        pass


@pytest.mark.parametrize("policy", [CapturePolicy.FAILURES, CapturePolicy.OFF])
def test_a_node_keeps_the_wire_its_capture_policy_names_both_ways(  # type: ignore[no-untyped-def]
        make_pair, policy: CapturePolicy) -> None:
    pair = make_pair()
    b = pair.b
    b.settings = dataclasses.replace(b.settings, exchange_capture=policy)
    client = pair.client(b)
    client.call("uni-a.example.eu", "echo", params=[("echo", "fine")])  # served by a (all), called by b
    assert client.call("uni-a.example.eu", "institutions").status == 400  # no hei_id
    refusing = requests.Session()
    refusing.mount("https://", _Refusing())
    with pytest.raises(PartnerUnavailable):  # no answer at all
        EwpClient(b, session=refusing).call("uni-a.example.eu", "echo", params=[("echo", "lost")])
    response = pair.apps[b.settings.host].test_client().get("/ewp/echo", base_url=b.settings.base_url)  # unsigned
    assert response.status_code == 401
    for ctx in (pair.a, b):
        ctx.audit.flush()
    kept = {(e.direction, e.api, e.status): c is not None for e, c in _stored(b.audit._engine)}
    failures = policy is CapturePolicy.FAILURES
    assert kept == {(Direction.OUT, "echo", 200): False, (Direction.OUT, "institutions", 400): failures,
                    (Direction.OUT, "echo", 0): failures, (Direction.IN, "echo", 401): failures}
    assert all(c is not None for _, c in _stored(pair.a.audit._engine))  # a keeps all: the default


def test_the_worker_purges_captures_past_their_retention(make_node) -> None:  # type: ignore[no-untyped-def]
    from ewp_node.capture_purge import purge_expired_captures
    from ewp_node.cnr.periodic import Schedule
    from ewp_node.cnr.senders import load_sender_modules

    node = make_node()
    sink = node.ctx.audit
    now = datetime.now(UTC)
    days = node.ctx.settings.exchange_capture_days
    sink.record(_exchange(1, at=now - timedelta(days=days, minutes=1)))
    sink.record(_exchange(2, at=now - timedelta(days=days - 1)))
    sink.flush()
    load_sender_modules()
    schedule = Schedule(node.ctx.sessions, node.ctx.settings, now, first_run_after=timedelta(0))
    assert schedule.run_due(now) >= 1  # the purge is one of the worker's jobs
    assert [c is not None for _, c in _stored(sink._engine)] == [False, True]
    assert purge_expired_captures(node.ctx.sessions, node.ctx.settings) == 0

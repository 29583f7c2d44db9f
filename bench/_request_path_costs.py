"""What the durable request path costs per request, timed in-process (imported by ``bench/echo.py``).

``replay_check_us``: one claim of a fresh request id by the guard the node uses on each back end, median: on a
SQLite file the shared replay table (``ewp_node.store.replay_table``: a memory-mapped hash table under an
``flock``), on PostgreSQL at 127.0.0.1:5432/test the database claim (``ReplayGuard``: a committed ``INSERT ..
ON CONFLICT .. RETURNING``, ``synchronous_commit=off`` as the node runs it) in a schema of its own, dropped
afterwards (``null`` when PostgreSQL is not reachable).
``audit_record_us``: one ``AuditSink.record`` (uid, JSON line with the capture of a signed Echo's headers and
bodies, one ``write(2)`` to the journal), median.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from ewp_node.audit import AuditSink
from ewp_node.context import replay_guard
from ewp_node.security.httpsig import HeaderView
from ewp_node.store.audit import Direction, Exchange
from ewp_node.store.captures import Capture
from ewp_node.store.db import make_engine, upgrade_database
from ewp_node.store.replay import ReplayGuard
from ewp_node.store.replay_table import RequestIdGuard

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
CALLS = 2000


def _median_us(operation: Callable[[], object], calls: int = CALLS, batches: int = 10) -> float:
    samples = []
    for _ in range(batches):
        started = time.perf_counter()
        for _ in range(calls // batches):
            operation()
        samples.append((time.perf_counter() - started) / (calls // batches) * 1e6)
    return round(statistics.median(samples), 1)


def _median_claim_us(guard: RequestIdGuard) -> float:
    try:
        return _median_us(lambda: guard.seen(str(uuid.uuid4()), datetime.now(UTC)))
    finally:
        guard.close()


def _sqlite_replay_check_us(work: Path) -> float:
    url = f"sqlite:///{work / 'replay-cost.sqlite3'}"
    engine = make_engine(url)
    try:
        upgrade_database(engine)
    finally:
        engine.dispose()
    return _median_claim_us(replay_guard(url))


def _postgres_replay_check_us() -> float | None:
    admin = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
    schema = f"ewp_bench_{uuid.uuid4().hex[:12]}"
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError:
        admin.dispose()
        return None
    engine = create_engine(POSTGRES_URL, pool_pre_ping=True,  # options as make_engine(synchronous_commit=False)
                           connect_args={"options": f"-csearch_path={schema} -c synchronous_commit=off"})
    try:
        upgrade_database(engine)
        return _median_claim_us(ReplayGuard(engine))
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _echo_capture(request_id: str) -> Capture:
    """The wire of a signed Echo as the request path hands it to the audit sink."""
    signature, date = "A" * 344, "Tue, 01 Dec 2026 03:00:00 GMT"
    request = HeaderView([
        ("Host", "node.bench.example.eu"), ("Accept-Encoding", "gzip"), ("Accept", "*/*"),
        ("Accept-Signature", "rsa-sha256"), ("Want-Digest", "SHA-256"), ("X-Request-Id", request_id), ("Date", date),
        ("Digest", "SHA-256=" + "B" * 44),
        ("Authorization", f'Signature keyId="{"ab" * 32}",algorithm="rsa-sha256",headers="(request-target) host '
                          f'date digest x-request-id",signature="{signature}"')])
    response = [
        ("Content-Type", "text/xml; charset=utf-8"), ("Content-Length", "300"), ("Digest", "SHA-256=" + "C" * 44),
        ("X-Request-Id", request_id), ("X-Request-Signature", signature), ("Date", date),
        ("Signature", f'keyId="{"cd" * 32}",algorithm="rsa-sha256",headers="date digest x-request-id '
                      f'x-request-signature",signature="{"D" * 344}"')]
    body = (b'<?xml version="1.0" encoding="UTF-8"?>\n<response xmlns="https://github.com/erasmus-without-paper/'
            b'ewp-specs-api-echo/tree/stable-v2"><hei-id>partner.bench.example.eu</hei-id><echo>bench</echo></response>')
    return Capture("/ewp/echo?echo=bench", request.items(), b"", response, body)


def _audit_record_us(work: Path) -> float:
    engine = make_engine(f"sqlite:///{work / 'audit-cost.sqlite3'}")
    upgrade_database(engine)
    sink = AuditSink(engine, work / "journal-cost", flush_seconds=3600, batch_size=10**9)
    request_id = str(uuid.uuid4())
    exchange = Exchange(at=datetime.now(UTC), direction=Direction.IN, api="echo", method="GET", status=200,
                        duration_ms=1, partner_hei="partner.bench.example.eu", request_id=request_id,
                        key_id="ab" * 32, capture=_echo_capture(request_id))
    try:
        return _median_us(lambda: sink.record(exchange))
    finally:
        sink.close()
        engine.dispose()


def request_path_costs(work: Path) -> dict[str, object]:
    """The JSON keys this module adds to the echo benchmark's report."""
    replay = {"sqlite": _sqlite_replay_check_us(work), "postgresql": _postgres_replay_check_us()}
    return {"replay_check_us": replay, "audit_record_us": _audit_record_us(work)}

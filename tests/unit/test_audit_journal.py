"""The audit sink's journal: a row is on disk before ``record`` returns, reaches the database once, survives a
database outage and the death of its process (``kill -9``), and a replay never duplicates it."""

from __future__ import annotations

import multiprocessing
import os
import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

import ewp_node.audit
from ewp_node.audit import HAND_OFF_GRACE, AuditRole, AuditSink, decode, encode, next_uid
from ewp_node.journal import Journal, claim_orphans
from ewp_node.store.audit import AuditEntry, Direction, Exchange
from ewp_node.store.db import make_engine


@pytest.fixture
def engine(sqlite_store: Engine) -> Engine:
    return sqlite_store


def _exchange(n: int) -> Exchange:
    return Exchange(at=datetime.now(UTC), direction=Direction.IN, api="echo", method="GET", status=200,
                    duration_ms=n, request_id=f"{n:08d}-0000-4000-8000-000000000000", message="é\n\"x\"")


def _request_ids(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return sorted(session.scalars(select(AuditEntry.request_id)))


def _journal_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.jsonl"))


def test_a_line_round_trips() -> None:
    exchange = _exchange(7)._replace(uid="ab" * 16, partner_hei="uni.example.eu")
    assert decode(encode(exchange)) == exchange
    assert encode(exchange).count(b"\n") == 1


def test_a_row_is_journaled_before_record_returns_then_moved(engine: Engine, tmp_path: Path) -> None:
    sink = AuditSink(engine, tmp_path / "journal", flush_seconds=3600)
    sink.record(_exchange(1))
    [journal] = _journal_files(tmp_path / "journal")
    assert decode(journal.read_bytes().splitlines()[0]).request_id == _exchange(1).request_id
    assert sink.flush() is True
    assert _request_ids(engine) == [_exchange(1).request_id]
    assert _journal_files(tmp_path / "journal") == []
    sink.close()


def test_rows_wait_in_the_journal_while_the_database_is_away(engine: Engine, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    sink = AuditSink(engine, tmp_path / "journal", flush_seconds=3600)
    real = ewp_node.audit.record_exchanges

    def refuse(*_args: object) -> None:
        raise OperationalError("INSERT", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(ewp_node.audit, "record_exchanges", refuse)
    for n in range(5):
        sink.record(_exchange(n))
    assert sink.flush() is False
    for n in range(5, 8):
        sink.record(_exchange(n))
    assert sink.flush() is False
    assert _request_ids(engine) == []
    monkeypatch.setattr(ewp_node.audit, "record_exchanges", real)
    assert sink.flush() is True
    assert _request_ids(engine) == sorted(_exchange(n).request_id for n in range(8))
    assert _journal_files(tmp_path / "journal") == []
    sink.close()


def test_a_live_journal_is_not_taken_over_and_a_dead_ones_is_moved_once(engine: Engine, tmp_path: Path) -> None:
    journal_dir = tmp_path / "journal"
    live = Journal(journal_dir)
    live.append(encode(_exchange(1)._replace(uid="1" * 32)))
    sink = AuditSink(engine, journal_dir, flush_seconds=3600)
    assert sink.recover() == 0
    assert _request_ids(engine) == []

    # A crash between the insert and the removal: the journal is replayed, the uid keeps it to one row.
    segment = live.seal()
    assert segment is not None
    sink._move(segment)
    segment.release()
    assert sink.recover() == 1
    assert _request_ids(engine) == [_exchange(1).request_id]
    assert list(claim_orphans(journal_dir)) == []
    sink.close()


def _record_and_die(database_url: str, journal_dir: Path, count: int) -> None:
    sink = AuditSink(make_engine(database_url), journal_dir, flush_seconds=3600)
    for n in range(count):
        sink.record(_exchange(n))
    os.kill(os.getpid(), signal.SIGKILL)


def test_rows_of_a_killed_process_are_recovered(engine: Engine, tmp_path: Path) -> None:
    journal_dir = tmp_path / "journal"
    child = multiprocessing.get_context("fork").Process(
        target=_record_and_die, args=(str(engine.url), journal_dir, 50))
    child.start()
    child.join(timeout=30)
    assert child.exitcode == -signal.SIGKILL
    assert _request_ids(engine) == []
    survivor = AuditSink(engine, journal_dir, flush_seconds=3600)
    assert survivor.recover() == 1
    assert _request_ids(engine) == sorted(_exchange(n).request_id for n in range(50))
    survivor.close()


def test_a_torn_last_line_is_skipped(engine: Engine, tmp_path: Path) -> None:
    journal_dir = tmp_path / "journal"
    journal_dir.mkdir()
    (journal_dir / "1-dead-000001.jsonl").write_bytes(encode(_exchange(1)._replace(uid="1" * 32)) + b'{"at": "20')
    sink = AuditSink(engine, journal_dir, flush_seconds=3600)
    assert sink.recover() == 1
    assert _request_ids(engine) == [_exchange(1).request_id]
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 1
    sink.close()


def test_a_server_worker_hands_its_rows_to_the_background_worker(engine: Engine, tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    server_worker = AuditSink(engine, directory, flush_seconds=3600, role=AuditRole.HAND_OFF)
    collector = AuditSink(engine, directory, flush_seconds=3600, role=AuditRole.COLLECT)
    for n in range(3):
        server_worker.record(_exchange(n))

    server_worker.hand_off()
    assert _request_ids(engine) == []  # the server worker inserted nothing
    assert server_worker.recover() == 0  # nor takes its handed segment back while the collector is expected
    assert collector.recover() == 1
    assert _request_ids(engine) == [_exchange(n).request_id for n in range(3)]
    assert _journal_files(directory) == []
    server_worker.close()
    collector.close()


def test_a_handed_segment_nobody_collects_is_moved_after_the_grace(engine: Engine, tmp_path: Path) -> None:
    directory = tmp_path / "journal"
    server_worker = AuditSink(engine, directory, flush_seconds=3600, role=AuditRole.HAND_OFF)
    server_worker.record(_exchange(1))
    server_worker.hand_off()
    [segment] = _journal_files(directory)
    stale = segment.stat().st_mtime - HAND_OFF_GRACE - 1
    os.utime(segment, (stale, stale))  # no background worker ran for the grace period

    server_worker.recover()  # (or its flusher thread did, at its start: a late start finds the segment stale too)
    server_worker.close()  # joins that thread, should it be the one still moving the segment
    assert _request_ids(engine) == [_exchange(1).request_id]
    assert _journal_files(directory) == []


def test_a_server_worker_moves_its_own_rows_when_it_stops(engine: Engine, tmp_path: Path) -> None:
    server_worker = AuditSink(engine, tmp_path / "journal", flush_seconds=3600, role=AuditRole.HAND_OFF)
    server_worker.record(_exchange(1))
    server_worker.close()
    assert _request_ids(engine) == [_exchange(1).request_id]


def test_row_ids_are_unique_in_a_process_and_its_forked_children() -> None:
    ids = [next_uid() for _ in range(3)]
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # a server worker forked after the parent drew ids
        os.write(write_end, next_uid().encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        ids.append(pipe.read().decode())
    os.waitpid(child, 0)
    ids.append(next_uid())
    assert len(set(ids)) == 5 and all(len(uid) == 32 for uid in ids)
    assert ids[3][:16] != ids[0][:16] == ids[4][:16]  # the child drew its own prefix, the parent kept its own

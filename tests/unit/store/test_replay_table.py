"""The shared replay table of SQLite nodes: one first sighting per request id across processes, expiry, claims
that outlive a restart, a killed process that cannot wedge the others, and exact answers when it is full."""

from __future__ import annotations

import fcntl
import os
import signal
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ewp_node.context import replay_guard
from ewp_node.errors import ServiceUnavailable
from ewp_node.store.db import make_engine, upgrade_database
from ewp_node.store.replay import ReplayGuard
from ewp_node.store.replay_table import ReplayTable, TableReplayGuard, table_path

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class CountingGuard:
    """A database guard that remembers its claims and counts the calls."""

    def __init__(self) -> None:
        self.claims: set[str] = set()
        self.calls = 0

    def seen(self, request_id: str, now: datetime) -> bool:
        self.calls += 1
        seen = request_id in self.claims
        self.claims.add(request_id)
        return seen

    def close(self) -> None:
        pass


def test_an_id_is_a_replay_until_its_claim_expires(tmp_path: Path) -> None:
    database = CountingGuard()
    guard = TableReplayGuard(ReplayTable(tmp_path / "ids"), database, retention=timedelta(minutes=10))
    request_id = str(uuid.uuid4())

    assert guard.seen(request_id, NOW) is False
    assert guard.seen(request_id, NOW + timedelta(minutes=9)) is True
    assert guard.seen(request_id, NOW + timedelta(minutes=10, seconds=1)) is False  # expired: claimed anew
    assert guard.seen(request_id, NOW + timedelta(minutes=11)) is True
    assert database.calls == 0  # the table had room: no database claim


def test_claims_are_shared_by_every_process_and_outlive_the_table(tmp_path: Path) -> None:
    ids = [str(uuid.uuid4()) for _ in range(300)]
    children = []
    for part in range(2):
        pid = os.fork()
        if pid == 0:  # a worker process: claims its half, reports through its exit code
            table = ReplayTable(tmp_path / "ids")
            granted = [table.claim(i, NOW.timestamp(), NOW.timestamp() + 600) for i in ids[part::2]]
            os._exit(0 if all(granted) else 1)
        children.append(pid)
    assert all(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0 for pid in children)

    reopened = ReplayTable(tmp_path / "ids")  # another process, or the node after a restart
    assert all(reopened.claim(i, NOW.timestamp() + 1, NOW.timestamp() + 601) is False for i in ids)


def test_concurrent_processes_grant_one_first_sighting(tmp_path: Path) -> None:
    request_id = str(uuid.uuid4())
    read, write = os.pipe()
    children = []
    for _ in range(4):
        pid = os.fork()
        if pid == 0:
            granted = ReplayTable(tmp_path / "ids").claim(request_id, NOW.timestamp(), NOW.timestamp() + 600)
            os.write(write, b"1" if granted else b"0")
            os._exit(0)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
    os.close(write)
    assert sorted(os.read(read, 16)) == sorted(b"0001")


def test_a_process_killed_while_holding_the_lock_does_not_wedge_the_others(tmp_path: Path) -> None:
    table = ReplayTable(tmp_path / "ids")
    assert table.claim("first", NOW.timestamp(), NOW.timestamp() + 600) is True
    ready_read, ready_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        fd = os.open(tmp_path / "ids", os.O_RDWR)
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(ready_write, b"x")
        signal.pause()
    os.read(ready_read, 1)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    assert table.claim("second", NOW.timestamp(), NOW.timestamp() + 600) is True


def test_a_full_table_hands_claims_to_the_database_and_stays_exact(tmp_path: Path) -> None:
    database = CountingGuard()
    guard = TableReplayGuard(ReplayTable(tmp_path / "ids", slots=2, probes=1), database,
                             retention=timedelta(minutes=10))
    ids = [str(uuid.uuid4()) for _ in range(20)]
    firsts = [guard.seen(i, NOW) for i in ids]
    assert firsts == [False] * 20
    assert database.calls > 0  # some ids found no slot: the database claimed them
    assert all(guard.seen(i, NOW + timedelta(minutes=1)) for i in ids)  # every replay is caught, wherever claimed

    later = NOW + timedelta(minutes=30)  # the flood is over and every claim expired: the table alone again
    calls = database.calls
    assert guard.seen("fresh", later) is False
    assert database.calls == calls


class FailingGuard(CountingGuard):
    """A database guard that is away (503) until ``back`` is set."""

    back = False

    def seen(self, request_id: str, now: datetime) -> bool:
        if not self.back:
            raise ServiceUnavailable("database away")
        return super().seen(request_id, now)


def test_a_claim_the_database_could_not_confirm_is_dropped_so_the_retry_is_no_replay(tmp_path: Path) -> None:
    database = FailingGuard()
    database.back = True
    # one slot: which slot an id lands in depends on the table's random salt, and with two the claim at
    # NOW + 5 min could find the other one free (no overflow recorded until NOW + 15 min: failed 1 run in 8)
    table = ReplayTable(tmp_path / "ids", slots=1, probes=1)
    guard = TableReplayGuard(table, database, retention=timedelta(minutes=10))
    ids = iter(str(uuid.uuid4()) for _ in range(1000))
    assert guard.seen(next(ids), NOW) is False  # the one slot
    assert guard.seen(next(ids), NOW) is False and database.calls == 1  # no room: the database claimed it
    assert guard.seen(next(ids), NOW + timedelta(minutes=5)) is False  # full still: an overflow until NOW + 15 min
    assert database.calls == 2
    later = NOW + timedelta(minutes=10, seconds=1)  # the first claims expired: room again, the overflow recent
    request_id = next(ids)
    database.back = False
    with pytest.raises(ServiceUnavailable):
        guard.seen(request_id, later)  # the table granted it, the database could not confirm: 503
    database.back = True
    assert guard.seen(request_id, later + timedelta(seconds=1)) is False  # the client's retry is answered
    assert guard.seen(request_id, later + timedelta(seconds=2)) is True  # and a replay of it is still caught


def test_a_foreign_file_is_replaced_by_an_empty_table(tmp_path: Path) -> None:
    (tmp_path / "ids").write_bytes(b"not a table")
    table = ReplayTable(tmp_path / "ids")
    assert table.claim("id", NOW.timestamp(), NOW.timestamp() + 600) is True
    assert table.claim("id", NOW.timestamp(), NOW.timestamp() + 600) is False


@pytest.mark.parametrize(("url", "expected"), [
    ("sqlite:////srv/ewp/ewp-node.sqlite3", Path("/srv/ewp/ewp-node.sqlite3.replay-ids")),
    ("sqlite:///:memory:", None),
    ("postgresql://ewp@db/ewp", None),
])
def test_the_table_lives_next_to_a_sqlite_file_only(url: str, expected: Path | None) -> None:
    assert table_path(url) == expected


def test_a_sqlite_node_claims_in_the_table_and_a_postgresql_node_in_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'node.sqlite3'}"
    upgrade_database(make_engine(url))
    guard = replay_guard(url)
    try:
        assert isinstance(guard, TableReplayGuard)
        assert guard.seen("an-id", NOW) is False
        assert replay_guard(url).seen("an-id", NOW) is True  # another worker of the node
        assert (tmp_path / "node.sqlite3.replay-ids").exists()
    finally:
        guard.close()
    assert isinstance(replay_guard("postgresql://postgres@127.0.0.1:5432/test"), ReplayGuard)


def test_an_unusable_table_file_is_answered_503_never_let_through(tmp_path: Path) -> None:
    guard = TableReplayGuard(ReplayTable(tmp_path / "no-such-folder" / "ids"), CountingGuard())
    with pytest.raises(ServiceUnavailable):
        guard.seen("an-id", NOW)

"""The replay guard on SQLite and PostgreSQL: one first sighting per request id whoever asks, ids expire with the
clock window, expired rows are purged."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from ewp_node.security.httpsig import CLOCK_SKEW
from ewp_node.store.db import make_engine, upgrade_database
from ewp_node.store.replay import ReplayGuard, SeenRequest


def _count(engine: Engine) -> int:
    return len(_ids(engine))


def _ids(engine: Engine) -> set[str]:
    with Session(engine) as session:
        return set(session.scalars(select(SeenRequest.request_id)))


def test_a_request_id_is_a_replay_the_second_time_for_every_guard(engine: Engine, now: datetime) -> None:
    upgrade_database(engine)
    request_id = str(uuid.uuid4())
    first, second = ReplayGuard(engine), ReplayGuard(engine)  # two workers (or nodes) on one database

    assert first.seen(request_id, now) is False
    assert second.seen(request_id, now + timedelta(seconds=1)) is True
    assert first.seen(request_id, now + 2 * CLOCK_SKEW - timedelta(seconds=1)) is True
    assert first.seen(str(uuid.uuid4()), now) is False


def test_concurrent_guards_grant_one_first_sighting(engine: Engine, now: datetime) -> None:
    upgrade_database(engine)
    guards = [ReplayGuard(engine), ReplayGuard(engine)]
    request_id = str(uuid.uuid4())
    barrier = threading.Barrier(8)
    results: list[bool] = []

    def call(guard: ReplayGuard) -> None:
        barrier.wait()
        results.append(guard.seen(request_id, now))

    threads = [threading.Thread(target=call, args=(guards[i % 2],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [False] + [True] * 7


def test_an_expired_id_is_claimed_again_and_expired_rows_are_purged(engine: Engine, now: datetime) -> None:
    upgrade_database(engine)
    guard = ReplayGuard(engine, retention=timedelta(minutes=10), purge_every=timedelta(minutes=1))
    old, recent = str(uuid.uuid4()), str(uuid.uuid4())
    guard.seen(old, now)
    guard.seen(recent, now + timedelta(minutes=5))
    assert guard.seen(old, now + timedelta(minutes=10)) is False  # expired: a new claim, not a replay
    assert _count(engine) == 2

    newest = str(uuid.uuid4())
    while guard._purging.locked():  # the purge started at +10 min (slow machines: still running)
        time.sleep(0.01)
    guard.seen(newest, now + timedelta(minutes=16))  # purges: `recent` expired at +15 min
    deadline = time.monotonic() + 10
    while _ids(engine) != {old, newest} and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _ids(engine) == {old, newest}  # old was claimed again at +10 min, until +20 min


def _cut_connection(guard: ReplayGuard, engine: Engine) -> None:
    """Cut the guard's connection from the server side, as a database restart does."""
    driver = guard._threads.connection.driver
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": driver.info.backend_pid})
    else:
        driver.close()


def test_a_connection_cut_by_a_database_restart_is_replaced_without_failing_a_request(engine: Engine,
                                                                                     now: datetime) -> None:
    upgrade_database(engine)
    guard = ReplayGuard(engine)
    first = str(uuid.uuid4())
    assert guard.seen(first, now) is False

    _cut_connection(guard, engine)

    assert guard.seen(str(uuid.uuid4()), now) is False  # a new connection, no error for the request
    assert guard.seen(first, now) is True  # and the claims made before the cut still hold


def test_a_database_that_stays_away_is_an_operational_error_every_time(tmp_path: Path, now: datetime) -> None:
    guard = ReplayGuard(make_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'db.sqlite3'}"))
    for _ in range(2):
        with pytest.raises(OperationalError):
            guard.seen(str(uuid.uuid4()), now)

"""The replay cache: remembers request ids for the retention period only, within a memory bound."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from ewp_node.security.httpsig import CLOCK_SKEW
from ewp_node.security.replay import ReplayCache

REQUEST_ID = "3f2b1c9e-8d7a-4b6c-9e5f-1a2b3c4d5e6f"


def test_a_request_id_is_seen_the_second_time(now: datetime) -> None:
    cache = ReplayCache()

    assert cache.seen(REQUEST_ID, now) is False
    assert cache.seen(REQUEST_ID, now + timedelta(minutes=9)) is True


def test_the_default_retention_covers_the_whole_clock_window() -> None:
    assert ReplayCache().retention == 2 * CLOCK_SKEW


def test_ids_expire_after_the_retention_period(now: datetime) -> None:
    cache = ReplayCache(retention=timedelta(minutes=10))
    cache.seen(REQUEST_ID, now)
    cache.seen("00000000-1111-4222-8333-444444444444", now + timedelta(minutes=5))

    assert cache.seen("11111111-1111-4222-8333-444444444444", now + timedelta(minutes=10)) is False
    assert len(cache) == 2  # the first id was evicted
    assert cache.seen(REQUEST_ID, now + timedelta(minutes=10, seconds=1)) is False


def test_memory_is_bounded_by_forgetting_the_oldest_id(now: datetime) -> None:
    cache = ReplayCache(max_entries=3)
    ids = [f"{n:08x}-0000-4000-8000-000000000000" for n in range(5)]
    for request_id in ids:
        cache.seen(request_id, now)

    assert len(cache) == 3
    assert cache.seen(ids[-1], now) is True
    assert cache.seen(ids[0], now) is False


def test_concurrent_callers_see_one_first_sighting(now: datetime) -> None:
    cache = ReplayCache()
    barrier = threading.Barrier(16)
    results: list[bool] = []

    def call() -> None:
        barrier.wait()
        results.append(cache.seen(REQUEST_ID, now))

    threads = [threading.Thread(target=call) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [False] + [True] * 15

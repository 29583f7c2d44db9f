"""Real ``ewp-node worker`` processes against a loopback partner: a worker killed with SIGKILL mid-delivery leaves
the row to the next one; two workers on one database never send one row twice (SQLite and PostgreSQL); the worker
``serve`` runs beside the web server delivers and stops with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ewp_node.cnr.cli import BackgroundWorker, background_worker, load_catalogue_first
from ewp_node.cnr.loopback import LoopbackPartner
from ewp_node.cnr.outbox import OutboxRow, OutboxState, enqueue
from ewp_node.context import NodeContext
from ewp_node.registry.fetch import RegistryClient

pytestmark = pytest.mark.slow

OURS = "uni-a.example.eu"


def _wait(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def start_worker(node_home: Path, tmp_path: Path) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start ``ewp-node worker`` processes on the node home (killed after the test if still running); their
    stderr goes to ``worker-N.log`` in the test's folder."""
    started: list[subprocess.Popen[bytes]] = []

    def start(*options: str) -> subprocess.Popen[bytes]:
        with open(tmp_path / f"worker-{len(started)}.log", "wb") as log:
            process = subprocess.Popen([sys.executable, "-m", "ewp_node.cli", "worker", str(node_home),
                                        "--poll", "0.05", *options], stderr=log)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def _states(ctx: NodeContext) -> dict[OutboxState, int]:
    with ctx.sessions() as session:
        return {state: count for state, count in
                session.execute(select(OutboxRow.state, func.count()).group_by(OutboxRow.state))}


def _enqueue(ctx: NodeContext, ids: list[str]) -> list[int]:
    with ctx.sessions.begin() as session:
        return enqueue(session, "iia-cnr", owner_hei=OURS, partner_hei="partner.example.eu", object_ids=ids)


def test_a_worker_killed_mid_delivery_leaves_the_row_to_the_next(
        node: NodeContext, partner: LoopbackPartner, start_worker: Callable[..., subprocess.Popen[bytes]]) -> None:
    partner.script("hang")  # the first delivery is in flight when the worker dies
    [row] = _enqueue(node, ["iia-1"])
    # one thread: it hangs in the delivery, so no sibling can claim the row again when the 3 s lease runs out
    # before the kill (on a loaded machine the first delivery may take longer than the lease to arrive)
    first = start_worker("--lease", "3", "--threads", "1")
    _wait(lambda: len(partner.received) == 1, 60, "the first delivery to reach the partner")
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    partner.release()
    with node.sessions() as session:
        held = session.get(OutboxRow, row)
        assert held is not None and held.state is OutboxState.PENDING and held.attempts == 1
        assert held.locked_until is not None  # the dead worker's lease: the row waits for it to run out
    second = start_worker("--lease", "3", "--threads", "1")
    _wait(lambda: _states(node) == {OutboxState.DELIVERED: 1}, 60, "the row to be delivered after the restart")
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=20) == 0
    assert [c.answer for c in partner.received] == ["hang", "200"]
    assert partner.ids("iia-cnr", "iia_id") == ["iia-1"]
    with node.sessions() as session:
        done = session.get(OutboxRow, row)
        assert done is not None and done.attempts == 2 and done.delivered_at is not None


def test_two_workers_never_send_one_row_twice(
        node: NodeContext, partner: LoopbackPartner, start_worker: Callable[..., subprocess.Popen[bytes]],
        tmp_path: Path) -> None:
    ids = [f"iia-{i}" for i in range(240)]
    partner.script(*[("sleep", 0.005)] * len(ids))  # each answer takes a moment: the workers overlap
    workers = [start_worker() for _ in range(2)]
    logs = [tmp_path / f"worker-{n}.log" for n in range(2)]
    _wait(lambda: all(b"outbox worker running" in log.read_bytes() for log in logs), 60,
          "both workers to be polling (on a loaded machine one may start long after the other)")
    _enqueue(node, ids)
    _wait(lambda: _states(node) == {OutboxState.DELIVERED: len(ids)}, 180, "every row to be delivered")
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
    received = partner.ids("iia-cnr", "iia_id", accepted_only=False)
    assert len(received) == len(set(received)) == len(ids)  # every delivery recorded, none twice
    assert set(received) == set(ids)
    with node.sessions() as session:
        by_thread = {worker: count for worker, count in
                     session.execute(select(OutboxRow.claimed_by, func.count()).group_by(OutboxRow.claimed_by))}
    by_process = {int(str(worker_id).split(":")[1]) for worker_id in by_thread}
    assert by_process == {w.pid for w in workers}, f"both processes should have delivered rows: {by_thread}"


def test_the_worker_serve_runs_delivers_and_stops_with_it(node: NodeContext, partner: LoopbackPartner,
                                                          node_home: Path) -> None:
    [row] = _enqueue(node, ["iia-7"])
    with background_worker(node_home) as worker:
        _wait(lambda: _states(node) == {OutboxState.DELIVERED: 1}, 60, "the serve worker to deliver")
    assert worker.process.returncode == 0
    assert partner.ids("iia-cnr", "iia_id") == ["iia-7"]
    with node.sessions() as session:
        delivered = session.get(OutboxRow, row)
        assert delivered is not None and delivered.claimed_by is not None


def test_the_worker_serve_runs_is_started_again_after_a_kill_9(node: NodeContext, partner: LoopbackPartner,
                                                                node_home: Path) -> None:
    with background_worker(node_home) as worker:
        first = worker.process
        _wait(lambda: first.poll() is None and _worker_ready(first.pid), 60, "the worker to start")
        first.kill()
        _wait(lambda: worker.restarts == 1 and worker.process.poll() is None, 30, "the worker to start again")
        _enqueue(node, ["iia-8"])
        _wait(lambda: _states(node) == {OutboxState.DELIVERED: 1}, 60, "the restarted worker to deliver")
    assert partner.ids("iia-cnr", "iia_id") == ["iia-8"]


def _worker_ready(pid: int) -> bool:
    """The worker process runs Python code of ours by now (its command line is the worker's)."""
    try:
        return b"worker" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


class _FailingWorker(BackgroundWorker):
    """A background worker whose processes exit at once with 3 (a worker that cannot start); spawn times kept."""

    def __init__(self, home: Path, **delays: float) -> None:
        self.spawned: list[float] = []
        super().__init__(home, **delays)

    def _spawn(self) -> subprocess.Popen[bytes]:
        self.spawned.append(time.monotonic())
        return subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])


def test_a_worker_that_keeps_dying_is_restarted_with_a_growing_delay(tmp_path: Path) -> None:
    worker = _FailingWorker(tmp_path, restart_delay=0.1, max_delay=0.4, stable_after=60)
    try:
        _wait(lambda: worker.restarts >= 5, 30, "five restarts")
    finally:
        worker.stop()
    gaps = [later - earlier for earlier, later in zip(worker.spawned, worker.spawned[1:], strict=False)]
    # waits of 0.1, 0.2, 0.4, then capped at 0.4 (each gap also holds the process's own start and exit)
    assert gaps[0] >= 0.1 and gaps[1] >= 0.2 and all(gap >= 0.4 for gap in gaps[2:5]), gaps
    assert gaps[0] < gaps[2]


def test_a_worker_that_ran_long_enough_is_restarted_after_the_first_delay_again(tmp_path: Path) -> None:
    worker = _FailingWorker(tmp_path, restart_delay=0.1, max_delay=5, stable_after=0)  # every run counts as stable
    try:
        _wait(lambda: worker.restarts >= 5, 30, "five restarts")
    finally:
        worker.stop()
    gaps = [later - earlier for earlier, later in zip(worker.spawned, worker.spawned[1:], strict=False)]
    assert gaps[4] < 1.2, gaps  # growing, the fifth wait would be 1.6 s: it went back to 0.1 s after each run


def test_the_worker_loads_the_catalogue_before_its_first_claim(node: NodeContext) -> None:
    registry = node.registry
    assert isinstance(registry, RegistryClient) and registry.last_refresh is None
    load_catalogue_first(registry)
    assert registry.last_refresh is not None and registry.index.heis_for_client_key("nobody") == frozenset()


def test_an_unreachable_registry_delays_no_worker(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    registry = RegistryClient("http://127.0.0.1:9/catalogue-v1.xml", tmp_path / "cache", allow_http=True, timeout=2)
    load_catalogue_first(registry)  # returns: rows then wait for the registry like any failed delivery
    assert "no catalogue" in capsys.readouterr().err and registry.last_error is not None

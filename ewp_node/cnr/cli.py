"""``ewp-node worker HOME`` (the outbox worker in the foreground) and ``ewp-node cnr HOME list|retry ID|send-now``;
:func:`background_worker` is how ``serve`` runs the worker beside the web server."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ewp_node.audit import AuditRole
from ewp_node.cnr.outbox import OutboxEntry, OutboxState, count_by_state, get_entry, list_entries, make_due_now, retry
from ewp_node.config import load_settings
from ewp_node.context import NodeContext

if TYPE_CHECKING:
    from ewp_node.registry.fetch import RegistryClient


def _context(home: str, audit_role: AuditRole = AuditRole.OWN) -> NodeContext:
    from ewp_node.context import build_context

    return build_context(load_settings(home), audit_role=audit_role)


def _close(ctx: NodeContext) -> None:
    ctx.registry.stop()
    ctx.audit.close()


def cmd_worker(args: argparse.Namespace) -> int:
    from ewp_node.cnr.periodic import Schedule
    from ewp_node.cnr.worker import build_worker
    from ewp_node.registry.fetch import RegistryClient
    from ewp_node.store.base import utc_now

    ctx = _context(args.home, AuditRole.COLLECT)
    ctx.audit.start()  # moves the journal segments serve's workers hand over, from now on
    if isinstance(ctx.registry, RegistryClient):
        load_catalogue_first(ctx.registry)
        ctx.registry.start_background_refresh(timedelta(seconds=ctx.settings.registry_refresh_seconds))
    workers = [build_worker(ctx, first_delay=timedelta(seconds=args.first_delay), lease=timedelta(seconds=args.lease))
               for _ in range(args.threads)]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threads = [threading.Thread(target=worker.run, args=(stop, args.poll), name=f"outbox-{index}")
               for index, worker in enumerate(workers)]
    for thread in threads:
        thread.start()
    print(f"outbox worker running, {len(threads)} thread(s) {', '.join(w.worker_id for w in workers)} "
          f"(gives up after {ctx.settings.outbox_give_up_hours} h)", file=sys.stderr, flush=True)
    schedule = Schedule(ctx.sessions, ctx.settings, utc_now())
    try:
        while not stop.wait(1.0):
            if args.parent and os.getppid() != args.parent:  # the serve process that started us is gone
                stop.set()
            schedule.run_due(utc_now())
    except KeyboardInterrupt:
        stop.set()
    finally:
        for thread in threads:
            thread.join()
        _close(ctx)
    return 0


def _at(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}Z" if moment else "?"


def _describe(entry: OutboxEntry) -> str:
    when = {
        OutboxState.PENDING: f"next attempt {_at(entry.next_attempt_at)}",
        OutboxState.DELIVERED: f"delivered {_at(entry.delivered_at)}",
        OutboxState.FAILED: f"failed {_at(entry.given_up_at)}, not retried",
        OutboxState.GAVE_UP: f"given up {_at(entry.given_up_at)}",
        OutboxState.MERGED: f"merged into #{entry.merged_into}",
    }[entry.state]
    last = f"; last: {entry.last_status or 'no answer'}" if entry.attempts else ""
    error = f" ({entry.last_error})" if entry.last_error and entry.state is not OutboxState.DELIVERED else ""
    return (f"#{entry.id:<6} {entry.state.value:<9} {entry.kind} {entry.owner_hei} -> {entry.partner_hei} "
            f"id={entry.object_id} attempts={entry.attempts}, {when}{last}{error}")


def cmd_cnr(args: argparse.Namespace) -> int:
    ctx = _context(args.home)
    try:
        if args.action == "list":
            return _list(ctx, args)
        if args.action == "retry":
            return _retry(ctx, args.id)
        return _send_now(ctx)
    finally:
        _close(ctx)


def _list(ctx: NodeContext, args: argparse.Namespace) -> int:
    states = [OutboxState(args.state)] if args.state else []
    with ctx.sessions() as session:
        counts = count_by_state(session)
        entries = list_entries(session, states=states, limit=args.limit)
    print(", ".join(f"{state.value} {count}" for state, count in counts.items()))
    for entry in entries:
        print(_describe(entry))
    return 0


def _retry(ctx: NodeContext, row_id: int | None) -> int:
    if row_id is None:
        print("ewp-node cnr: retry needs a row id (see 'cnr HOME list')", file=sys.stderr)
        return 2
    with ctx.sessions.begin() as session:
        done = retry(session, row_id)
        entry = get_entry(session, row_id)
    if not done:
        state = "no such row" if entry is None else f"it is {entry.state.value}, only failed or given-up rows are"
        print(f"ewp-node cnr: row #{row_id} not retried: {state}", file=sys.stderr)
        return 1
    print(f"row #{row_id} is pending again; the worker sends it within a few seconds (or run 'cnr HOME send-now')")
    return 0


def _send_now(ctx: NodeContext) -> int:
    from ewp_node.cnr.worker import build_worker

    with ctx.sessions.begin() as session:
        make_due_now(session)
        due = [e.id for e in list_entries(session, states=[OutboxState.PENDING], limit=100_000)]
    build_worker(ctx).drain()
    with ctx.sessions() as session:
        outcomes = [get_entry(session, row_id) for row_id in due]
    for entry in outcomes:
        if entry is not None:
            print(_describe(entry))
    failed = sum(1 for e in outcomes if e is not None and e.state is not OutboxState.DELIVERED)
    print(f"{len(due)} row(s) were due: {len(due) - failed} delivered or merged, {failed} not", file=sys.stderr)
    return 1 if failed else 0


def load_catalogue_first(registry: RegistryClient) -> None:
    """Load the registry catalogue (the copy on disk, else one fetch) before the worker claims rows: a row
    claimed while it loads fails with "no catalogue" and waits out a retry delay (30 s at first)."""
    from ewp_node.registry.fetch import RegistryUnavailable

    try:
        registry.index  # noqa: B018 (the first use loads it)
    except RegistryUnavailable as exc:
        print(f"outbox worker: {exc}; deliveries are retried once the registry answers", file=sys.stderr,
              flush=True)


class BackgroundWorker:
    """``ewp-node worker HOME`` in a process of its own, started again whenever it exits while the server runs:
    a killed worker would otherwise stop the CNRs and the audit journal's moves until the next restart of the
    node. The wait before a restart starts at ``restart_delay`` and doubles, up to ``max_delay``, while each
    worker dies within ``stable_after`` seconds of its start (one that cannot start, e.g. with the database
    away, is not restarted in a tight loop)."""

    def __init__(self, home: Path, *, restart_delay: float = 1.0, max_delay: float = 60.0,
                 stable_after: float = 60.0) -> None:
        self._command = [sys.executable, "-m", "ewp_node.cli", "worker", str(home), "--parent", str(os.getpid())]
        self._restart_delay, self._max_delay, self._stable_after = restart_delay, max_delay, stable_after
        self._stopping = threading.Event()
        self._spawning = threading.Lock()  # stop() never misses a worker started while it stops
        self.process = self._spawn()
        self._started = time.monotonic()
        self.restarts = 0
        self._supervisor = threading.Thread(target=self._supervise, name="worker-supervisor", daemon=True)
        self._supervisor.start()

    def _supervise(self) -> None:
        delay = self._restart_delay
        while True:
            code = self.process.wait()
            if time.monotonic() - self._started >= self._stable_after:
                delay = self._restart_delay
            if self._stopping.wait(delay):
                return
            with self._spawning:
                if self._stopping.is_set():
                    return
                print(f"outbox worker exited with {code}: starting it again (after {delay:g} s)", file=sys.stderr,
                      flush=True)
                self.process = self._spawn()
                self._started = time.monotonic()
                self.restarts += 1
            delay = min(delay * 2, self._max_delay)

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self._command)

    def stop(self) -> int:
        """Stop the worker (SIGTERM, SIGKILL after 10 s); its exit code."""
        with self._spawning:
            self._stopping.set()
            process = self.process
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        self._supervisor.join(timeout=5)
        return process.returncode


@contextlib.contextmanager
def background_worker(home: Path) -> Iterator[BackgroundWorker]:
    """Run the outbox worker beside the block (``serve`` uses it), restarted if it dies."""
    worker = BackgroundWorker(home)
    try:
        yield worker
    finally:
        worker.stop()


def register(subparsers: Any) -> None:
    """Add ``worker`` and ``cnr`` to the ``ewp-node`` command."""
    p = subparsers.add_parser("worker", help="deliver queued change notifications until stopped (serve runs one)",
                              description="The outbox worker: sends due CNRs and follow-up fetches, retries "
                              "failures with back-off. Several may run on one database.")
    p.add_argument("home")
    p.add_argument("--poll", type=float, default=1.0, metavar="SECONDS", help="wait when nothing is due (1)")
    p.add_argument("--first-delay", type=float, default=30.0, metavar="SECONDS",
                   help="wait after the first failure, doubled after each further one (30)")
    p.add_argument("--lease", type=float, default=300.0, metavar="SECONDS",
                   help="how long a claim holds its rows; a dead worker's rows wait this long (300)")
    p.add_argument("--threads", type=int, default=4, help="rows sent side by side, each thread claiming its own (4)")
    p.add_argument("--parent", type=int, help=argparse.SUPPRESS)  # serve's pid: stop when it is gone
    p.set_defaults(func=cmd_worker)

    p = subparsers.add_parser("cnr", help="the change-notification outbox: list, retry ID, send-now")
    p.add_argument("home")
    p.add_argument("action", choices=("list", "retry", "send-now"))
    p.add_argument("id", nargs="?", type=int, help="the row to retry")
    p.add_argument("--state", choices=[s.value for s in OutboxState], help="list only rows in this state")
    p.add_argument("--limit", type=int, default=50, help="rows to list, newest first (50)")
    p.set_defaults(func=cmd_cnr)

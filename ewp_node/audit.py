"""Audit sink: every exchange reaches a journal file before the response leaves, then the database in batches.

A request never waits for a database commit. :meth:`AuditSink.record` gives the exchange a random ``uid`` and
appends it to this process's journal (:mod:`ewp_node.journal`); a daemon thread seals the journal segment every
``flush_seconds`` (sooner when ``batch_size`` rows wait), inserts its rows and only then deletes it. When the
database is away, the sealed segment is fsynced and kept, and retried on the next cycle. Journals of dead
processes (a ``kill -9`` of a worker) are taken over at start and every ``recover_seconds``. The ``uid`` makes
every insert idempotent: a crash between the insert and the delete cannot duplicate a row.

Under ``ewp-node serve`` the server's workers do not insert (:class:`AuditRole`): every second they seal their
segment and hand it over (unlock it), and the node's background worker process, which takes over unlocked
segments every second, inserts the rows. Decoding and inserting rows in the process that answers requests
cost it about a sixth of its CPU per signed Echo, most of it in contention with the request threads for the
interpreter lock; in the background process it costs that process's CPU only. A segment nobody collected
for ``HAND_OFF_GRACE`` seconds (no background worker) is moved by any process's own recovery.
"""

from __future__ import annotations

import enum
import itertools
import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from ewp_node.capture import CAPTURE_BYTES, from_journal, journal_parts
from ewp_node.journal import Journal, Segment, claim_orphans
from ewp_node.store.audit import Direction, Exchange, record_exchanges
from ewp_node.store.captures import PackedCapture

log = logging.getLogger(__name__)
#: One encoder for every line (``json.dumps`` with options builds one per call); the values never nest in a cycle.
_JSON = json.JSONEncoder(separators=(",", ":"), check_circular=False)
#: Journal heads are UTF-8: decoded here, ``json.loads`` would first guess the encoding of the bytes.
_JSON_DECODE = json.JSONDecoder().decode
#: Values in a journal line: every :class:`Exchange` field, or all but the capture (lines written before it).
_LINE_LENGTHS = (len(Exchange._fields), len(Exchange._fields) - 1)
#: Position of the ``uid`` field in a journal line.
_UID = Exchange._fields.index("uid")
#: Seconds a handed-over segment waits for the background worker before any process takes it over.
HAND_OFF_GRACE = 30.0


class AuditRole(enum.Enum):
    """Who moves a process's journal into the database."""

    #: Moves its own rows (commands, tests, a server without a background worker); takes over what dead
    #: processes left every 10 s.
    OWN = "own"
    #: A server worker: hands its segment over every second, moves only segments left uncollected.
    HAND_OFF = "hand-off"
    #: The node's background worker: moves its own rows and every handed-over segment, every second.
    COLLECT = "collect"

    @property
    def recover_seconds(self) -> float:
        return 1.0 if self is AuditRole.COLLECT else 10.0


def encode(exchange: Exchange, capture_bytes: int = CAPTURE_BYTES, uid: str | None = None) -> bytes:
    """One journal line for ``exchange`` (with ``uid`` when given): a JSON array of its fields in
    :class:`Exchange` order, then its capture's tab-separated tail (:func:`ewp_node.capture.journal_parts`:
    redacted, each body cut to ``capture_bytes``; no capture when 0)."""
    values: list[Any] = list(exchange)
    values[0], values[1] = exchange.at.isoformat(), exchange.direction.value
    if uid is not None:
        values[_UID] = uid
    if exchange.capture is None or not capture_bytes:
        values[-1] = None
        return _JSON.encode(values).encode() + b"\n"
    capture = exchange.capture
    if isinstance(capture, PackedCapture):  # read back from a journal already: redacted and cut
        values[-1], tail = [capture.url, capture.request_bytes, capture.response_bytes], capture.tail
    else:
        values[-1], tail = journal_parts(capture, capture_bytes)
    return b"".join([_JSON.encode(values).encode(), b"\t", tail, b"\n"])


def decode(line: bytes) -> Exchange:
    """The exchange of a journal line written by :func:`encode` (or before exchanges had a capture).

    :raises ValueError: not such a line.
    """
    head, _, tail = line.rstrip(b"\n").partition(b"\t")  # JSON holds no raw tab
    values = _JSON_DECODE(head.decode())
    if not isinstance(values, list) or len(values) not in _LINE_LENGTHS:
        raise ValueError(f"a journal line holds {len(Exchange._fields)} values")
    values[0], values[1] = datetime.fromisoformat(values[0]), Direction(values[1])
    if len(values) == len(Exchange._fields) and values[-1] is not None:
        values[-1] = from_journal(values[-1], tail)
    return Exchange(*values)


def _decoded(lines: Iterable[bytes], source: Path) -> Iterator[Exchange]:
    for line in lines:
        try:
            yield decode(line)
        except (ValueError, TypeError, KeyError) as exc:
            log.error("journal %s: unreadable line skipped (%s): %r", source, exc, line[:200])


class _UidSource:
    """Row uids: 64 random bits drawn once per process, then a counter. No system call per row (``getpid``
    cost ~5 us on a VM): a forked child draws its own prefix at the fork."""

    def __init__(self) -> None:
        self.reset()
        os.register_at_fork(after_in_child=self.reset)

    def reset(self) -> None:
        self.prefix, self.counter = os.urandom(8).hex(), itertools.count()  # before any thread of the child runs

    def next(self) -> str:
        return f"{self.prefix}{next(self.counter):016x}"


_UIDS = _UidSource()


def next_uid() -> str:
    """A unique audit row id (32 hex digits)."""
    return _UIDS.next()


class AuditSink:
    def __init__(self, engine: Engine, journal_dir: Path, *, flush_seconds: float = 1.0, batch_size: int = 200,
                 insert_rows: int = 1000, capture_bytes: int = CAPTURE_BYTES, role: AuditRole = AuditRole.OWN) -> None:
        self._engine = engine
        self._role = role
        #: Each captured body is cut to this many bytes; 0 keeps no capture.
        self._capture_bytes = capture_bytes
        self._journal = Journal(journal_dir)
        self._flush_seconds = flush_seconds
        self._batch_size = batch_size
        self._insert_rows = insert_rows
        self._recover_seconds = role.recover_seconds
        #: Our segment that was sealed but is not in the database yet (the database was away).
        self._sealed: Segment | None = None
        #: Exchanges the journal could not take (disk full): inserted directly, lost if the process dies.
        self._unjournaled: deque[Exchange] = deque(maxlen=100_000)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._flush_lock = threading.RLock()
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def record(self, exchange: Exchange) -> None:
        """Journal ``exchange`` (in the OS's hands when this returns); the database follows within a second.
        Its capture is redacted and cut here (:mod:`ewp_node.capture`), before anything reaches the disk."""
        line = encode(exchange, self._capture_bytes, next_uid())
        try:
            waiting = self._journal.append(line)
        except OSError:
            log.exception("audit journal not writable: the entry waits in memory")
            self._unjournaled.append(decode(line))  # redacted and cut like a journaled one
            waiting = self._batch_size
        if self._thread is None:
            self.start()
        if waiting >= self._batch_size and self._role is not AuditRole.HAND_OFF:
            self._wake.set()

    def start(self) -> None:
        """Start the flusher thread (it first takes over journals of dead processes). Idempotent."""
        with self._start_lock:
            if self._thread is None:
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="audit-sink", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        next_recovery = 0.0
        while True:
            if time.monotonic() >= next_recovery:
                self.recover()
                next_recovery = time.monotonic() + self._recover_seconds
            self._wake.wait(self._flush_seconds)
            self._wake.clear()
            if self._stop.is_set():
                return  # close() flushes
            if self._role is AuditRole.HAND_OFF:
                self.hand_off()
            else:
                self.flush()

    def flush(self) -> bool:
        """Move what this process journaled into the database now; False if the database refused (kept)."""
        with self._flush_lock:
            try:
                self._insert_unjournaled()
                for _ in range(2):  # the segment left by a failed cycle first, then the active one
                    if self._sealed is None:
                        self._sealed = self._journal.seal()
                    if self._sealed is None:
                        break
                    self._move(self._sealed)
                    self._sealed.remove()
                    self._sealed = None
            except Exception as exc:  # the audit log must never take the node down: retried next cycle
                log.warning("audit entries wait in the journal, the database refused them: %s", exc)
                if self._sealed is not None:
                    self._sealed.sync()
                return False
            return True

    def hand_off(self) -> None:
        """Seal the active segment and unlock it for the background worker to move (rows that the journal could
        not take are inserted here)."""
        with self._flush_lock:
            try:
                self._insert_unjournaled()
            except Exception as exc:
                log.warning("audit entries wait in memory, the database refused them: %s", exc)
            segment = self._journal.seal()
            if segment is not None:
                segment.release()

    def recover(self) -> int:
        """Move the journals of dead processes (and, but for a server worker, the segments handed over) into
        the database; returns how many segments were moved."""
        moved = 0
        idle = HAND_OFF_GRACE if self._role is AuditRole.HAND_OFF else 0.0
        for segment in claim_orphans(self._journal.directory, idle_seconds=idle):
            try:
                self._move(segment)
            except Exception as exc:
                log.warning("orphaned audit journal %s waits, the database refused it: %s", segment.path, exc)
                segment.release()
                break
            segment.remove()
            moved += 1
        if moved:
            log.info("moved %d audit journal segment(s) of stopped processes into the database", moved)
        return moved

    def _move(self, segment: Segment) -> None:
        rows = _decoded(segment.lines(), segment.path)
        while batch := list(islice(rows, self._insert_rows)):
            with self._engine.begin() as connection:
                record_exchanges(connection, batch)

    def _insert_unjournaled(self) -> None:
        if not self._unjournaled:
            return
        batch = list(self._unjournaled)
        with self._engine.begin() as connection:
            record_exchanges(connection, batch)
        for _ in batch:
            self._unjournaled.popleft()

    def close(self) -> None:
        """Stop the flusher and move what is left; what the database refuses stays journaled for the next
        process to take over."""
        self._stop.set()
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout=5)
        with self._flush_lock:
            if not self.flush():
                for segment in (self._sealed, self._journal.seal()):
                    if segment is not None:
                        segment.sync()
                        segment.release()
                self._sealed = None

"""Audit sink: collects exchanges in memory and writes them in batches off the request path.

A request must not wait for a database commit to be logged; a daemon thread flushes every
``flush_seconds`` or as soon as ``batch_size`` entries wait. ``close()`` flushes what is left.
"""

from __future__ import annotations

import logging
import threading
from collections import deque

from sqlalchemy import Engine

from ewp_node.store.audit import Exchange, record_exchanges

log = logging.getLogger(__name__)


class AuditSink:
    def __init__(self, engine: Engine, *, flush_seconds: float = 1.0,
                 batch_size: int = 200, max_pending: int = 100_000) -> None:
        self._engine = engine
        self._pending: deque[Exchange] = deque(maxlen=max_pending)
        self._flush_seconds = flush_seconds
        self._batch_size = batch_size
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def record(self, exchange: Exchange) -> None:
        self._pending.append(exchange)
        if self._thread is None:
            self._start()
        if len(self._pending) >= self._batch_size:
            self._wake.set()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="audit-sink", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._flush_seconds)
            self._wake.clear()
            self.flush()

    def flush(self) -> None:
        """Write every pending exchange now (also called by tests and at shutdown)."""
        with self._lock:
            batch = []
            while self._pending:
                batch.append(self._pending.popleft())
            if not batch:
                return
            try:
                with self._engine.begin() as connection:
                    record_exchanges(connection, batch)
            except Exception:  # the audit log must never take the node down
                log.exception("could not write %d audit entries", len(batch))

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()

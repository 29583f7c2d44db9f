"""Monitoring API v0.2.0 (ewp-specs-api-monitoring, implemented by the EWP Stats Portal only): tell the network's
administrators when a partner's API fails us.

Clients SHOULD report every failed call to another host (no usable catalogue entry, no answer, a 4xx or 5xx, an
answer that does not verify or decode), except Discovery and Echo calls and calls to the Stats Portal or the
Registry. "Call and forget": :class:`MonitoringReporter` queues each report (a bounded queue; reports beyond it are
dropped) and one daemon thread sends them with a short deadline; a report that fails is not retried, and a failed
report is never reported. Reports carry no personal data: ids of the HEI and API, the HTTP status, the partner's own
``developer-message`` and our error text.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from ewp_node.client.errors import PartnerRefused, PartnerUnavailable
from ewp_node.handling import STATS_PORTAL_HEI
from ewp_node.security.errors import SecurityError
from ewp_node.xml import ns

log = logging.getLogger(__name__)

#: APIs whose failures are not reported (the README's list, and the API that reports).
UNREPORTED_APIS = frozenset({"discovery", "echo", "monitoring", "registry"})
#: Failures of these kinds are the partner's (or the network's); others (our database, our registry copy) are not.
REPORTED_ERRORS = (PartnerRefused, PartnerUnavailable, SecurityError)
MESSAGE_CHARS = 500
QUEUE_SIZE = 100


@dataclass(frozen=True)
class MonitoringReport:
    """One failed call, as the Monitoring API takes it."""

    server_hei_id: str
    api_name: str
    #: The URL element without ``-url`` (``get``, ``index``); empty for an element called ``url``.
    endpoint_name: str
    #: The partner's HTTP status, None when no answer came.
    http_code: int | None
    #: The ``developer-message`` of the partner's ``<error-response>``.
    server_message: str
    #: What went wrong, in our words.
    client_message: str

    def params(self) -> list[tuple[str, str]]:
        return [("server_hei_id", self.server_hei_id), ("api_name", self.api_name),
                ("endpoint_name", self.endpoint_name),
                ("http_code", "" if self.http_code is None else str(self.http_code)),
                ("server_message", self.server_message[:MESSAGE_CHARS]),
                ("client_message", self.client_message[:MESSAGE_CHARS])]


def failure_report(hei_id: str, api: str, endpoint: str, status: int, error: BaseException | None,
                   root: etree._Element | None) -> MonitoringReport | None:
    """The report of a finished call (None: nothing to report).

    :param status: the partner's HTTP status (0: no answer).
    :param error: what the call raised, if anything.
    :param root: the parsed answer, if any (its ``developer-message`` goes along with a 4xx or 5xx).
    """
    if api in UNREPORTED_APIS or hei_id.lower() == STATS_PORTAL_HEI:
        return None
    if error is None and status < 400:
        return None
    if error is not None and not isinstance(error, REPORTED_ERRORS):
        return None
    server_message = ""
    if status >= 400 and root is not None:
        server_message = (root.findtext(f"{{{ns.COMMON}}}developer-message") or "").strip()
    client_message = "" if error is None else f"{type(error).__name__}: {error}"
    return MonitoringReport(hei_id, api, "" if endpoint == "url" else endpoint.removesuffix("-url"),
                            status or None, server_message, client_message)


class MonitoringReporter:
    """Sends reports in the background, one at a time, each through ``send`` (which may raise: the report is
    then dropped)."""

    def __init__(self, send: Callable[[MonitoringReport], object], capacity: int = QUEUE_SIZE) -> None:
        self._send = send
        self._queue: queue.Queue[MonitoringReport] = queue.Queue(maxsize=capacity)
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def report(self, report: MonitoringReport) -> None:
        """Queue ``report``; never blocks, never raises (a full queue drops it)."""
        try:
            self._queue.put_nowait(report)
        except queue.Full:
            log.debug("monitoring queue full: report on %s %s dropped", report.server_hei_id, report.api_name)
            return
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="monitoring", daemon=True)
                self._thread.start()

    def join(self) -> None:
        """Wait until every queued report was sent or dropped (tests, commands about to exit)."""
        self._queue.join()

    def _run(self) -> None:
        while True:
            report = self._queue.get()
            try:
                self._send(report)
            except Exception as exc:  # noqa: BLE001 (call and forget: the Stats Portal may be away)
                log.debug("monitoring report on %s %s not sent: %s", report.server_hei_id, report.api_name, exc)
            finally:
                self._queue.task_done()

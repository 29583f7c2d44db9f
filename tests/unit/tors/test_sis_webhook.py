"""The SIS webhook: a recognition record POSTed with an HMAC signature through the durable outbox; the SIS
down (connection refused) then up -> delivered exactly once, the signature checked by the test receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
from dataclasses import replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from sqlalchemy import select

from ewp_node.client import EwpClient
from ewp_node.cnr.outbox import OutboxRow, OutboxState, make_due_now
from ewp_node.cnr.senders import SendServices, load_sender_modules
from ewp_node.cnr.worker import AttemptAudit, OutboxWorker
from ewp_node.mobilities.records import Direction
from ewp_node.tors import repository as repo
from ewp_node.tors.records import ConvertedResult, Recognition
from ewp_node.tors.sis import DELIVERY_HEADER, SIGNATURE_HEADER, WEBHOOK, queue_webhook

from .conftest import RECEIVING, SENDING, approved_mobility, store_mobility

SECRET = "a shared secret of the SIS"


class _Receiver:
    """A loopback SIS that checks the HMAC of every POST and keeps the accepted bodies."""

    def __init__(self, port: int) -> None:
        received: list[dict[str, Any]] = []
        self.received, self.refused = received, 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                ok = hmac.compare_digest(expected, self.headers.get(SIGNATURE_HEADER, ""))
                if ok:
                    received.append({"delivery": self.headers[DELIVERY_HEADER], **json.loads(body)})
                else:
                    outer.refused += 1
                self.send_response(204 if ok else 401)
                self.end_headers()

        self.server = HTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_sis_down_then_up_gets_the_record_once_with_a_valid_hmac(make_node) -> None:  # type: ignore[no-untyped-def]
    load_sender_modules()
    node = make_node(heis=(SENDING,), partner_heis=(RECEIVING,))
    mobility, versions = approved_mobility(SENDING, RECEIVING)
    store_mobility(node.ctx, mobility, versions, Direction.OUTGOING)
    recognition = Recognition((ConvertedResult("93122", "EU Law", "9", "28", True, "14", "midpoint rule", ("14",)),))
    with node.ctx.sessions.begin() as session:
        received = repo.add_received(session, sending_hei_id=SENDING, receiving_hei_id=RECEIVING,
                                     omobility_id=mobility.omobility_id, elmo=b"<elmo/>", received_at=datetime.now(UTC),
                                     recognition=recognition)
        queue_webhook(session, received)
    port = _free_port()
    settings = replace(node.ctx.settings, sis_webhook_url=f"http://127.0.0.1:{port}/recognitions",
                       sis_webhook_secret=SECRET)
    worker = OutboxWorker(node.ctx.sessions, SendServices(EwpClient(node.ctx), node.ctx.sessions, settings),
                          AttemptAudit(node.ctx.audit.record))

    def row() -> OutboxRow:
        with node.ctx.sessions() as session:
            return session.scalars(select(OutboxRow).where(OutboxRow.kind == WEBHOOK)).one()

    assert worker.drain() == 1  # nobody listens: a transport failure, retried later
    assert row().state is OutboxState.PENDING and row().attempts == 1
    sis = _Receiver(port)
    try:
        with node.ctx.sessions.begin() as session:
            make_due_now(session)
        assert worker.drain() == 1
        assert row().state is OutboxState.DELIVERED
        with node.ctx.sessions.begin() as session:
            make_due_now(session)
        assert worker.drain() == 0  # delivered once, never again
    finally:
        sis.stop()
    assert sis.refused == 0
    [record] = sis.received
    assert record["delivery"] == f"recognition-{received.id:08d}"
    assert record["student"]["esi"] == mobility.student.global_id
    assert record["courses"][0]["suggested_home_grade"] == "14"


def test_the_webhook_settings_need_https_and_a_secret(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from ewp_node.config import ConfigError, settings_from_mapping

    base = {"base_url": "https://node.example.eu", "heis": [{"id": "uni-a.example.eu", "names": "A"}]}
    assert settings_from_mapping(tmp_path, base).sis_webhook_url is None
    settings = settings_from_mapping(tmp_path, {**base, "sis_webhook_url": "https://sis.example.eu/in",
                                                "sis_webhook_secret": SECRET})
    assert (settings.sis_webhook_url, settings.sis_webhook_secret) == ("https://sis.example.eu/in", SECRET)
    for bad in ({"sis_webhook_url": "https://sis.example.eu/in"},
                {"sis_webhook_url": "https://sis.example.eu/in", "sis_webhook_secret": "short"},
                {"sis_webhook_url": "http://sis.example.eu/in", "sis_webhook_secret": SECRET}):
        with pytest.raises(ConfigError, match="sis_webhook"):
            settings_from_mapping(tmp_path, {**base, **bad})


def test_a_registration_record_is_queued_with_its_file_and_posted_once(make_node) -> None:  # type: ignore[no-untyped-def]
    from ewp_node.tors.registration import REGISTRATION_WEBHOOK, write_registrations

    load_sender_modules()
    node = make_node(heis=(SENDING,), partner_heis=(RECEIVING,))
    mobility, versions = approved_mobility(SENDING, RECEIVING)
    store_mobility(node.ctx, mobility, versions, Direction.OUTGOING)
    home = node.ctx.settings.home
    [path] = write_registrations(node.ctx.sessions, home, {SENDING}, webhook=True)
    assert write_registrations(node.ctx.sessions, home, {SENDING}, webhook=True) == []  # once
    port = _free_port()
    settings = replace(node.ctx.settings, sis_webhook_url=f"http://127.0.0.1:{port}/registrations",
                       sis_webhook_secret=SECRET)
    worker = OutboxWorker(node.ctx.sessions, SendServices(EwpClient(node.ctx), node.ctx.sessions, settings),
                          AttemptAudit(node.ctx.audit.record))
    sis = _Receiver(port)
    try:
        assert worker.drain() == 1
        with node.ctx.sessions.begin() as session:
            make_due_now(session)
        assert worker.drain() == 0
    finally:
        sis.stop()
    with node.ctx.sessions() as session:
        [row] = session.scalars(select(OutboxRow).where(OutboxRow.kind == REGISTRATION_WEBHOOK)).all()
    assert (row.state, row.object_id, row.partner_hei) == (OutboxState.DELIVERED, mobility.omobility_id, RECEIVING)
    [record] = sis.received
    assert record["delivery"] == path.stem and record["student"]["esi"] == mobility.student.global_id
    assert record["learning_agreement"]["courses"] == json.loads(path.read_text())["learning_agreement"]["courses"]

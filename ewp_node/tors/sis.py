"""The hand-off to our student information system: each accepted, converted transcript becomes a recognition
record, a JSON file in ``HOME/sis-outbox/`` that the SIS picks up (no re-typing of grades), and, with
``sis_webhook_url`` configured, the same record POSTed to the SIS with an HMAC-SHA256 signature
(``X-Ewp-Node-Signature: sha256=<hex>`` over the body, ``sis_webhook_secret`` as key), queued in the durable
outbox in the transaction that recorded the transcript, so it is retried until the SIS takes it.

Files are written atomically (a temporary file renamed into place) after that transaction committed; the name
carries the received transcript's id, so writing again (``ewp-node sis HOME replay ID``) is harmless.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Collection
from pathlib import Path
from typing import Any

import requests
from sqlalchemy.orm import Session, sessionmaker

from ewp_node.cnr import Delivery, DeliveryRefused, SendServices, enqueue, register_sender
from ewp_node.config import Settings
from ewp_node.files import write_atomically
from ewp_node.mobilities import repository as mobility_repo
from ewp_node.mobilities.records import Mobility
from ewp_node.tors import repository as repo
from ewp_node.tors.records import ReceivedTranscript

FOLDER = "sis-outbox"
FORMAT = "ewp-node-recognition/1"


def recognition_record(received: ReceivedTranscript, mobility: Mobility) -> dict[str, Any]:
    """The record of one accepted transcript: the student, the mobility and every course with its grades."""
    if received.recognition is None:
        raise ValueError("only an accepted transcript has a recognition record")
    student = mobility.student
    return {
        "format": FORMAT,
        "received_transcript_id": received.id,
        "received_at": received.received_at.isoformat(),
        "student": {"given_names": student.given_names, "family_name": student.family_name,
                    "esi": student.global_id, "birth_date": student.birth_date.isoformat()},
        "mobility": {"omobility_id": mobility.omobility_id, "sending_hei_id": mobility.sending.hei_id,
                     "receiving_hei_id": mobility.receiving.hei_id,
                     "receiving_academic_year_id": mobility.receiving_academic_year_id},
        "courses": [{"code": r.code, "title": r.title, "ects": r.ects, "host_grade": r.host_grade,
                     "passed": r.passed, "suggested_home_grade": r.home_grade, "overlapping": list(r.overlapping),
                     "justification": r.explanation, "planned_as": r.planned_as}
                    for r in received.recognition.results],
        "planned_but_missing": list(received.recognition.missing),
    }


def record_path(home: Path, received_id: int) -> Path:
    return home / FOLDER / f"recognition-{received_id:08d}.json"


def write_recognition(home: Path, received: ReceivedTranscript, mobility: Mobility) -> Path:
    """Write the recognition record into ``HOME/sis-outbox/``; returns its path."""
    path = record_path(home, received.id)
    path.parent.mkdir(exist_ok=True)
    data = json.dumps(recognition_record(received, mobility), ensure_ascii=False, indent=1).encode("utf-8")
    write_atomically(path, data)
    return path


# -- the webhook: the same record POSTed to the SIS, signed with HMAC-SHA256, retried through the outbox --------

#: The outbox kind of a recognition record to POST (``object_id``: the received transcript's id).
WEBHOOK = "sis-webhook"
SIGNATURE_HEADER = "X-Ewp-Node-Signature"
DELIVERY_HEADER = "X-Ewp-Node-Delivery"
#: Seconds the SIS may take to answer one POST.
WEBHOOK_TIMEOUT = 10.0


def webhook_signature(secret: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of the body>``: what the SIS recomputes with the shared secret."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def queue_webhook(session: Session, received: ReceivedTranscript) -> None:
    """Queue the POST of ``received``'s record in the caller's transaction."""
    enqueue(session, WEBHOOK, owner_hei=received.sending_hei_id, partner_hei=received.receiving_hei_id,
            object_ids=[str(received.id)])


class UnknownRecord(LookupError):
    """No accepted transcript of that id for our HEIs (rejected ones have no recognition record)."""


def load_record(session: Session, our_heis: Collection[str], received_id: int) -> tuple[ReceivedTranscript, Mobility]:
    """:raises UnknownRecord: no such accepted transcript, or its mobility is gone."""
    found = repo.received_by_id(session, our_heis, received_id)
    row = None if found is None else mobility_repo.find(session, found[0].sending_hei_id, found[0].omobility_id)
    if found is None or found[0].recognition is None or row is None:
        raise UnknownRecord(f"no accepted transcript #{received_id} of ours: no recognition record")
    return found[0], mobility_repo.mobility_record(row)


def replay(sessions: sessionmaker[Session], home: Path, our_heis: Collection[str], received_id: int, *,
           webhook: bool) -> Path:
    """Write the record's file again and, with ``webhook``, queue its POST again. :raises UnknownRecord:"""
    with sessions.begin() as session:
        received, mobility = load_record(session, our_heis, received_id)
        if webhook:
            queue_webhook(session, received)
    return write_recognition(home, received, mobility)


def post_record(settings: Settings, record: dict[str, Any], delivery_name: str) -> int:
    """POST one record to ``sis_webhook_url``, signed; returns the SIS's status (``delivery_name`` is the same
    on every attempt, so the SIS can drop a repeat). :raises DeliveryRefused: no webhook configured."""
    url, secret = settings.sis_webhook_url, settings.sis_webhook_secret
    if not url or not secret:
        raise DeliveryRefused("no sis_webhook_url and sis_webhook_secret configured")
    body = json.dumps(record, ensure_ascii=False).encode("utf-8")
    response = requests.post(url, data=body, timeout=WEBHOOK_TIMEOUT, allow_redirects=False, headers={
        "Content-Type": "application/json", SIGNATURE_HEADER: webhook_signature(secret, body),
        DELIVERY_HEADER: delivery_name})
    response.close()
    return response.status_code


def send_webhook(services: SendServices, delivery: Delivery) -> int:
    """POST each recognition record; the SIS's status is the outcome (2xx delivered, 4xx failed, anything else
    or no answer: retried with back-off)."""
    status = 200
    for object_id in delivery.object_ids:
        try:
            with services.sessions() as session:
                record = recognition_record(*load_record(session, {delivery.owner_hei}, int(object_id)))
        except UnknownRecord as exc:
            raise DeliveryRefused(str(exc)) from exc
        status = post_record(services.settings, record, f"recognition-{int(object_id):08d}")
        if not 200 <= status < 300:
            return status
    return status


register_sender(WEBHOOK, send_webhook)

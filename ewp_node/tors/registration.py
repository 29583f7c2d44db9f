"""The registration hand-off to our student information system: a mobility whose nomination and learning
agreement are both approved becomes a registration record (student with ESI, period, courses), a JSON file in
``HOME/sis-outbox/`` beside the recognition records.

The outbox worker writes the records not written yet every minute (``ewp-node sis HOME registrations`` does
it at once) (one per approved LA version, so an
approved change gives a new record); writing is idempotent, a file already there is left alone. With the SIS
webhook configured, each new record is also queued in the durable outbox (kind ``sis-registration-webhook``)
and POSTed like the recognition records (:func:`ewp_node.tors.sis.post_record`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ewp_node.cnr import Delivery, DeliveryRefused, SendServices, enqueue, register_sender
from ewp_node.cnr.periodic import register_periodic
from ewp_node.config import Settings
from ewp_node.files import write_atomically
from ewp_node.mobilities import repository as mobility_repo
from ewp_node.mobilities.records import LaVersion, LearningAgreement, NominationStatus
from ewp_node.tors.sis import FOLDER, post_record

FORMAT = "ewp-node-registration/1"


def _approved(la: LearningAgreement) -> LaVersion | None:
    if la.mobility.nomination.status is not NominationStatus.APPROVED:
        return None
    return la.approved_changes or la.first_version


def registration_record(la: LearningAgreement, version: LaVersion) -> dict[str, Any]:
    """What the SIS needs to register the student for this mobility, per the approved LA ``version``."""
    mobility, student = la.mobility, la.mobility.student
    return {
        "format": FORMAT,
        "direction": mobility.direction.value,
        "student": {"given_names": student.given_names, "family_name": student.family_name,
                    "esi": student.global_id, "birth_date": student.birth_date.isoformat(),
                    "citizenship": student.citizenship, "email": student.email},
        "mobility": {"omobility_id": mobility.omobility_id, "sending_hei_id": mobility.sending.hei_id,
                     "receiving_hei_id": mobility.receiving.hei_id,
                     "receiving_academic_year_id": mobility.receiving_academic_year_id,
                     "planned_arrival": mobility.planned_arrival.isoformat() if mobility.planned_arrival else None,
                     "planned_departure": (mobility.planned_departure.isoformat()
                                           if mobility.planned_departure else None)},
        "learning_agreement": {"proposal_id": version.proposal_id, "courses": [
            {"kind": c.kind.value, "title": c.title, "los_id": c.los_id, "los_code": c.los_code,
             "ects": next((format(k.value, "f") for k in c.credits if k.scheme.lower() == "ects"), None)}
            for c in version.components]},
    }


def _name(la: LearningAgreement, version: LaVersion) -> str:
    key = "\n".join((la.mobility.sending.hei_id, la.mobility.omobility_id, version.proposal_id))
    return f"registration-{hashlib.sha256(key.encode()).hexdigest()[:20]}"


def _path(home: Path, la: LearningAgreement, version: LaVersion) -> Path:
    return home / FOLDER / f"{_name(la, version)}.json"


def _approved_las(session: Session, our_heis: Collection[str]) -> list[tuple[LearningAgreement, LaVersion]]:
    found = []
    for mobility in mobility_repo.list_mobilities(session, our_heis):
        row = mobility_repo.find(session, mobility.sending.hei_id, mobility.omobility_id)
        la = mobility_repo.la_record(row) if row is not None else None
        version = _approved(la) if la is not None else None
        if la is not None and version is not None:
            found.append((la, version))
    return found


def _ours_and_partner(la: LearningAgreement, our_heis: Collection[str]) -> tuple[str, str]:
    sending, receiving = la.mobility.sending.hei_id, la.mobility.receiving.hei_id
    return (sending, receiving) if sending in our_heis else (receiving, sending)


def write_registrations(sessions: sessionmaker[Session], home: Path, our_heis: Collection[str], *,
                        webhook: bool = False) -> list[Path]:
    """Write the registration record of every approved mobility that has none yet (``webhook``: and queue its
    POST first, so a file is never there without its POST queued). :returns: the new files."""
    with sessions() as session:
        approved = _approved_las(session, our_heis)
    written = []
    for la, version in approved:
        path = _path(home, la, version)
        if path.exists():
            continue
        if webhook:
            with sessions.begin() as session:
                ours, partner = _ours_and_partner(la, our_heis)
                enqueue(session, REGISTRATION_WEBHOOK, owner_hei=ours, partner_hei=partner,
                        object_ids=[la.mobility.omobility_id])
        path.parent.mkdir(exist_ok=True)
        write_atomically(path, json.dumps(registration_record(la, version), ensure_ascii=False,
                                          indent=1).encode("utf-8"))
        written.append(path)
    return written


#: The outbox kind of a registration record to POST (``object_id``: the omobility id).
REGISTRATION_WEBHOOK = "sis-registration-webhook"


def send_registration(services: SendServices, delivery: Delivery) -> int:
    """POST the current registration record of each mobility (its latest approved LA version)."""
    status = 200
    for omobility_id in delivery.object_ids:
        with services.sessions() as session:
            found = [(la, v) for la, v in _approved_las(session, {delivery.owner_hei})
                     if la.mobility.omobility_id == omobility_id
                     and delivery.partner_hei in (la.mobility.sending.hei_id, la.mobility.receiving.hei_id)]
        if not found:
            raise DeliveryRefused(f"mobility {omobility_id!r} is no longer approved: no registration record")
        la, version = found[0]
        status = post_record(services.settings, registration_record(la, version), _name(la, version))
        if not 200 <= status < 300:
            return status
    return status


register_sender(REGISTRATION_WEBHOOK, send_registration)


def register_new_approvals(sessions: sessionmaker[Session], settings: Settings) -> int:
    """The worker's job: the registration records of mobilities approved since it last looked."""
    return len(write_registrations(sessions, settings.home, settings.hei_ids,
                                   webhook=settings.sis_webhook_url is not None))


#: How soon after both approvals the SIS gets the registration record.
REGISTRATION_EVERY = timedelta(minutes=1)
register_periodic("sis-registrations", REGISTRATION_EVERY, register_new_approvals)

"""Demo IIAs between a node's HEI and a demo partner (``ewp-node init ... --with-demo-data --demo-partner HEI``).

Two agreements per pair, the same on both sides (conditions are laid out from the pair, not from who owns the
copy, so two demo nodes that name each other hold matching copies):

* agreement 1: every condition kind (student studies both ways, traineeship, staff teaching and training),
  already mapped (it carries the partner's iia-id, which the partner's demo gives it), a signed PDF;
* agreement 2: student studies only, not mapped yet (to play the mapping and approval exchange).

Ids are derived from both HEI ids: same input, same output.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ewp_node.iias import importer
from ewp_node.publish import repository as files
from ewp_node.publish.demo_data import pdf_page

AGREEMENTS = 2


def demo_iia_id(owner: str, partner: str, number: int) -> str:
    """The id ``owner``'s demo gives its copy of agreement ``number`` with ``partner``."""
    digest = hashlib.sha256(f"{owner}|{partner}|{number}".encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def pdf_file_id(owner: str, partner: str) -> str:
    return f"iia-{demo_iia_id(owner, partner, 1)[:8]}-pdf"


def _contact(hei_id: str, role: str) -> dict[str, Any]:
    return {"names": [{"lang": "en", "text": f"{role.capitalize()} of {hei_id}"}],
            "emails": [f"{role.replace(' ', '.')}@{hei_id}"], "role_descriptions": [{"lang": "en", "text": role}]}


def _student(kind: str, sending: str, receiving: str, mobilities: int, months: str, isced: str,
             clarification: str) -> dict[str, Any]:
    return {"kind": kind, "sending_hei_id": sending, "receiving_hei_id": receiving,
            "sending_contacts": [_contact(sending, "erasmus coordinator")],
            "receiving_contacts": [_contact(receiving, "erasmus coordinator")],
            "receiving_first_academic_year_id": "2025/2026", "receiving_last_academic_year_id": "2028/2029",
            "mobilities_per_year": mobilities,
            "recommended_language_skills": [{"language": "en", "cefr_level": "B2",
                                             "subject_area": {"isced_f_code": isced}}],
            "subject_areas": [{"isced_f_code": isced, "isced_clarification": clarification}],
            "total_months_per_year": months, "blended": False, "eqf_levels": [6, 7]}


def _staff(kind: str, sending: str, receiving: str, days: str) -> dict[str, Any]:
    condition = {"kind": kind, "sending_hei_id": sending, "receiving_hei_id": receiving,
                 "sending_contacts": [_contact(sending, "staff mobility officer")],
                 "receiving_first_academic_year_id": "2025/2026", "receiving_last_academic_year_id": "2027/2028",
                 "mobilities_per_year": 2, "subject_areas": [{"isced_f_code": "0611"}], "total_days_per_year": days}
    if kind == "staff-teacher-mobility-spec":
        condition["recommended_language_skills"] = [{"language": "en", "cefr_level": "C1"}]
    return condition


def _conditions(first: str, second: str, number: int) -> list[dict[str, Any]]:
    if number == 2:
        return [_student("student-studies-mobility-spec", first, second, 2, "5", "0311", ""),
                _student("student-studies-mobility-spec", second, first, 2, "5", "0311", "")]
    return [_student("student-studies-mobility-spec", first, second, 3, "10", "0613", "Software engineering"),
            _student("student-studies-mobility-spec", second, first, 3, "10", "0613", "Software engineering"),
            _student("student-traineeship-mobility-spec", first, second, 1, "3", "0714", "Laboratory internship"),
            _staff("staff-teacher-mobility-spec", first, second, "5"),
            _staff("staff-training-mobility-spec", second, first, "5")]


def demo_iias(hei_id: str, partner: str) -> list[dict[str, Any]]:
    """The demo agreements of ``hei_id`` with ``partner``, in the import (JSON) form."""
    first, second = sorted((hei_id, partner))
    out = []
    for number in range(1, AGREEMENTS + 1):
        ours = {"hei_id": hei_id, "iia_id": demo_iia_id(hei_id, partner, number),
                "iia_code": f"DEMO/{hei_id.split('.')[0].upper()}/{number}",
                "signing_contact": _contact(hei_id, "institutional coordinator"),
                "contacts": [_contact(hei_id, "international office")]}
        theirs: dict[str, Any] = {"hei_id": partner}
        if number == 1:
            ours["signing_date"] = "2025-01-15"
            theirs["iia_id"] = demo_iia_id(partner, hei_id, number)
        iia: dict[str, Any] = {"partners": [ours, theirs], "in_effect": number == 1,
                               "conditions": _conditions(first, second, number)}
        if number == 1:
            iia["pdf_file"] = pdf_file_id(hei_id, partner)
        out.append(iia)
    return out


def load_demo_iias(sessions: sessionmaker[Session], hei_id: str, partner: str, now: datetime | None = None) -> None:
    """Store the demo agreements of ``hei_id`` with ``partner`` and the PDF of the first; idempotent."""
    now = now or datetime.now(UTC)
    file_id = pdf_file_id(hei_id, partner)
    pdf = {"file_id": file_id, "media_type": "application/pdf", "public": False, "shared_with": [partner],
           "name": "signed-agreement.pdf"}
    with sessions.begin() as session:
        current = files.files_by_id(session, [file_id]).get(file_id)
        files.upsert_file(session, hei_id, pdf, pdf_page(f"Inter-institutional agreement {hei_id} - {partner}"),
                          now, current)
    importer.import_document(sessions, {"format": importer.FORMAT, "hei_id": hei_id,
                                        "iias": demo_iias(hei_id, partner)},
                             {hei_id}, source=f"demo IIAs with {partner}", now=now)


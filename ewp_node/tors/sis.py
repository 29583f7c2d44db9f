"""The hand-off to our student information system: each accepted, converted transcript becomes a recognition
record, a JSON file in ``HOME/sis-outbox/`` that the SIS picks up (no re-typing of grades).

Files are written atomically (a temporary file renamed into place) after the transaction that recorded the
transcript committed; the name carries the received transcript's id, so writing again is harmless.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ewp_node.files import write_atomically
from ewp_node.mobilities.records import Mobility
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


def write_recognition(home: Path, received: ReceivedTranscript, mobility: Mobility) -> Path:
    """Write the recognition record into ``HOME/sis-outbox/``; returns its path."""
    folder = home / FOLDER
    folder.mkdir(exist_ok=True)
    path = folder / f"recognition-{received.id:08d}.json"
    data = json.dumps(recognition_record(received, mobility), ensure_ascii=False, indent=1).encode("utf-8")
    write_atomically(path, data)
    return path

"""Export of a HEI's published data in the import format (``docs/import-format.md``): the round trip."""

from __future__ import annotations

import base64
from typing import Any

from sqlalchemy.orm import Session

from ewp_node.publish import repository as repo
from ewp_node.publish.records import FORMAT
from ewp_node.publish.repository import COURSE, FACTSHEET, INSTITUTION, OUNIT


def export_document(session: Session, hei_id: str) -> dict[str, Any]:
    """Everything stored for ``hei_id`` as one import document (files inline, base64)."""
    document: dict[str, Any] = {"format": FORMAT, "hei_id": hei_id}
    for name, kind in (("institution", INSTITUTION), ("factsheet", FACTSHEET)):
        row = repo.existing(session, kind, hei_id).get(None)
        if row is not None:
            document[name] = kind.record(row)
    ounits = repo.existing(session, OUNIT, hei_id)
    document["ounits"] = [OUNIT.record(ounits[k]) for k in repo.ounit_ids(session, hei_id)]
    courses = repo.existing(session, COURSE, hei_id)
    document["courses"] = [COURSE.record(courses[k]) for k in sorted(courses, key=str)]
    document["files"] = [repo.file_record(row) | {"content_base64": base64.b64encode(row.content).decode("ascii")}
                         for row in repo.files(session, hei_id)]
    return {k: v for k, v in document.items() if v != []}

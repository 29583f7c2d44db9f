"""Import and export of a HEI's IIAs (``docs/iia-import-format.md``): all or nothing per file, idempotent.

A file is read and every IIA checked first; then one transaction creates or edits each IIA through
``service`` (so the served element, the hash and the PDF checks are those of any other change) and deletes
the listed ones. Any refusal rolls the whole file back. Importing an export changes nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from ewp_node.iias import repository as repo
from ewp_node.iias import service
from ewp_node.iias.records import Iia
from ewp_node.iias.validate import InvalidIia, check_iia
from ewp_node.publish.records import Problem

#: The ``format`` value of an IIA import document.
FORMAT = "ewp-node-iias/1"
_KNOWN_KEYS = {"format", "hei_id", "iias", "delete"}


class ImportFailed(ValueError):
    """A file could not be imported; nothing of it was written."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source, self.problems = source, problems
        shown = "\n".join(f"{source}: {p}" for p in problems[:50])
        more = f"\n{source}: ... and {len(problems) - 50} more problems" if len(problems) > 50 else ""
        super().__init__(shown + more)


@dataclass
class ImportReport:
    source: str
    hei_id: str
    counts: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        parts = [f"{change}: {n}" for change, n in sorted(self.counts.items())]
        return f"{self.source} ({self.hei_id}): IIAs " + (", ".join(parts) or "nothing to do")


def _check(document: Any, covered: set[str]) -> tuple[str, list[Iia], list[str]]:
    """Every problem of a document, or its HEI, IIAs and ids to delete. :raises InvalidIia: problems."""
    problems: list[Problem] = []
    if not isinstance(document, dict):
        raise InvalidIia([Problem("document", "", "a JSON object is expected")])
    if document.get("format") != FORMAT:
        problems.append(Problem("document", "format", f"must be {FORMAT!r}, not {document.get('format')!r}"))
    problems += [Problem("document", k, "is not a known section") for k in sorted(set(document) - _KNOWN_KEYS)]
    hei_id = document.get("hei_id")
    if hei_id not in covered:
        problems.append(Problem("document", "hei_id", f"{hei_id!r} is not a HEI covered by this node"))
    raw_iias = document.get("iias") or []
    deletes = document.get("delete") or []
    if not isinstance(raw_iias, list):
        problems.append(Problem("document", "iias", "a list is expected"))
        raw_iias = []
    if not isinstance(deletes, list) or not all(isinstance(d, str) and d for d in deletes):
        problems.append(Problem("document", "delete", "a list of IIA ids is expected"))
        deletes = []
    iias: list[Iia] = []
    seen: dict[str, str] = {}
    for index, raw in enumerate(raw_iias):
        label = f"iias[{index}]"
        try:
            iia = check_iia(raw, label=label)
        except InvalidIia as exc:
            problems += exc.problems
            continue
        iia_id = iia.owner.iia_id
        if iia.owner.hei_id != hei_id:
            problems.append(Problem(label, "partners[0].hei_id", f"the first partner must be {hei_id} (the owner)"))
        elif iia_id is None:
            problems.append(Problem(label, "partners[0].iia_id", "is required (our id of the IIA, never reused)"))
        elif iia_id in seen:
            problems.append(Problem(label, "partners[0].iia_id", f"{iia_id!r} is also given by {seen[iia_id]}"))
        elif iia_id in deletes:
            problems.append(Problem(label, "partners[0].iia_id", f"{iia_id!r} is also in delete"))
        else:
            seen[iia_id] = label
            iias.append(iia)
    if problems:
        raise InvalidIia(problems)
    return str(hei_id), iias, list(deletes)


def import_document(sessions: sessionmaker[Session], document: Any, covered: Iterable[str], *, source: str,
                    now: datetime | None = None) -> ImportReport:
    """Check and import one document in one transaction. :raises ImportFailed: nothing was written."""
    now = now or datetime.now(UTC)
    try:
        hei_id, iias, deletes = _check(document, set(covered))
    except InvalidIia as exc:
        raise ImportFailed(source, exc.problems) from None
    report = ImportReport(source, hei_id)
    problems: list[Problem] = []
    with sessions.begin() as session:
        for index, iia in enumerate(iias):
            try:  # a refusal comes before any write: the others can still be checked
                report.counts[_apply(session, hei_id, iia, now)] += 1
            except service.IiaChangeRefused as exc:
                problems.append(Problem(f"iias[{index}] ({iia.owner.iia_id})", "", str(exc)))
        for iia_id in deletes:
            try:
                service.delete(session, hei_id, iia_id, now)
                report.counts["deleted"] += 1
            except service.IiaChangeRefused as exc:
                problems.append(Problem("delete", iia_id, str(exc)))
        if problems:
            raise ImportFailed(source, problems)  # leaving the block rolls every change back
    return report


def _apply(session: Session, hei_id: str, iia: Iia, now: datetime) -> str:
    row = repo.find(session, hei_id, str(iia.owner.iia_id))
    if row is None:
        service.create(session, hei_id, iia, now)
        return "created"
    return "updated" if service.edit(session, hei_id, iia, now) else "unchanged"


def import_file(sessions: sessionmaker[Session], path: Path, covered: Iterable[str], *,
                now: datetime | None = None) -> ImportReport:
    """Import one JSON file. :raises ImportFailed: naming the file, the IIA and the field."""
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportFailed(str(path), [Problem("file", "", f"cannot be read: {exc}")]) from None
    except ValueError as exc:
        raise ImportFailed(str(path), [Problem("file", "", f"is not valid JSON: {exc}")]) from None
    return import_document(sessions, document, covered, source=str(path), now=now)


def export_document(session: Session, hei_id: str) -> dict[str, Any]:
    """Every live IIA of ``hei_id`` as one import document."""
    return {"format": FORMAT, "hei_id": hei_id, "iias": [row.data for row in repo.our_copies(session, hei_id)]}

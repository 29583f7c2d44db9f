"""Grades as registrars export them: one CSV row per course result (comma, semicolon or tab separated),
grouped by mobility into the JSON import document (docs/tor-import-format.md, "CSV")."""

from __future__ import annotations

import csv
import io
from typing import Any

from ewp_node.tors.importer import FORMAT

REQUIRED = ("sending_hei_id", "omobility_id", "code", "title", "isced_code", "ects", "result", "grading_scheme",
            "distribution", "term_title", "term_start", "term_end", "date")
OPTIONAL = ("passed", "grading_scheme_description", "title_lang", "language", "los_id", "loi_id")
_DELIMITERS = (",", ";", "\t")
_YES, _NO = {"", "1", "true", "yes", "y", "oui", "o"}, {"0", "false", "no", "n", "non"}


class GradesCsvError(ValueError):
    """The sheet cannot be read as grades; the message names the row and column."""


def _distribution(text: str, row: int) -> list[dict[str, Any]]:
    """``30L:3|30:5|28:10``: each grade label and how many of the cohort got it, best first."""
    shares = []
    for part in filter(None, (p.strip() for p in text.split("|"))):
        label, sep, count = part.rpartition(":")
        if not sep or not label.strip() or not count.strip().isdigit():
            raise GradesCsvError(f"row {row}, column 'distribution': {part!r} is not LABEL:COUNT "
                                 "(e.g. 30L:3|30:5|28:10)")
        shares.append({"label": label.strip(), "count": int(count)})
    return shares


def _passed(text: str, row: int) -> bool:
    value = text.strip().lower()
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise GradesCsvError(f"row {row}, column 'passed': {text!r} is not yes or no")


def document_from_csv(text: str) -> dict[str, Any]:
    """The import document of a grades sheet; the usual import checks then apply, all or nothing."""
    header = text.split("\n", 1)[0]
    delimiter = max(_DELIMITERS, key=header.count)
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    columns = {c.strip() for c in reader.fieldnames or ()}
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise GradesCsvError(f"the header lacks the column(s) {', '.join(missing)} (required: {', '.join(REQUIRED)})")
    transcripts: dict[tuple[str, str], dict[str, Any]] = {}
    for row_number, raw in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        key = (row["sending_hei_id"], row["omobility_id"])
        transcript = transcripts.setdefault(key, {"sending_hei_id": key[0], "omobility_id": key[1],
                                                  "grading_schemes": [], "courses": []})
        scheme = row["grading_scheme"]
        if scheme not in {s["id"] for s in transcript["grading_schemes"]}:
            transcript["grading_schemes"].append(
                {"id": scheme, "description": row.get("grading_scheme_description") or scheme})
        course = {"code": row["code"], "title": row["title"], "isced_code": row["isced_code"], "ects": row["ects"],
                  "result": row["result"], "passed": _passed(row.get("passed", ""), row_number),
                  "grading_scheme": scheme, "distribution": _distribution(row["distribution"], row_number),
                  "term": {"title": row["term_title"], "start": row["term_start"], "end": row["term_end"]},
                  "date": row["date"]}
        course |= {name: row[name] for name in ("title_lang", "language", "los_id", "loi_id") if row.get(name)}
        transcript["courses"].append(course)
    if not transcripts:
        raise GradesCsvError("the sheet has a header but no result row")
    return {"format": FORMAT, "transcripts": list(transcripts.values())}

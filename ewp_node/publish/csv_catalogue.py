"""The course catalogue as registrars keep it: a CSV sheet with one row per course offering (LOI).

Rows with the same ``los_id`` form one course; its own columns are read from its first row and must not
contradict later rows. A row whose ``action`` is ``delete`` deletes the course. Multilingual columns carry
the language after a colon (``title:en``, ``title:fr``). See ``docs/import-format.md``.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from ewp_node.publish.records import FORMAT, InvalidRecords, Problem, Record

#: Course columns (read from the first row of a course) and the record fields they fill.
COURSE_COLUMNS = ("los_code", "ounit_id", "type", "subject_area", "isced_code", "eqf_level", "open_to_incoming")
COURSE_LANG_COLUMNS = {"title": "titles", "description": "descriptions"}
#: Offering columns (one per row).
LOI_COLUMNS = ("loi_id", "start", "end", "language_of_instruction", "engagement_hours")
TERM_COLUMNS = ("academic_year_id", "term_id", "term_start", "term_end")
CREDIT_COLUMNS = ("ects", "credit_level")
REQUIRED = ("hei_id", "los_id")


def read_csv(text: str) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """A CSV catalogue as an import document, and labels (``row N``) for its courses.

    :raises InvalidRecords: missing columns, several HEIs, or rows contradicting their course.
    """
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InvalidRecords([Problem("header", c, "column is required") for c in missing])
    problems: list[Problem] = []
    courses: dict[str, Record] = {}
    rows: dict[str, list[int]] = {}
    deletes: list[str] = []
    hei_ids: set[str] = set()
    for number, row in enumerate(reader, start=2):
        row = {k: (v or "").strip() for k, v in row.items() if k is not None}
        label = f"row {number}"
        hei_ids.add(row["hei_id"])
        los_id = row["los_id"]
        if row.get("action", "").lower() == "delete":
            deletes.append(los_id)
            continue
        if row.get("action", "").lower() not in ("", "upsert"):
            problems.append(Problem(label, "action", f"{row['action']!r} is not 'upsert' or 'delete'"))
            continue
        course = _course(row)
        if los_id not in courses:
            courses[los_id], rows[los_id] = course, [number]
        else:
            rows[los_id].append(number)
            for name, value in course.items():
                if name != "instances" and value and value != courses[los_id].get(name):
                    problems.append(Problem(label, name, f"contradicts row {rows[los_id][0]} of course {los_id!r}"))
        if row.get("loi_id"):
            courses[los_id]["instances"].append(_instance(row))
    if len(hei_ids) > 1:
        problems.append(Problem("hei_id", "hei_id", f"one HEI per file, found {', '.join(sorted(hei_ids))}"))
    if problems:
        raise InvalidRecords(problems)
    document = {"format": FORMAT, "hei_id": next(iter(hei_ids), ""), "courses": list(courses.values()),
                "delete": {"courses": deletes}}
    labels = [("row " if len(rows[k]) == 1 else "rows ") + ", ".join(map(str, rows[k])) for k in courses]
    return document, {"courses": labels}


def _course(row: dict[str, str]) -> Record:
    course: Record = {"los_id": row["los_id"], "instances": []}
    course.update((c, row[c]) for c in COURSE_COLUMNS if row.get(c))
    for prefix, field in COURSE_LANG_COLUMNS.items():
        course[field] = [{"lang": name.split(":", 1)[1], "text": value} for name, value in row.items()
                         if name.startswith(prefix + ":") and value]
    if row.get("url"):
        course["urls"] = [{"url": row["url"]}]
    return course


def _instance(row: dict[str, str]) -> Record:
    loi: Record = {c: row[c] for c in LOI_COLUMNS if row.get(c)}
    if any(row.get(c) for c in TERM_COLUMNS):
        loi["academic_term"] = {
            "academic_year_id": row.get("academic_year_id", ""), "ewp_id": row.get("term_id", ""),
            "display_names": [{"lang": name.split(":", 1)[1], "text": value} for name, value in row.items()
                              if name.startswith("term_name:") and value],
            "start_date": row.get("term_start", ""), "end_date": row.get("term_end", ""),
        }
    if row.get("ects"):
        loi["credits"] = [{"scheme": "ects", "value": row["ects"], "level": row.get("credit_level", "")}]
    if row.get("grading_scheme"):
        loi["grading_scheme"] = {"labels": [row["grading_scheme"]]}
    return loi

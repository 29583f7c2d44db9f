"""The course catalogue as registrars keep it: a CSV sheet with one row per course offering (LOI).

Rows with the same ``los_id`` form one course; its own columns are read from its first row and must not
contradict later rows. A row whose ``action`` is ``delete`` deletes the course. Multilingual columns carry
the language after a colon (``title:en``, ``title:fr``). See ``docs/import-format.md``.

Sheets come as spreadsheets save them: comma-, semicolon- (Excel in France, Germany, Poland...) or
tab-separated, UTF-8 with or without a byte order mark; another encoding is named with its row in the error,
or read as the operator says (``--encoding cp1252``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
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
#: Separators a sheet may use; the one whose header holds the required columns wins.
DELIMITERS = (",", ";", "\t")


def decode_csv(data: bytes, encoding: str | None = None) -> str:
    """The text of a CSV file: UTF-8 (a byte order mark is dropped) unless ``encoding`` is given.

    :raises InvalidRecords: naming the row and byte that are not UTF-8 (or not ``encoding``).
    :raises LookupError: an unknown encoding name.
    """
    try:
        return data.decode(encoding or "utf-8-sig")
    except UnicodeDecodeError as exc:
        row = data[:exc.start].count(b"\n") + 1
        byte = data[exc.start]
        if encoding:
            reason = f"byte 0x{byte:02x} is not {encoding}"
        else:
            guess = bytes([byte]).decode("cp1252", errors="replace")
            reason = (f"byte 0x{byte:02x} is not UTF-8 (it is {guess!r} in Windows-1252): save the sheet as "
                      "'CSV UTF-8', or name its encoding (ewp-node import --encoding cp1252)")
        raise InvalidRecords([Problem(f"row {row}", "", reason)]) from None


def _delimiter(text: str) -> str:
    """The separator of the header line: the one that yields the required columns, else the most used."""
    header = text.split("\n", 1)[0]

    def fit(delimiter: str) -> tuple[bool, int]:
        columns = {c.strip() for c in next(csv.reader([header], delimiter=delimiter), [])}
        return all(c in columns for c in REQUIRED), header.count(delimiter)

    return max(DELIMITERS, key=fit)


def read_csv(text: str) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """A CSV catalogue as an import document, and labels (``row N``) for its courses.

    :raises InvalidRecords: missing columns, several HEIs, or rows contradicting their course.
    """
    reader = csv.DictReader(io.StringIO(text), delimiter=_delimiter(text))
    reader.fieldnames = [name.strip() for name in reader.fieldnames or []]
    header = reader.fieldnames
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


def _lang_texts(row: dict[str, str], prefix: str) -> list[Record]:
    """Texts of the ``prefix:<lang>`` columns, and of the ``prefix`` column (a text without language)."""
    return [{"lang": name.split(":", 1)[1], "text": value} if ":" in name else {"text": value}
            for name, value in row.items() if value and (name == prefix or name.startswith(prefix + ":"))]


def _course(row: dict[str, str]) -> Record:
    course: Record = {"los_id": row["los_id"], "instances": []}
    course.update((c, row[c]) for c in COURSE_COLUMNS if row.get(c))
    for prefix, field in COURSE_LANG_COLUMNS.items():
        course[field] = _lang_texts(row, prefix)
    if row.get("url"):
        course["urls"] = [{"url": row["url"]}]
    return course


def _instance(row: dict[str, str]) -> Record:
    loi: Record = {c: row[c] for c in LOI_COLUMNS if row.get(c)}
    if any(row.get(c) for c in TERM_COLUMNS):
        loi["academic_term"] = {
            "academic_year_id": row.get("academic_year_id", ""), "ewp_id": row.get("term_id", ""),
            "display_names": _lang_texts(row, "term_name"),
            "start_date": row.get("term_start", ""), "end_date": row.get("term_end", ""),
        }
    if row.get("ects"):
        loi["credits"] = [{"scheme": "ects", "value": row["ects"], "level": row.get("credit_level", "")}]
    if row.get("grading_scheme"):
        loi["grading_scheme"] = {"labels": [row["grading_scheme"]]}
    return loi


def _texts_by_lang(texts: Iterable[Record], prefix: str, row: dict[str, str], dropped: set[str]) -> None:
    for item in texts:
        column = f"{prefix}:{item['lang']}" if item.get("lang") else prefix
        if column in row:
            dropped.add(f"a second {column}")
        row[column] = str(item["text"])


def _course_row(hei_id: str, course: Record, dropped: set[str]) -> dict[str, str]:
    row = {"hei_id": hei_id, "los_id": str(course["los_id"])}
    for column in COURSE_COLUMNS:
        value = course.get(column)
        if value is not None:
            row[column] = str(value).lower() if isinstance(value, bool) else str(value)
    for prefix, field in COURSE_LANG_COLUMNS.items():
        _texts_by_lang(course.get(field, []), prefix, row, dropped)
    links = course.get("urls", [])
    if links:
        row["url"] = str(links[0]["url"])
    if course.get("contains"):
        dropped.add("contains")
    if len(links) > 1:
        dropped.add("urls beyond the first")
    return row


def _offering_row(loi: Record, dropped: set[str]) -> dict[str, str]:
    row = {c: str(loi[c]) for c in LOI_COLUMNS if loi.get(c) is not None}
    term = loi.get("academic_term")
    if term:
        row.update(academic_year_id=str(term["academic_year_id"]), term_id=str(term.get("ewp_id", "")),
                   term_start=str(term["start_date"]), term_end=str(term["end_date"]))
        _texts_by_lang(term.get("display_names", []), "term_name", row, dropped)
    credits = loi.get("credits", [])
    ects = [c for c in credits if c.get("scheme") == "ects"]
    if ects:
        row["ects"], row["credit_level"] = str(ects[0]["value"]), str(ects[0].get("level", ""))
    if len(ects) != len(credits) or len(ects) > 1:
        dropped.add("credits other than one ECTS value")
    labels = (loi.get("grading_scheme") or {}).get("labels", [])
    if labels:
        row["grading_scheme"] = str(labels[0]["text"])
    if len(labels) > 1 or (loi.get("grading_scheme") or {}).get("descriptions"):
        dropped.add("grading scheme beyond one label")
    if loi.get("result_distribution"):
        dropped.add("result_distribution")
    return row


def write_csv(hei_id: str, courses: Iterable[Record], *, delimiter: str = ",") -> tuple[str, list[str]]:
    """Courses as a CSV catalogue that :func:`read_csv` reads back, one row per offering.

    :returns: the CSV text, and what a sheet cannot hold and was left out (JSON keeps everything).
    """
    dropped: set[str] = set()
    rows = []
    for course in courses:
        course_row = _course_row(hei_id, course, dropped)
        offerings = course.get("instances") or [{}]
        rows += [course_row | _offering_row(loi, dropped) for loi in offerings]
    fixed = ["hei_id", "los_id", *COURSE_COLUMNS, "url", *LOI_COLUMNS, *TERM_COLUMNS, *CREDIT_COLUMNS,
             "grading_scheme"]
    by_language = sorted({name for row in rows for name in row if name not in fixed})
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fixed + by_language, delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue(), sorted(dropped)

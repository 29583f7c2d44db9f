"""Read the grades of incoming students from the SIS (``docs/tor-import-format.md``): a JSON document is
checked completely into :class:`TranscriptInput` records, or refused with every problem named.

Rules beyond the types: the result of a passed course is one of its cohort's grades; a cohort's counts are
non-negative integers with one non-zero at least and unique labels; ISCED-F codes are 2 to 4 digits.
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from ewp_node.publish.records import (
    InvalidRecords,
    Problem,
    Reader,
    Record,
    _Skip,
    decimal,
    hei,
    identifier,
    integer_in,
    iso_date,
    language,
)
from ewp_node.tors.records import CourseResult, GradeShare, Term, TranscriptInput

FORMAT = "ewp-node-tor/1"
_ISCED_RE = re.compile(r"^[0-9]{2,4}$")
#: Most courses one transcript may list (a semester or a year abroad is far below this).
MAX_COURSES = 200


class TorImportFailed(ValueError):
    """The file was not imported; nothing of it was written."""


def _isced(r: Reader, text: str) -> str:
    if not _ISCED_RE.match(text):
        raise r.fail(f"{text!r} is not an ISCED-F code of 2 to 4 digits such as '0421'")
    return text


def _date(r: Reader, obj: Record, key: str) -> date:
    return date.fromisoformat(r.value(obj, key, iso_date, required=True))


def _share(r: Reader, raw: Any) -> GradeShare:
    obj = r.mapping(raw)
    return GradeShare(r.value(obj, "label", required=True), r.value(obj, "count", integer_in(0), required=True))


def _distribution(r: Reader, obj: Record, key: str) -> tuple[GradeShare, ...]:
    shares = tuple(r.each(obj, key, lambda raw: _share(r, raw), at_least=1))
    with r.at(key):
        labels = [s.label for s in shares]
        if len(set(labels)) != len(labels):
            r.fail("a grade is listed twice")
        if shares and not any(s.count for s in shares):
            r.fail("at least one count must be non-zero")
    return shares


def _term(r: Reader, obj: Record) -> Term:
    with r.at("term"):
        raw = r.mapping(obj.get("term"))
        term = Term(r.value(raw, "title", required=True), _date(r, raw, "start"), _date(r, raw, "end"))
        if term.end < term.start:
            raise r.fail("ends before it starts")
        return term


def _course(r: Reader, raw: Any) -> CourseResult:
    obj = r.mapping(raw)
    distribution = _distribution(r, obj, "distribution")
    course = CourseResult(
        code=r.value(obj, "code", identifier, required=True), title=r.value(obj, "title", required=True),
        title_lang=r.value(obj, "title_lang", language) or "en",
        grading_scheme=r.value(obj, "grading_scheme", identifier),
        isced_code=r.value(obj, "isced_code", _isced, required=True),
        ects=Decimal(r.value(obj, "ects", decimal, required=True)), result=r.value(obj, "result", required=True),
        passed=r.boolean(obj, "passed", True), distribution=distribution, term=_term(r, obj),
        date=_date(r, obj, "date"), los_id=r.value(obj, "los_id", identifier),
        loi_id=r.value(obj, "loi_id", identifier), language=r.value(obj, "language", language))
    if course.passed and course.result not in {s.label for s in distribution}:
        with r.at("result"):
            raise r.fail(f"{course.result!r} is not one of the grades of the course's distribution")
    return course


def _isced_table(r: Reader, raw: Any) -> tuple[str, tuple[GradeShare, ...]]:
    obj = r.mapping(raw)
    return r.value(obj, "isced_code", _isced, required=True), _distribution(r, obj, "distribution")


def _scheme(r: Reader, raw: Any) -> tuple[str, str]:
    obj = r.mapping(raw)
    return r.value(obj, "id", identifier, required=True), r.value(obj, "description", required=True)


def read_transcript(r: Reader, raw: Any) -> TranscriptInput:
    obj = r.mapping(raw)
    schemes = tuple(r.each(obj, "grading_schemes", lambda item: _scheme(r, item), at_least=1))
    courses = tuple(r.each(obj, "courses", lambda item: _course(r, item), at_least=1, at_most=MAX_COURSES))
    with r.at("courses"):
        known = {scheme_id for scheme_id, _ in schemes}
        for course in courses:
            if course.grading_scheme is not None and course.grading_scheme not in known:
                r.fail(f"course {course.code}: grading scheme {course.grading_scheme!r} is not in grading_schemes")
    tables = tuple(r.each(obj, "isced_tables", lambda item: _isced_table(r, item)))
    with r.at("isced_tables"):
        codes = [code for code, _ in tables]
        if len(set(codes)) != len(codes):
            raise r.fail("an ISCED code has two tables")
    return TranscriptInput(
        sending_hei_id=r.value(obj, "sending_hei_id", hei, required=True),
        omobility_id=r.value(obj, "omobility_id", identifier, required=True),
        grading_schemes=schemes, courses=courses, isced_tables=tables)


def read_document(document: Any) -> list[TranscriptInput]:
    """Every transcript of an import document. :raises InvalidRecords: listing every problem found."""
    r = Reader()
    obj: Record = document if isinstance(document, dict) else {}
    if obj.get("format") != FORMAT:
        r.problems.append(Problem("document", "format", f"must be {FORMAT!r} (a JSON object is expected)"))
    transcripts: list[TranscriptInput] = []
    seen: set[tuple[str, str]] = set()
    for index, raw in enumerate(r.each(obj, "transcripts", lambda item: item, at_least=1)):
        with r.for_record(f"transcripts[{index}]"):
            try:
                transcript = read_transcript(r, raw)
            except _Skip:
                continue
            key = (transcript.sending_hei_id, transcript.omobility_id)
            if key in seen:
                r.fail(f"mobility {transcript.omobility_id!r} of {key[0]} has two transcripts")
            seen.add(key)
            transcripts.append(transcript)
    r.check()
    return transcripts


def read_file(path: Path) -> list[TranscriptInput]:
    """The transcripts of a JSON import document, or of a CSV sheet of results (``.csv``).

    :raises TorImportFailed: unreadable or invalid file.
    """
    if path.suffix.lower() == ".csv":
        document = _csv_document(path)
    else:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise TorImportFailed(f"{path}: cannot read JSON: {exc}") from None
    try:
        return read_document(document)
    except InvalidRecords as exc:
        raise TorImportFailed("\n".join(f"{path}: {p}" for p in exc.problems)) from None


def _csv_document(path: Path) -> Any:
    from ewp_node.publish.csv_catalogue import decode_csv
    from ewp_node.tors.csv_grades import GradesCsvError, document_from_csv

    try:
        return document_from_csv(decode_csv(path.read_bytes()))
    except OSError as exc:
        raise TorImportFailed(f"{path}: cannot read: {exc}") from None
    except InvalidRecords as exc:
        raise TorImportFailed("\n".join(f"{path}: {p}" for p in exc.problems)) from None
    except GradesCsvError as exc:
        raise TorImportFailed(f"{path}: {exc}") from None

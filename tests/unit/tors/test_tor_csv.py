"""Grades as a registrar exports them: a CSV sheet reads as the same transcripts as the JSON document."""

from __future__ import annotations

from pathlib import Path

import pytest

from ewp_node.tors.importer import TorImportFailed, read_document, read_file

HEADER = ("sending_hei_id;omobility_id;code;title;isced_code;ects;result;passed;grading_scheme;"
          "grading_scheme_description;distribution;term_title;term_start;term_end;date")
ROWS = [
    "univ-valmont.fr;mob-1;93122;European Union Law;0421;9;28;yes;IT-18-30;The IT-18-30 scale, best grade first;"
    "30L:3|30:5|28:10|18:4;Winter 2026/2027;2026-09-01;2027-01-31;2027-01-20",
    "univ-valmont.fr;mob-1;93125;Comparative Law;0421;6;30L;oui;IT-18-30;The IT-18-30 scale, best grade first;"
    "30L:3|30:5|28:10|18:4;Winter 2026/2027;2026-09-01;2027-01-31;2027-01-22",
]


def _json_twin() -> dict:  # type: ignore[type-arg]
    term = {"title": "Winter 2026/2027", "start": "2026-09-01", "end": "2027-01-31"}
    shares = [{"label": "30L", "count": 3}, {"label": "30", "count": 5}, {"label": "28", "count": 10},
              {"label": "18", "count": 4}]
    course = {"isced_code": "0421", "passed": True, "grading_scheme": "IT-18-30", "distribution": shares,
              "term": term}
    return {"format": "ewp-node-tor/1", "transcripts": [{
        "sending_hei_id": "univ-valmont.fr", "omobility_id": "mob-1",
        "grading_schemes": [{"id": "IT-18-30", "description": "The IT-18-30 scale, best grade first"}],
        "courses": [{**course, "code": "93122", "title": "European Union Law", "ects": "9", "result": "28",
                     "date": "2027-01-20"},
                    {**course, "code": "93125", "title": "Comparative Law", "ects": "6", "result": "30L",
                     "date": "2027-01-22"}]}]}


def test_a_semicolon_sheet_with_a_byte_order_mark_reads_as_the_json_document(tmp_path: Path) -> None:
    sheet = tmp_path / "grades.csv"
    sheet.write_bytes("\ufeff".encode() + "\r\n".join([HEADER, *ROWS]).encode())
    assert read_file(sheet) == read_document(_json_twin())


@pytest.mark.parametrize(("change", "message"), [
    (lambda text: text.replace("distribution;", "cohort;"), r"lacks the column\(s\) distribution"),
    (lambda text: text.replace("30L:3|30:5", "30L=3|30:5", 1), "row 2, column 'distribution'"),
    (lambda text: text.replace(";yes;", ";maybe;"), "row 2, column 'passed'"),
    (lambda text: text.replace(";9;28;", ";9;99;"), "result"),  # the usual checks: 99 is not in the cohort
])
def test_a_bad_sheet_is_refused_with_the_row_and_column(tmp_path: Path, change, message: str) -> None:  # type: ignore[no-untyped-def]
    sheet = tmp_path / "grades.csv"
    sheet.write_text(change("\n".join([HEADER, *ROWS])), encoding="utf-8")
    with pytest.raises(TorImportFailed, match=message):
        read_file(sheet)

"""CSV sheets as registrars' spreadsheets save them: separators, encodings, and ``export --format csv``."""

from __future__ import annotations

import pytest

from ewp_node.publish.csv_catalogue import decode_csv, read_csv, write_csv
from ewp_node.publish.importer import ImportFailed, import_file
from ewp_node.publish.records import InvalidRecords
from ewp_node.publish.repository import Change

HEI = "uni-a.example.eu"
SHEET = [
    ["hei_id", "los_id", "title:fr", "loi_id", "start", "end", "academic_year_id", "term_name:fr", "term_start",
     "term_end", "ects", "credit_level"],
    [HEI, "CR/bio1", "Biologie cellulaire, été", "CRI/bio1-a", "2025-09-08", "2026-01-16", "2025/2026",
     "Automne 2025", "2025-09-08", "2026-01-16", "5", "Bachelor"],
]


def sheet(delimiter: str, rows: list[list[str]] = SHEET) -> str:
    def cell(value: str) -> str:
        return f'"{value}"' if delimiter in value else value

    return "".join(delimiter.join(cell(v) for v in row) + "\r\n" for row in rows)


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_separators_are_detected(delimiter: str) -> None:
    document, labels = read_csv(sheet(delimiter))
    (course,) = document["courses"]
    assert course["titles"] == [{"lang": "fr", "text": "Biologie cellulaire, été"}]
    assert course["instances"][0]["academic_term"]["start_date"] == "2025-09-08"
    assert labels == {"courses": ["row 2"]}


def test_windows_1252_is_named_with_its_row() -> None:
    data = sheet(";").encode("cp1252")
    with pytest.raises(InvalidRecords) as failure:
        decode_csv(data)
    (problem,) = failure.value.problems
    assert problem.record == "row 2"
    assert "byte 0xe9 is not UTF-8 (it is 'é' in Windows-1252)" in str(problem)
    assert "--encoding cp1252" in str(problem)
    assert decode_csv(data, "cp1252") == sheet(";")
    assert decode_csv(b"\xef\xbb\xbf" + sheet(",").encode()) == sheet(",")  # Excel's "CSV UTF-8" has a BOM


def test_import_a_french_excel_sheet(make_node, tmp_path) -> None:  # type: ignore[no-untyped-def]
    node = make_node(heis=(HEI,))
    path = tmp_path / "catalogue.csv"
    path.write_bytes(sheet(";").encode("cp1252"))
    with pytest.raises(ImportFailed, match=r"catalogue.csv: row 2: byte 0xe9 is not UTF-8"):
        import_file(node.ctx.sessions, path, {HEI})
    report = import_file(node.ctx.sessions, path, {HEI}, encoding="cp1252")
    assert report.counts["courses", Change.CREATED] == 1


def test_missing_term_dates_are_named() -> None:
    rows = [row[:8] for row in SHEET]  # academic_year_id and a name, without term_start / term_end
    from ewp_node.publish.importer import check

    document, labels = read_csv(sheet(",", rows))
    with pytest.raises(InvalidRecords, match=r"academic_term.start_date"):
        check(document, {HEI}, labels=labels)


def test_csv_export_round_trip(loaded_node, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from ewp_node.publish.export import export_document

    node = loaded_node()
    with node.ctx.sessions() as session:
        document = export_document(session, HEI)
    text, dropped = write_csv(HEI, document["courses"], delimiter=";")
    assert text.splitlines()[0].startswith("hei_id;los_id;")
    path = tmp_path / "export.csv"
    path.write_text(text, encoding="utf-8")
    report = import_file(node.ctx.sessions, path, {HEI})
    assert not report.changed or dropped, (report.summary(), dropped)
    if not dropped:
        assert report.counts["courses", Change.UNCHANGED] == len(document["courses"])

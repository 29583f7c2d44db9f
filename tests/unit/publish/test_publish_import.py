"""Import and export of published data: all or nothing, precise errors, idempotence, round trip, CSV,
demo data, and the official response examples imported, served back and valid."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree

from ewp_node.publish.export import export_document
from ewp_node.publish.importer import ImportFailed, import_document, import_file
from ewp_node.publish.repository import Change

HEI = "uni-a.example.eu"


def _state(node) -> dict:  # type: ignore[no-untyped-def,type-arg]
    with node.ctx.sessions() as session:
        return export_document(session, HEI)


@pytest.mark.parametrize(("edit", "expected"), [
    (lambda d: d["courses"][0]["instances"][0].update(start="2024-13-01"),
     "courses[0] (CR/alg1), field 'instances[0].start': '2024-13-01' is not a date YYYY-MM-DD"),
    (lambda d: d["courses"][1].update(los_id="XX/1"), "courses[1], field 'los_id': 'XX/1' is not a LOS id"),
    (lambda d: d["courses"][1].update(type="Module"),
     "courses[1] (CR/ana1), field 'type': 'Module' contradicts the id prefix"),
    (lambda d: d["courses"][0].update(ounit_id="nowhere"),
     "courses[0] (CR/alg1), field 'ounit_id': 'nowhere' is not an ounit of uni-a.example.eu"),
    (lambda d: d["ounits"][1].update(parent_ounit_id="ghost"),
     "ounits[1] (sci), field 'parent_ounit_id': 'ghost' is not an ounit"),
    (lambda d: d["institution"]["contacts"][0].update(emails=["not-an-email"]),
     "institution, field 'contacts[0].emails[0]': 'not-an-email' is not an e-mail address"),
    (lambda d: d["factsheet"]["calendar"]["student_nominations"].update(autumn_term="04-10"),
     "factsheet, field 'calendar.student_nominations.autumn_term': '04-10' is not a --MM-DD"),
    (lambda d: d.update(hei_id="elsewhere.example.eu"),
     "document, field 'hei_id': 'elsewhere.example.eu' is not a HEI"),
    (lambda d: d["courses"].append(dict(d["courses"][1])), "courses[3], field 'los_id': 'CR/ana1' is also given by"),
    (lambda d: d["files"][0].update(content_base64="%%%"), "files[0] (guide-2025), field 'content_base64'"),
])
def test_bad_file_changes_nothing_and_says_what(loaded_node, small_document, edit, expected):  # type: ignore[no-untyped-def]
    node = loaded_node()
    before = _state(node)
    small_document["courses"][1]["titles"] = ["Changed, but the file is bad"]
    edit(small_document)
    with pytest.raises(ImportFailed) as failure:
        import_document(node.ctx.sessions, small_document, {HEI}, source="bad.json")
    assert f"bad.json: {expected}" in str(failure.value)
    assert _state(node) == before


def test_reimport_changes_nothing_and_counts(make_node, small_document):  # type: ignore[no-untyped-def]
    node = make_node()
    first = import_document(node.ctx.sessions, small_document, {HEI}, source="a.json")
    assert first.counts["courses", Change.CREATED] == 3 and first.changed
    before = _state(node)
    again = import_document(node.ctx.sessions, small_document, {HEI}, source="a.json")
    assert not again.changed and again.counts["courses", Change.UNCHANGED] == 3
    assert _state(node) == before


def test_explicit_deletes_and_references(loaded_node, small_document):  # type: ignore[no-untyped-def]
    node = loaded_node()
    doc = {"format": "ewp-node-publish/1", "hei_id": HEI, "delete": {"ounits": ["sci"]}}
    with pytest.raises(ImportFailed, match="ounit 'sci' is still used by CR/alg1"):
        import_document(node.ctx.sessions, doc, {HEI}, source="del.json")
    doc["delete"] = {"courses": ["CR/alg1", "CR/never"], "files": ["iia-other"], "factsheet": True}
    report = import_document(node.ctx.sessions, doc, {HEI}, source="del.json")
    assert report.counts["courses", Change.DELETED] == 1 and report.counts["courses", Change.UNCHANGED] == 1
    state = _state(node)
    assert [c["los_id"] for c in state["courses"]] == ["CR/ana1", "CR/hidden"] and "factsheet" not in state
    assert not import_document(node.ctx.sessions, doc, {HEI}, source="del.json").changed


def test_export_round_trip(loaded_node, tmp_path):  # type: ignore[no-untyped-def]
    node = loaded_node()
    exported = _state(node)
    path = tmp_path / "export.json"
    path.write_text(json.dumps(exported), encoding="utf-8")
    assert not import_file(node.ctx.sessions, path, {HEI}).changed
    other = loaded_node()
    with other.ctx.sessions.begin() as session:
        from ewp_node.publish.models import Los

        session.query(Los).delete()
    assert import_file(other.ctx.sessions, path, {HEI}).counts["courses", Change.CREATED] == 3
    assert _state(other) == exported


CSV = """hei_id,los_id,los_code,ounit_id,title:en,title:fr,isced_code,eqf_level,open_to_incoming,loi_id,start,end,\
academic_year_id,term_id,term_name:en,term_start,term_end,ects,credit_level,language_of_instruction,action
uni-a.example.eu,CR/bio1,BIO101,sci,Cell biology,Biologie cellulaire,0511,6,yes,CRI/bio1-a,2025-09-08,2026-01-16,\
2025/2026,2025/2026-1/2,Autumn 2025,2025-09-08,2026-01-16,5,Bachelor,fr,
uni-a.example.eu,CR/bio1,,,,,,,,CRI/bio1-b,2026-09-07,2027-01-15,,,,,,5,Bachelor,en,
uni-a.example.eu,CR/ana1,,,,,,,,,,,,,,,,,,,delete
"""


def test_csv_catalogue(loaded_node, tmp_path, validate_official):  # type: ignore[no-untyped-def]
    node = loaded_node()
    path = tmp_path / "catalogue.csv"
    path.write_text(CSV, encoding="utf-8")
    report = import_file(node.ctx.sessions, path, {HEI})
    assert report.counts["courses", Change.CREATED] == 1 and report.counts["courses", Change.DELETED] == 1
    assert not import_file(node.ctx.sessions, path, {HEI}).changed
    response = node.call("GET", "/ewp/courses", [("hei_id", HEI), ("los_code", "BIO101")])
    validate_official(response.data)
    assert response.data.count(b"<learningOpportunityInstance>") == 2
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV.replace("2026-09-07", "2026-09-31"), encoding="utf-8")
    with pytest.raises(ImportFailed, match=r"bad.csv: rows 2, 3 \(CR/bio1\), field 'instances\[1\].start'"):
        import_file(node.ctx.sessions, bad, {HEI})


@pytest.mark.parametrize("dataset", ["fr", "pl"])
def test_demo_data_on_any_hei(make_node, dataset, validate_official):  # type: ignore[no-untyped-def]
    from ewp_node.publish.cli import load_demo_data

    node = make_node(heis=("fresh-node.example.org",))
    load_demo_data(node.ctx.sessions, "fresh-node.example.org", dataset)
    load_demo_data(node.ctx.sessions, "fresh-node.example.org", dataset)
    ids = etree.fromstring(node.call("GET", "/ewp/course-replication", [("hei_id", "fresh-node.example.org")]).data)
    assert len(ids) >= 150
    hei = [("hei_id", "fresh-node.example.org")]
    for path, params in [("/ewp/institutions", hei), ("/ewp/factsheet", hei),
                         ("/ewp/ounits", hei + [("ounit_id", "root")]),
                         ("/ewp/courses", hei + [("los_id", e.text) for e in ids[:100]]),
                         ("/ewp/file", [("file_id", f"guide-{dataset}-2025")])]:
        response = node.call("POST", path, params)
        assert response.status_code == 200, response.data
        if path != "/ewp/file":
            validate_official(response.data)
        else:
            assert response.data.startswith(b"%PDF-1.4") and response.data.rstrip().endswith(b"%%EOF")


# -- the official response examples: read, imported, served back, valid -------------------------------------

def _official_document(specs_dir: Path) -> dict:  # type: ignore[type-arg]
    """Test helper: the official Institutions, OUnits, Courses and Factsheet examples as one import document
    for the example's HEI. The examples reference ounits they do not describe (the institution's ounit ids,
    the ounit's parent): the helper adds a minimal ounit for each, as a real export would contain them."""
    from ewp_node.publish import from_xml
    from ewp_node.xml.ns import COURSES, FACTSHEET, INSTITUTIONS, OUNITS
    from ewp_node.xml.parse import parse_xml

    def root(name: str) -> etree._Element:
        return parse_xml((specs_dir / name / "response-example.xml").read_bytes())

    institutions = root("ewp-specs-api-institutions")
    hei_id, institution, ounit_ids = from_xml.read_hei(institutions.find(f"{{{INSTITUTIONS}}}hei"))
    ounits = [from_xml.read_ounit(el) for el in root("ewp-specs-api-ounits").findall(f"{{{OUNITS}}}ounit")]
    referenced = ounit_ids + [o["parent_ounit_id"] for o in ounits if o.get("parent_ounit_id")]
    stubs = [{"ounit_id": i, "ounit_code": i, "names": [f"Unit {i}"]} for i in dict.fromkeys(referenced)
             if i not in {o["ounit_id"] for o in ounits}]
    courses = [from_xml.read_los(el) for el in root("ewp-specs-api-courses").findall(
        f"{{{COURSES}}}learningOpportunitySpecification")]
    _, factsheet = from_xml.read_factsheet(root("ewp-specs-api-factsheet").find(f"{{{FACTSHEET}}}factsheet"))
    return {"format": "ewp-node-publish/1", "hei_id": hei_id, "institution": institution, "ounits": stubs + ounits,
            "courses": courses, "factsheet": factsheet}


def test_official_examples_round_trip(make_node, specs_dir, validate_official):  # type: ignore[no-untyped-def]
    document = _official_document(specs_dir)
    node = make_node(heis=(document["hei_id"],))
    import_document(node.ctx.sessions, document, {document["hei_id"]}, source="official examples")
    hei = [("hei_id", "uio.no")]
    for path, params, must_contain in [
        ("/ewp/institutions", hei, [b"N Oslo01", b"Ivan Petrovich", b"<ounit-id>hf.uio.no</ounit-id>", b"0316"]),
        ("/ewp/ounits", hei + [("ounit_id", "73")], [b"10000000", b"Wydzia\xc5\x82", b"<parent-ounit-id>5<"]),
        ("/ewp/courses", hei + [("los_id", "CR/f6d14b1f-f330-4956-8819-e24feb12d519"),
                                ("los_id", "DEP/a1a43018-558c-45ed-a187-3c966e7bac77")],
         [b"CRI/13466290", b"no-vt", b'count="159"', b"CLS/06e518cc", b"Degree Programme"]),
        ("/ewp/factsheet", hei, [b"--04-19", b"Recognition process", b"Portfolio"]),
    ]:
        response = node.call("GET", path, params)
        assert response.status_code == 200, response.data
        validate_official(response.data)
        for fragment in must_contain:
            assert fragment in response.data, (path, fragment)
    with node.ctx.sessions() as session:
        assert not import_document(node.ctx.sessions, export_document(session, "uio.no"), {"uio.no"},
                                   source="again").changed

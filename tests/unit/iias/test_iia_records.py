"""IIA records, XML and validation: what ``build`` writes validates against the official v7 XSD, ``parse``
reads it back into the same record (and reads the official example), the JSON form round-trips, and the
rules of the XSD and its prose are reported by field."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from ewp_node.iias.build import (
    GivenApproval,
    IiaStats,
    build_approval_response,
    build_empty_response,
    build_get_response,
    build_iia,
    build_index_response,
    build_stats_response,
)
from ewp_node.iias.hash import hash_iia
from ewp_node.iias.parse import parse_get_response
from ewp_node.iias.records import Iia, MobilityKind, from_data, to_data
from ewp_node.iias.validate import InvalidIia, check_iia
from ewp_node.responses import serialize
from ewp_node.xml.ns import IIA_APPROVAL_CNR, IIA_CNR
from ewp_node.xml.parse import MalformedDocument


def _served(iia: Iia) -> bytes:
    return serialize(build_get_response([build_iia(iia, hash_iia(build_iia(iia, None)).sha256)]))


def test_every_condition_kind_builds_a_valid_get_response(raw_iia, validate_official) -> None:  # type: ignore[no-untyped-def]
    iia = check_iia(raw_iia)
    assert [c.kind for c in iia.conditions] == list(MobilityKind)
    document = _served(iia)
    validate_official(document)
    root = etree.fromstring(document)
    spec = root.find(".//{*}student-studies-mobility-spec")
    assert [etree.QName(e).localname for e in spec][:4] == ["sending-hei-id", "sending-ounit-id", "sending-contact",
                                                             "receiving-hei-id"]
    assert spec.findtext("{*}total-months-per-year") == "10.5"
    assert root.findtext(".//{*}staff-teacher-mobility-spec/{*}total-days-per-year") == "5"
    assert root.find(".//{*}partner/{*}signing-contact/{*}contact-name") is not None


def test_terminated_and_migrated_markers_are_written(raw_iia, validate_official) -> None:  # type: ignore[no-untyped-def]
    raw_iia["terminated_as_a_whole"] = True
    condition = raw_iia["conditions"][0]
    condition["mobilities_per_year_not_yet_defined"] = True
    condition["subject_areas"][0]["v6_value"] = "061"
    condition["recommended_language_skills"][0]["not_yet_defined"] = True
    iia = check_iia(raw_iia)
    document = _served(iia)
    validate_official(document)
    root = etree.fromstring(document)
    assert root.find(".//{*}cooperation-conditions").get("terminated-as-a-whole") == "true"
    assert root.find(".//{*}mobilities-per-year").get("not-yet-defined") == "true"
    assert root.find(".//{*}recommended-language-skill").get("not-yet-defined") == "true"
    assert root.find(".//{*}isced-f-code[@v6-value]").get("v6-value") == "061"
    assert not hash_iia(root.find("{*}iia")).valid_for_approval
    [received] = parse_get_response(document)
    assert received.record == iia


def test_json_form_and_xml_round_trip(raw_iia) -> None:  # type: ignore[no-untyped-def]
    iia = check_iia(raw_iia)
    assert from_data(Iia, to_data(iia)) == iia
    assert check_iia(to_data(iia)) == iia  # what export writes, import reads
    [received] = parse_get_response(_served(iia))
    assert received.problems == () and received.record == iia
    assert received.iia_id == "iia-1"
    assert received.declared_hash == hash_iia(etree.fromstring(received.element)).sha256


def test_official_example_parses(specs_dir: Path) -> None:
    data = (specs_dir / "ewp-specs-api-iias" / "endpoints" / "get-response-example.xml").read_bytes()
    [received] = parse_get_response(data)
    assert received.problems == ()
    assert received.record is not None and len(received.record.conditions) >= 1
    assert received.declared_hash == hash_iia(etree.fromstring(received.element)).sha256


def test_parse_keeps_a_broken_copy_with_its_problems(raw_iia) -> None:  # type: ignore[no-untyped-def]
    document = _served(check_iia(raw_iia)).replace(b"<eqf-level>7</eqf-level>", b"<eqf-level>9</eqf-level>")
    [received] = parse_get_response(document)
    assert received.record is None and b"<eqf-level>9</eqf-level>" in received.element
    assert any("eqf_levels[1]" in p and "out of range" in p for p in received.problems), received.problems


def test_parse_refuses_other_documents() -> None:
    with pytest.raises(MalformedDocument, match="not an IIAs v7 get-response"):
        parse_get_response(b"<iias-get-response/>")
    with pytest.raises(MalformedDocument, match="DOCTYPE"):
        parse_get_response(b'<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')


@pytest.mark.parametrize(("change", "fragment"), [
    (lambda d: d["partners"].pop(), "exactly two partners"),
    (lambda d: d["partners"][1].update(hei_id="uni-a.example.eu"), "must be different HEIs"),
    (lambda d: d["conditions"][0].update(receiving_hei_id="other.example.eu"), "from one partner to the other"),
    (lambda d: d["conditions"][0].update(receiving_last_academic_year_id="2024/2025"), "is before the first"),
    (lambda d: d["conditions"][0].update(receiving_first_academic_year_id="2025/2027"), "two consecutive years"),
    (lambda d: d["conditions"][0].update(recommended_language_skills=[]), "at least 1 value"),
    (lambda d: d["conditions"][0]["subject_areas"][0].update(isced_f_code="061"), "four-digit ISCED"),
    (lambda d: d["conditions"][0].update(total_months_per_year="1.125"), "at most two decimals"),
    (lambda d: d["conditions"][2].update(blended=True), "do(es) not apply to staff teacher"),
    (lambda d: d["conditions"][0].update(kind="student-mobility-spec"), "is not one of"),
    (lambda d: d["conditions"][0].update(mobilities_per_year=0), "out of range"),
    (lambda d: d["conditions"][0]["recommended_language_skills"][0].update(cefr_level="D1"), "CEFR level"),
    (lambda d: d["partners"][0]["contacts"][0].update(street_address={"locality": "Paris"}), "postal addresses"),
    (lambda d: d.update(colour="blue"), "colour"),
])
def test_rules_are_reported_by_field(raw_iia, change, fragment) -> None:  # type: ignore[no-untyped-def]
    change(raw_iia)
    with pytest.raises(InvalidIia) as caught:
        check_iia(raw_iia, label="iias[0]")
    assert fragment in str(caught.value) and "iias[0]" in str(caught.value)


def test_other_responses_validate(validate_official) -> None:  # type: ignore[no-untyped-def]
    validate_official(serialize(build_index_response(["a", "b"])))
    validate_official(serialize(build_index_response([])))
    validate_official(serialize(build_stats_response(IiaStats(4, 1, 1, 2))))
    validate_official(serialize(build_approval_response([GivenApproval("p-77", "a" * 64),
                                                         GivenApproval("p-78", "b" * 64, "pdf-1")])))
    validate_official(serialize(build_empty_response(IIA_CNR, "iia-cnr-response")))
    validate_official(serialize(build_empty_response(IIA_APPROVAL_CNR, "iia-approval-cnr-response")))

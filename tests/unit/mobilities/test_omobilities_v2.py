"""Reading a partner still on OMobilities v2: the official v2 examples parse into the records a v3 document
gives (what v2 lacks left empty), and a v2 mobility without what our record needs is refused."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from lxml import etree

from ewp_node.mobilities.build import OMOBILITIES_INDEX
from ewp_node.mobilities.parse import (
    OMOBILITIES_V2_GET,
    OMOBILITIES_V2_INDEX,
    InvalidDocument,
    parse_omobilities_get,
    parse_omobilities_index,
    parse_omobilities_v2_get,
)
from ewp_node.mobilities.records import Direction, LanguageSkill, NominationStatus, Party

V2 = "ewp-specs-api-omobilities/endpoints"


@pytest.fixture
def v2_example(specs_dir: Path, validate_official) -> bytes:  # type: ignore[no-untyped-def]
    """The official OMobilities v2 get response example (checked valid against the v2 XSD first)."""
    data = (specs_dir / V2 / "get-response-example.xml").read_bytes()
    validate_official(data)
    return data


def _edited(data: bytes, edit) -> bytes:  # type: ignore[no-untyped-def]
    root = etree.fromstring(data)
    edit(root.find(f"{{{OMOBILITIES_V2_GET}}}student-mobility"))
    return etree.tostring(root)


def _drop(*locals_: str):  # type: ignore[no-untyped-def]
    def edit(mobility: etree._Element) -> None:
        for local in locals_:
            for el in mobility.iter(f"{{{OMOBILITIES_V2_GET}}}{local}"):
                el.getparent().remove(el)
    return edit


def test_the_official_v2_example_reads_as_a_nomination(v2_example: bytes) -> None:
    [(mobility, raw)] = parse_omobilities_v2_get(v2_example)
    assert mobility.omobility_id == "c442c289-5541-4cae-9edb-8ad83e133613"
    assert mobility.direction is Direction.INCOMING
    assert mobility.sending == Party("uio.no", ounit_id="140", iia_id="dd87538e-49e3-44ae-844e-55ad1b819ce9")
    assert mobility.receiving == Party("uw.edu.pl", iia_id="549117543")
    assert (mobility.sending_term_id, mobility.receiving_academic_year_id) == ("2009/2010-2/2", "2009/2010")
    student = mobility.student
    assert (student.given_names, student.family_name) == ("Ivan Petrovich", "Sidorov")
    assert student.global_id == "urn:schac:personalUniqueCode:int:esi:uio.no:1234567890"
    assert (student.birth_date, student.citizenship, student.gender, student.email) == \
        (date(1985, 5, 5), "NO", 1, "ivan@example.com")
    # "live": the receiving HEI accepted the nomination; v2 has no proposal id, comment nor IIA subject area.
    assert mobility.nomination.status is NominationStatus.APPROVED
    assert (mobility.nomination.proposal_id, mobility.nomination.comment, mobility.agreement_isced_code) == \
        ("", None, None)
    assert (mobility.activity_type, mobility.activity_attributes) == ("student-studies", "long-term")
    assert (mobility.planned_arrival, mobility.planned_departure) == (date(2010, 2, 1), date(2010, 6, 20))
    assert (mobility.eqf_level, mobility.isced_code) == (8, "1234")  # the level at departure, not at nomination
    assert mobility.language_skills == (LanguageSkill("no", "C2"), LanguageSkill("en", "B2"),
                                        LanguageSkill("pl", "A1"))
    # Kept as received: the partner's element, in its v2 namespace, with what we do not read (photos...).
    kept = etree.fromstring(raw)
    assert kept.tag == f"{{{OMOBILITIES_V2_GET}}}student-mobility"
    assert len(kept.findall(f".//{{{OMOBILITIES_V2_GET}}}additional-requirement")) == 7


@pytest.mark.parametrize(("status", "expected"), [
    ("nomination", NominationStatus.PENDING), ("live", NominationStatus.APPROVED),
    ("recognized", NominationStatus.APPROVED), ("cancelled", NominationStatus.CANCELLED)])
def test_v2_statuses_map_to_nomination_statuses(v2_example: bytes, validate_official,  # type: ignore[no-untyped-def]
                                                status: str, expected: NominationStatus) -> None:
    def edit(mobility: etree._Element) -> None:
        mobility.find(f"{{{OMOBILITIES_V2_GET}}}status").text = status  # type: ignore[union-attr]

    data = _edited(v2_example, edit)
    validate_official(data)
    [(mobility, _)] = parse_omobilities_v2_get(data)
    assert mobility.nomination.status is expected


def test_optional_v2_parts_fall_back(v2_example: bytes, validate_official) -> None:  # type: ignore[no-untyped-def]
    """No level at departure: the one at nomination; a skill without a CEFR level is left out; no dates."""
    def edit(mobility: etree._Element) -> None:
        _drop("eqf-level-studied-at-departure", "planned-arrival-date", "planned-departure-date")(mobility)
        skill = mobility.find(f"{{{OMOBILITIES_V2_GET}}}nominee-language-skill")
        skill.remove(skill.find(f"{{{OMOBILITIES_V2_GET}}}cefr-level"))  # type: ignore[union-attr, arg-type]

    data = _edited(v2_example, edit)
    validate_official(data)
    [(mobility, _)] = parse_omobilities_v2_get(data)
    assert mobility.eqf_level == 7
    assert mobility.language_skills == (LanguageSkill("en", "B2"), LanguageSkill("pl", "A1"))
    assert (mobility.planned_arrival, mobility.planned_departure) == (None, None)


@pytest.mark.parametrize(("dropped", "message"), [
    (("birth-date",), "<student> has no <birth-date>"),
    (("citizenship",), "<student> has no <citizenship>"),
    (("email",), "<student> has no <email>"),
    (("eqf-level-studied-at-departure", "eqf-level-studied-at-nomination"), "no EQF level"),
    (("nominee-isced-f-code",), "has no <nominee-isced-f-code>"),
])
def test_a_v2_mobility_without_what_our_record_needs_is_refused(  # type: ignore[no-untyped-def]
        v2_example: bytes, validate_official, dropped: tuple[str, ...], message: str) -> None:
    data = _edited(v2_example, _drop(*dropped))
    validate_official(data)  # optional in v2: the partner's document is valid
    with pytest.raises(InvalidDocument, match=message):
        parse_omobilities_v2_get(data)


def test_each_major_reads_only_its_own_namespace(v2_example: bytes) -> None:
    with pytest.raises(InvalidDocument, match="stable-v3"):
        parse_omobilities_get(v2_example)
    v3 = v2_example.replace(b"/stable-v2/endpoints/get-response.xsd", b"/stable-v3/endpoints/get-response.xsd")
    with pytest.raises(InvalidDocument, match="stable-v2"):
        parse_omobilities_v2_get(v3)


def test_the_official_v2_index_example_parses(specs_dir: Path, validate_official) -> None:  # type: ignore[no-untyped-def]
    data = (specs_dir / V2 / "index-response-example.xml").read_bytes()
    validate_official(data)
    assert parse_omobilities_index(data, OMOBILITIES_V2_INDEX) == [
        "2a83d860-b9c9-4baf-81f4-5110d217d273", "85912bfc-91d7-4379-b828-3324aab7140b",
        "752c2e10-4d21-45d4-ba8e-0d3f6e5ff7ca"]
    with pytest.raises(InvalidDocument):
        parse_omobilities_index(data, OMOBILITIES_INDEX)

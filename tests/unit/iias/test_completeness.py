"""The completeness check names each field partners complain about."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ewp_node.iias.completeness import check
from ewp_node.iias.records import SubjectArea
from ewp_node.iias.validate import check_iia


def test_a_complete_iia_has_no_gap(raw_iia: dict[str, Any]) -> None:
    assert check(check_iia(raw_iia)) == ()


def test_each_complaint_is_reported_by_field(raw_iia: dict[str, Any]) -> None:
    iia = check_iia(raw_iia)
    owner, partner = iia.partners
    no_contacts = replace(partner, contacts=())
    studies = replace(iia.conditions[0], subject_areas=(), mobilities_per_year=0)
    teaching = replace(iia.conditions[2], recommended_language_skills=(),
                       subject_areas=(SubjectArea(isced_f_code="0410", v6_value="41"),))
    migrated = replace(iia.conditions[3], mobilities_per_year_not_yet_defined=True)
    iia = replace(iia, partners=(owner, no_contacts), conditions=(studies, iia.conditions[1], teaching, migrated))
    assert [str(gap) for gap in check(iia)] == [
        "partners[partner.example.eu].contacts: no contact person",
        "conditions[1] (student studies).mobilities_per_year: no mobilities per year",
        "conditions[1] (student studies).subject_areas: no subject area (ISCED-F code)",
        "conditions[3] (staff teacher).subject_areas[1].isced_f_code: ISCED-F code '0410' is not a 4-digit v7 code",
        "conditions[3] (staff teacher).recommended_language_skills: no recommended language skill",
        "conditions[4] (staff training).mobilities_per_year: number of mobilities per year not yet defined",
    ]


def test_contacts_named_by_a_condition_count_for_their_hei(raw_iia: dict[str, Any]) -> None:
    iia = check_iia(raw_iia)
    owner, partner = iia.partners
    contact = partner.contacts[0]
    first = replace(iia.conditions[0], receiving_contacts=(contact,))
    iia = replace(iia, partners=(owner, replace(partner, contacts=())), conditions=(first, *iia.conditions[1:]))
    assert check(iia) == ()
    no_email = replace(contact, emails=())
    first = replace(first, receiving_contacts=(no_email,))
    gaps = check(replace(iia, conditions=(first, *iia.conditions[1:])))
    assert [str(g) for g in gaps] == ["partners[partner.example.eu].contacts: no contact has an e-mail address"]


def test_years_out_of_order_are_a_gap(raw_iia: dict[str, Any]) -> None:
    iia = check_iia(raw_iia)
    backwards = replace(iia.conditions[0], receiving_first_academic_year_id="2028/2029")
    gaps = check(replace(iia, conditions=(backwards, *iia.conditions[1:])))
    assert [g.field for g in gaps] == ["conditions[1] (student studies).receiving_last_academic_year_id"]

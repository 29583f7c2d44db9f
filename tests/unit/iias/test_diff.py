"""Comparing our copy with the partner's: each difference named by field, in words people read."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from ewp_node.iias.diff import compare
from ewp_node.iias.records import Iia
from ewp_node.iias.validate import check_iia


def _copies(raw_iia: dict[str, Any]) -> tuple[Iia, Iia]:
    """Our copy and the partner's copy of the same agreement (partners swapped, as the partner serves it)."""
    ours = check_iia(raw_iia)
    return ours, replace(ours, partners=(ours.partners[1], ours.partners[0]), pdf_file="their-pdf")


def test_matching_copies_have_no_difference(raw_iia: dict[str, Any]) -> None:
    ours, theirs = _copies(raw_iia)
    assert compare(ours, theirs) == ()


def test_a_changed_number_of_mobilities_is_told_with_years_and_unit(raw_iia: dict[str, Any]) -> None:
    raw_iia["conditions"][0]["receiving_first_academic_year_id"] = "2026/2027"
    raw_iia["conditions"][0]["receiving_last_academic_year_id"] = "2026/2027"
    ours, theirs = _copies(raw_iia)
    changed = replace(theirs.conditions[0], mobilities_per_year=3)
    theirs = replace(theirs, conditions=(changed, *theirs.conditions[1:]))
    (difference,) = compare(ours, theirs)
    assert difference.field == (
        "conditions[student studies uni-a.example.eu→partner.example.eu (sci) #1].mobilities_per_year")
    assert (difference.ours, difference.theirs) == ("2", "3")
    assert difference.text == ("student studies uni-a.example.eu→partner.example.eu (sci), 2026/2027: "
                               "partner says 3 students/year, we say 2")


def test_lists_partners_and_missing_conditions_are_described(raw_iia: dict[str, Any]) -> None:
    ours, theirs = _copies(raw_iia)
    first = replace(theirs.conditions[0], eqf_levels=(6,), subject_areas=())
    partner = replace(theirs.partners[0], iia_id="p-78")
    theirs = replace(theirs, partners=(partner, theirs.partners[1]), conditions=(first, *theirs.conditions[1:3]))
    texts = {d.field: d.text for d in compare(ours, theirs)}
    studies = "conditions[student studies uni-a.example.eu→partner.example.eu (sci) #1]"
    assert texts["partners[partner.example.eu].iia_id"] == (
        "partner partner.example.eu: IIA id: partner says p-78, we say p-77")
    assert texts[f"{studies}.eqf_levels"].endswith("EQF levels: partner says 6, we say 6; 7")
    assert texts[f"{studies}.subject_areas"].endswith(
        "subject areas (ISCED-F): partner says nothing, we say 0613 Software engineering")
    assert texts["conditions[staff training partner.example.eu→uni-a.example.eu #1]"] == (
        "staff training partner.example.eu→uni-a.example.eu, 2026/2027-2027/2028: only in our copy")


def test_booleans_read_naturally_and_decimals_compare_as_written(raw_iia: dict[str, Any]) -> None:
    ours, theirs = _copies(raw_iia)
    (difference,) = compare(ours, replace(theirs, in_effect=False))
    assert difference.text == "agreement: in effect: partner says no, we say yes"
    first = replace(theirs.conditions[0], total_months_per_year=Decimal("10.50"))
    (difference,) = compare(ours, replace(theirs, conditions=(first, *theirs.conditions[1:])))
    assert difference.text.endswith("total months per year: partner says 10.50, we say 10.5")


def test_what_a_copy_leaves_out_about_a_partner_is_no_difference(raw_iia: dict[str, Any]) -> None:
    ours, theirs = _copies(raw_iia)
    owner, partner = theirs.partners
    silent = replace(partner, iia_code=None, signing_contact=None, signing_date=None, contacts=())
    assert compare(ours, replace(theirs, partners=(owner, silent))) == ()
    other_code = replace(partner, iia_code="B/2025/9")
    (difference,) = compare(ours, replace(theirs, partners=(owner, other_code)))
    assert difference.text == "partner uni-a.example.eu: IIA code: partner says B/2025/9, we say A/2025/1"

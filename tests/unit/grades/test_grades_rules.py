"""Grade conversion rules, input validation, per-partner policy; property tests with hypothesis."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ewp_node.grades import (
    ConversionPolicy,
    GradeDistribution,
    GradingScale,
    InvalidDistribution,
    MissingDistribution,
    PolicyEntry,
    Rule,
    UnknownGrade,
    convert,
)

ES = GradingScale("ES-0-10", ("MH", "10", "9", "8", "7", "6", "5"), failing=("4",), decimal_bands=True)
ECTS = GradingScale("ECTS", ("A", "B", "C", "D", "E"), failing=("FX", "F"))
ES_TABLE = GradeDistribution.from_counts(ES, {"MH": 15, "10": 10, "9": 70, "8": 160, "7": 260, "6": 250, "5": 235})
ECTS_TABLE = GradeDistribution.from_counts(ECTS, {"A": 100, "B": 250, "C": 300, "D": 250, "E": 100})


def test_decimal_grades_fall_into_their_band() -> None:
    conversion = convert("7,8", ES_TABLE, ECTS_TABLE)
    assert (conversion.source_label, conversion.target_grade) == ("7", "C")
    assert "7,8 (band 7)" in conversion.explain()


def test_failing_grade_maps_to_the_home_failing_grade() -> None:
    conversion = convert("4", ES_TABLE, ECTS_TABLE)
    assert (conversion.target_grade, conversion.rule, conversion.source_range) == ("FX", None, None)
    assert "failing grade" in conversion.explain()


def test_failing_grade_without_home_failing_grade_is_not_guessed() -> None:
    no_fail = GradeDistribution.from_counts(GradingScale("NF", ("A", "B")), {"A": 1, "B": 1})
    with pytest.raises(UnknownGrade, match="convert by hand"):
        convert("4", ES_TABLE, no_fail)


@pytest.mark.parametrize("grade", ["11", "excellent", ""])
def test_unknown_grade_goes_to_manual_handling(grade: str) -> None:
    with pytest.raises(UnknownGrade, match="not a passing grade of scale ES-0-10"):
        convert(grade, ES_TABLE, ECTS_TABLE)


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ([("A", 1), ("A", 2)], "listed twice"),
        ({"A": 1, "Q": 2}, "unknown grades"),
        ({"A": -1, "B": 2}, "non-negative integers"),
        ({"A": 1.5, "B": 2}, "non-negative integers"),
        ({"A": 0, "B": 0}, "at least one count must be non-zero"),
    ],
)
def test_invalid_distributions_are_rejected(counts: object, message: str) -> None:
    with pytest.raises(InvalidDistribution, match=message):
        GradeDistribution.from_counts(GradingScale("S", ("A", "B")), counts)  # type: ignore[arg-type]


def test_scale_labels_must_be_unique() -> None:
    with pytest.raises(InvalidDistribution, match="unique"):
        GradingScale("S", ("A", "B"), failing=("A",))


# --- per-partner, per-field policy ---------------------------------------------------------------------

IT = GradingScale("IT-18-30", ("30L", "30", "29", "28", "27", "26", "25", "24", "23", "22", "21", "20", "19", "18"))
IT_LAW = GradeDistribution.from_counts(
    IT, dict(zip(IT.labels, (60, 210, 150, 230, 260, 240, 210, 190, 150, 120, 90, 70, 40, 30), strict=True))
)
HOME = GradingScale("HOME", ("A", "B", "C"))
HOME_LAW = GradeDistribution.from_counts(HOME, {"A": 20, "B": 50, "C": 30})
HOME_ANY = GradeDistribution.from_counts(HOME, {"A": 10, "B": 10, "C": 80})

POLICY = ConversionPolicy(
    [
        PolicyEntry("", IT, HOME_ANY, partner_hei="unibo.it"),
        PolicyEntry("04", IT, HOME_LAW, partner_hei="unibo.it", source_table=IT_LAW, rule=Rule.OVERLAP),
        PolicyEntry("0421", IT, HOME_LAW),
    ]
)


def test_longest_isced_prefix_then_partner_specific_entry_wins() -> None:
    assert POLICY.entry_for("unibo.it", "0421").partner_hei is None
    assert POLICY.entry_for("unibo.it", "0413").isced_prefix == "04"
    assert POLICY.entry_for("unibo.it", "0311").isced_prefix == ""
    assert POLICY.entry_for("unibo.it", None).isced_prefix == ""


def test_missing_configuration_is_an_error() -> None:
    with pytest.raises(MissingDistribution, match="partner uw.edu.pl and ISCED 0311"):
        POLICY.entry_for("uw.edu.pl", "0311")


def test_document_distribution_is_used_before_configured_table() -> None:
    from_document = POLICY.convert("30", partner_hei="unibo.it", isced_code="0413", host_counts=[("30", 1), ("18", 1)])
    assert from_document.source_range == (0, 50)
    configured = POLICY.convert("30", partner_hei="unibo.it", isced_code="0413")
    assert configured.rule is Rule.OVERLAP and configured.source_range != (0, 50)


def test_no_distribution_anywhere_is_never_guessed() -> None:
    with pytest.raises(MissingDistribution, match="the document carries none and none is configured"):
        POLICY.convert("28", partner_hei="unibo.it", isced_code="0311")


def test_duplicate_policy_entries_are_refused() -> None:
    with pytest.raises(ValueError, match="same partner and ISCED prefix"):
        ConversionPolicy([PolicyEntry("04", IT, HOME_LAW), PolicyEntry("04", IT, HOME_ANY)])


# --- properties --------------------------------------------------------------------------------------


@st.composite
def distributions(draw: st.DrawFn, name: str) -> GradeDistribution:
    size = draw(st.integers(min_value=1, max_value=8))
    counts = draw(st.lists(st.integers(0, 60), min_size=size, max_size=size).filter(any))
    scale = GradingScale(name, tuple(f"{name}{i}" for i in range(size)))
    return GradeDistribution(scale, tuple(counts))


@given(distributions("s"), distributions("t"), st.sampled_from(list(Rule)))
def test_total_and_monotonic(source: GradeDistribution, target: GradeDistribution, rule: Rule) -> None:
    targets = [convert(label, source, target, rule).target_grade for label in source.scale.labels]
    positions = [target.scale.labels.index(t) for t in targets]
    assert positions == sorted(positions)  # a better source grade never gets a worse target grade
    assert all(target.counts[p] > 0 for p in positions)  # never a grade nobody was awarded


@given(distributions("s"), distributions("t"), st.sampled_from(list(Rule)), st.randoms(use_true_random=False))
def test_stable_under_reordering_of_the_distribution(
    source: GradeDistribution, target: GradeDistribution, rule: Rule, rng: random.Random
) -> None:
    pairs = list(zip(source.scale.labels, source.counts, strict=True))
    rng.shuffle(pairs)
    shuffled = GradeDistribution.from_counts(source.scale, pairs)
    assert shuffled == source
    for label in source.scale.labels:
        assert convert(label, shuffled, target, rule) == convert(label, source, target, rule)

"""Grade conversion against vectors/grade-conversion.json (GRADE-CONVERSION.md): 73 grades x 3 rules."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ewp_node.grades import GradeDistribution, Rule, convert, distributions_from_json


@pytest.fixture(scope="module")
def vectors(vectors_dir: Path) -> dict[str, Any]:
    return json.loads((vectors_dir / "grade-conversion.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def tables(vectors: dict[str, Any]) -> dict[str, GradeDistribution]:
    return distributions_from_json(vectors)


def test_every_expected_conversion(vectors: dict[str, Any], tables: dict[str, GradeDistribution]) -> None:
    checked, wrong = 0, []
    for pair in vectors["conversions"]:
        source, target = tables[pair["from"]], tables[pair["to"]]
        for case in pair["expected"]:
            results = {rule: convert(case["grade"], source, target, rule) for rule in Rule}
            got = {
                "midpoint": results[Rule.MIDPOINT].target_grade,
                "overlap": results[Rule.OVERLAP].target_grade,
                "range": list(results[Rule.MIDPOINT].overlapping),
            }
            expected = {key: case[key] for key in got}
            checked += 3
            if got != expected:
                wrong.append((pair["from"], pair["to"], case["grade"], got, expected))
    assert not wrong
    assert checked == 219


def test_intervals_match_the_published_rounded_values(
    vectors: dict[str, Any], tables: dict[str, GradeDistribution]
) -> None:
    for scale_id, scale in vectors["scales"].items():
        intervals = tables[scale_id].intervals()
        for row in scale["intervals"]:
            low, high = intervals[row["label"]]
            assert (round(float(low), 2), round(float(high), 2)) == (row["from"], row["to"]), scale_id


def test_explanation_names_grade_range_target_and_rule(tables: dict[str, GradeDistribution]) -> None:
    conversion = convert("28", tables["IT-18-30"], tables["FR-0-20"])
    assert conversion.target_grade == "14"
    assert conversion.explain() == (
        "IT-18-30 28 covers [20.49 %, 31.71 %] (midpoint 26.10 %) -> FR-0-20 14 covering "
        "[19.87 %, 27.48 %], midpoint rule; overlapping: 14, 13.5"
    )


def test_wide_interval_and_small_group_are_warned(tables: dict[str, GradeDistribution]) -> None:
    tiny = GradeDistribution.from_counts(tables["EDGE-A"].scale, {"X": 3, "Y": 3})
    conversion = convert("X", tiny, tables["EDGE-B"], Rule.OVERLAP)
    assert conversion.target_grade == "P"
    assert any("only 6 results" in w for w in conversion.warnings)
    assert any("spans 50.00 percentage points" in w for w in conversion.warnings)
    assert "warning:" in conversion.explain()

"""Our side of grade conversion (GRADE-CONVERSION.md): which host scale each partner uses and our own
reference tables, read from ``HOME/grade-conversion.json``, and the conversion of one received result.

The file holds ``scales`` in the format of ``vectors/grade-conversion.json`` (each scale's grades best first
with the counts of its reference group; failing grades apart) and ``partners``: ``{"hei_id": partner or
null for any, "isced_prefix": "04" or "", "host_scale": id, "home_scale": id, "rule": "midpoint"|"overlap"}``.
A host scale's counts there are the fallback host table when the transcript carries no distribution.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from ewp_node.grades import (
    ConversionPolicy,
    GradeConversionError,
    GradeDistribution,
    PolicyEntry,
    Rule,
    distributions_from_json,
)

#: The file in the node's home directory.
POLICY_FILE = "grade-conversion.json"


class PolicyUnreadable(ValueError):
    """The grade conversion file cannot be used; the message says why."""


def load_policy(home: Path) -> ConversionPolicy:
    """Read ``HOME/grade-conversion.json`` (absent: an empty policy, every grade is converted by hand).

    :raises PolicyUnreadable: unreadable JSON, unknown scales or rules, bad tables.
    """
    path = home / POLICY_FILE
    if not path.is_file():
        return ConversionPolicy([])
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        tables = distributions_from_json(data)
        return ConversionPolicy(_entry(tables, raw) for raw in data.get("partners", []))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PolicyUnreadable(f"{path}: {exc}") from None


def _entry(tables: Mapping[str, GradeDistribution], raw: Mapping[str, object]) -> PolicyEntry:
    host = tables[str(raw["host_scale"])]
    partner = raw.get("hei_id")
    return PolicyEntry(isced_prefix=str(raw.get("isced_prefix", "")), source_scale=host.scale,
                       target=tables[str(raw["home_scale"])], partner_hei=str(partner) if partner else None,
                       source_table=host, rule=Rule(str(raw.get("rule", Rule.MIDPOINT.value))))


def percentage_weights(rows: Sequence[tuple[str, Decimal]]) -> list[tuple[str, int]]:
    """A ToR ``iscedTable`` as integer weights with the same proportions (exact: percentages are decimals)."""
    places = max((max(-int(pct.as_tuple().exponent), 0) for _, pct in rows), default=0)
    return [(label, int(pct.scaleb(places))) for label, pct in rows]


@dataclass(frozen=True)
class ConversionOutcome:
    home_grade: str | None
    explanation: str
    overlapping: tuple[str, ...] = ()


def convert_result(policy: ConversionPolicy, grade: str, *, partner_hei: str, isced_code: str | None,
                   isced_table: Sequence[tuple[str, Decimal]] | None,
                   course_counts: Sequence[tuple[str, int]] | None) -> ConversionOutcome:
    """Convert one host grade: with the ToR's table for the course's ISCED code when it lists the grade, else
    the course's own distribution, else the configured host table. Never guesses: a grade that cannot be
    converted automatically has no home grade and says why."""
    counts: Sequence[tuple[str, int]] | None = course_counts
    source = "the course's distribution"
    if isced_table and grade in {label for label, _ in isced_table}:
        counts, source = percentage_weights(isced_table), f"the ToR table of ISCED {isced_code}"
    try:
        conversion = policy.convert(grade, partner_hei=partner_hei, isced_code=isced_code, host_counts=counts)
    except GradeConversionError as exc:
        return ConversionOutcome(None, f"not converted: {exc}")
    return ConversionOutcome(conversion.target_grade,
                             f"{conversion.explain()} (host table: {source if counts else 'configured'})",
                             conversion.overlapping)

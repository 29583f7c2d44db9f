"""Grade conversion by grade distributions (ECTS grading tables, EGRACONS method; GRADE-CONVERSION.md).

A host grade is placed in the host's reference group as an interval of cumulative percentages counted
from the best grade; the home grade is the one whose interval holds that position (midpoint rule, the
default) or shares the most of it (max-overlap rule). Arithmetic is exact (``Fraction``). Labels are
ordered by a configured :class:`GradingScale` (best first), never by sorting them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from fractions import Fraction

#: Quality thresholds (GRADE-CONVERSION.md section 3): below this many results a table is unreliable...
SMALL_REFERENCE_GROUP = 50
#: ...and a host grade wider than this many percentage points spans several home grades.
WIDE_INTERVAL = Fraction(20)

Interval = tuple[Fraction, Fraction]


class GradeConversionError(ValueError):
    """A grade cannot be converted automatically; the message says why (handle it by hand)."""


class InvalidDistribution(GradeConversionError):
    """A grading scale or distribution breaks the input rules (unique labels, counts, one non-zero)."""


class UnknownGrade(GradeConversionError):
    """The grade is not on the source scale (or is failing with no home failing grade configured)."""


class MissingDistribution(GradeConversionError):
    """No grade distribution is available for this partner and field: no conversion is guessed."""


class Rule(StrEnum):
    MIDPOINT = "midpoint"
    OVERLAP = "overlap"


@dataclass(frozen=True)
class GradingScale:
    """A grading scale: passing ``labels`` best first, ``failing`` labels (the first is this scale's
    failing grade when converting into it), and whether decimal grades fall into integer bands."""

    id: str
    labels: tuple[str, ...]
    failing: tuple[str, ...] = ()
    decimal_bands: bool = False

    def __post_init__(self) -> None:
        everything = self.labels + self.failing
        if not self.labels:
            raise InvalidDistribution(f"scale {self.id}: no passing grades")
        if len(set(everything)) != len(everything):
            raise InvalidDistribution(f"scale {self.id}: labels must be unique")

    def passing_label(self, grade: str) -> str | None:
        """The passing label ``grade`` stands for (its band for a decimal grade), or None."""
        if grade in self.labels:
            return grade
        if self.decimal_bands:
            try:
                band = str(int(Decimal(grade.replace(",", "."))))
            except (InvalidOperation, ValueError):
                return None
            if band in self.labels:
                return band
        return None


@dataclass(frozen=True)
class GradeDistribution:
    """Counts of passing grades in a reference group, aligned with ``scale.labels`` (best first)."""

    scale: GradingScale
    counts: tuple[int, ...]
    reference: str = ""

    def __post_init__(self) -> None:
        if len(self.counts) != len(self.scale.labels):
            raise InvalidDistribution(f"scale {self.scale.id}: one count per passing grade expected")
        if any(not isinstance(c, int) or isinstance(c, bool) or c < 0 for c in self.counts):
            raise InvalidDistribution(f"scale {self.scale.id}: counts must be non-negative integers")
        if not any(self.counts):
            raise InvalidDistribution(f"scale {self.scale.id}: at least one count must be non-zero")

    @classmethod
    def from_counts(
        cls, scale: GradingScale, counts: Iterable[tuple[str, int]] | Mapping[str, int], reference: str = ""
    ) -> GradeDistribution:
        """Build from ``(label, count)`` pairs in any order. Failing grades are left out of the
        percentiles; passing grades absent from ``counts`` count zero; unknown labels are an error."""
        pairs = list(counts.items() if isinstance(counts, Mapping) else counts)
        labels = [label for label, _ in pairs]
        if len(set(labels)) != len(labels):
            raise InvalidDistribution(f"scale {scale.id}: a grade is listed twice in the distribution")
        unknown = [label for label in labels if label not in scale.labels and label not in scale.failing]
        if unknown:
            raise InvalidDistribution(f"scale {scale.id}: unknown grades in the distribution: {unknown}")
        by_label = dict(pairs)
        return cls(scale, tuple(by_label.get(label, 0) for label in scale.labels), reference)

    @property
    def total(self) -> int:
        return sum(self.counts)

    def intervals(self) -> dict[str, Interval]:
        """Each passing label's cumulative percentage interval ``[from, to]`` counted from the best grade."""
        result: dict[str, Interval] = {}
        before = 0
        for label, count in zip(self.scale.labels, self.counts, strict=True):
            result[label] = (Fraction(100 * before, self.total), Fraction(100 * (before + count), self.total))
            before += count
        return result

    def awarded(self) -> list[tuple[str, Interval]]:
        """Labels with a non-zero count (the only possible conversion targets), best first."""
        intervals = self.intervals()
        return [(label, intervals[label]) for label, c in zip(self.scale.labels, self.counts, strict=True) if c]


@dataclass(frozen=True)
class Conversion:
    """A suggested home grade with what justifies it: grades, ranges, rule and the tables used (their
    ``reference`` texts). Ranges and midpoint are None for a failing grade."""

    source_scale: str
    target_scale: str
    source_grade: str
    source_label: str
    target_grade: str
    rule: Rule | None
    source_range: Interval | None = None
    midpoint: Fraction | None = None
    target_range: Interval | None = None
    overlapping: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    source_reference: str = ""
    target_reference: str = ""

    def explain(self) -> str:
        """One line for the student file: source grade, its percentile range, target grade, rule."""
        if self.rule is None:
            return (
                f"{self.source_scale} {self.source_grade} is a failing grade -> {self.target_scale} "
                f"{self.target_grade} (configured failing grade)"
            )
        assert self.source_range and self.target_range and self.midpoint is not None
        band = "" if self.source_label == self.source_grade else f" (band {self.source_label})"
        text = (
            f"{self.source_scale} {self.source_grade}{band} covers {_pct(self.source_range)} "
            f"(midpoint {float(self.midpoint):.2f} %) -> {self.target_scale} {self.target_grade} "
            f"covering {_pct(self.target_range)}, {self.rule.value} rule; "
            f"overlapping: {', '.join(self.overlapping)}"
        )
        return text + "".join(f"; warning: {w}" for w in self.warnings)


def _pct(interval: Interval) -> str:
    return f"[{float(interval[0]):.2f} %, {float(interval[1]):.2f} %]"


def _overlap(a: Interval, b: Interval) -> Fraction:
    return max(Fraction(0), min(a[1], b[1]) - max(a[0], b[0]))


def _contains(interval: Interval, point: Fraction) -> bool:
    return interval[0] <= point <= interval[1]


def _choose(rule: Rule, span: Interval, midpoint: Fraction, candidates: list[tuple[str, Interval]]) -> str:
    """Pick the home label. Candidates are best first, so the first match wins boundary ties."""
    if rule is Rule.MIDPOINT:
        return next(label for label, interval in candidates if _contains(interval, midpoint))
    best = max(_overlap(span, interval) for _, interval in candidates)
    tied = [(label, interval) for label, interval in candidates if _overlap(span, interval) == best]
    holding_midpoint = [label for label, interval in tied if _contains(interval, midpoint)]
    return (holding_midpoint or [tied[0][0]])[0]


def _quality_warnings(source: GradeDistribution, target: GradeDistribution, span: Interval) -> tuple[str, ...]:
    warnings = [
        f"{d.scale.id} reference group has only {d.total} results (< {SMALL_REFERENCE_GROUP})"
        for d in (source, target)
        if d.total < SMALL_REFERENCE_GROUP
    ]
    if span[1] - span[0] > WIDE_INTERVAL:
        warnings.append(f"the source grade spans {float(span[1] - span[0]):.2f} percentage points")
    return tuple(warnings)


def convert(grade: str, source: GradeDistribution, target: GradeDistribution, rule: Rule = Rule.MIDPOINT) -> Conversion:
    """Convert a host ``grade`` from the ``source`` table to the ``target`` (home) table.

    :raises UnknownGrade: the grade is not on the source scale, or is failing and the target scale has
        no failing grade configured.
    """
    label = source.scale.passing_label(grade)
    if label is None:
        if grade in source.scale.failing and target.scale.failing:
            return Conversion(
                source.scale.id,
                target.scale.id,
                grade,
                grade,
                target.scale.failing[0],
                None,
                source_reference=source.reference,
                target_reference=target.reference,
            )
        raise UnknownGrade(f"grade {grade!r} is not a passing grade of scale {source.scale.id}: convert by hand")
    span = source.intervals()[label]
    midpoint = (span[0] + span[1]) / 2
    candidates = target.awarded()
    chosen = _choose(rule, span, midpoint, candidates)
    overlapping = tuple(
        name
        for name, interval in candidates
        if _overlap(span, interval) > 0 or (span[0] == span[1] and _contains(interval, span[0]))
    )
    return Conversion(
        source_scale=source.scale.id,
        target_scale=target.scale.id,
        source_grade=grade,
        source_label=label,
        target_grade=chosen,
        rule=rule,
        source_range=span,
        midpoint=midpoint,
        target_range=dict(candidates)[chosen],
        overlapping=overlapping,
        warnings=_quality_warnings(source, target, span),
        source_reference=source.reference,
        target_reference=target.reference,
    )


@dataclass(frozen=True)
class PolicyEntry:
    """How to convert grades from one partner (None: any partner) in one field (ISCED code prefix,
    "" for any field): the partner's scale, our home table, optionally a configured host table."""

    isced_prefix: str
    source_scale: GradingScale
    target: GradeDistribution
    partner_hei: str | None = None
    source_table: GradeDistribution | None = None
    rule: Rule = Rule.MIDPOINT


class ConversionPolicy:
    """Per-partner, per-field conversion settings. The most specific entry wins: longest ISCED prefix
    first, then a partner-specific entry over a catch-all one."""

    def __init__(self, entries: Iterable[PolicyEntry]) -> None:
        self._entries = list(entries)
        keys = [(e.partner_hei, e.isced_prefix) for e in self._entries]
        if len(set(keys)) != len(keys):
            raise ValueError("two policy entries for the same partner and ISCED prefix")

    def entry_for(self, partner_hei: str, isced_code: str | None) -> PolicyEntry:
        """:raises MissingDistribution: no entry covers this partner and field."""
        matching = [
            e
            for e in self._entries
            if e.partner_hei in (None, partner_hei) and (isced_code or "").startswith(e.isced_prefix)
        ]
        if not matching:
            raise MissingDistribution(
                f"no grade conversion configured for partner {partner_hei} and ISCED {isced_code or '(none)'}"
            )
        return max(matching, key=lambda e: (len(e.isced_prefix), e.partner_hei is not None))

    def convert(
        self,
        grade: str,
        *,
        partner_hei: str,
        isced_code: str | None,
        host_counts: Sequence[tuple[str, int]] | None = None,
    ) -> Conversion:
        """Convert using the document's distribution (``host_counts``: the ToR ``iscedTable`` for the
        course's ISCED code, else the course's ``resultDistribution``), else the configured host table.

        :raises MissingDistribution: neither is available; the grade must be converted by hand.
        """
        entry = self.entry_for(partner_hei, isced_code)
        if host_counts:
            source = GradeDistribution.from_counts(entry.source_scale, host_counts, f"{partner_hei} document")
        elif entry.source_table is not None:
            source = entry.source_table
        else:
            raise MissingDistribution(
                f"no grade distribution from {partner_hei} for ISCED {isced_code or '(none)'}: "
                "the document carries none and none is configured; convert by hand"
            )
        return convert(grade, source, entry.target, entry.rule)


def distributions_from_json(data: Mapping[str, object]) -> dict[str, GradeDistribution]:
    """Read ``{"scales": {id: {"distribution": [{"label", "count"}...] best first, "failing": [...],
    "decimal_bands": bool, "description": str}}}`` (the format of ``vectors/grade-conversion.json``)."""
    scales = data.get("scales")
    if not isinstance(scales, Mapping):
        raise InvalidDistribution('grade tables: a "scales" object is required')
    tables: dict[str, GradeDistribution] = {}
    for scale_id, spec in scales.items():
        try:
            rows = [(str(row["label"]), row["count"]) for row in spec["distribution"]]
            scale = GradingScale(
                scale_id,
                tuple(label for label, _ in rows),
                tuple(spec.get("failing", ())),
                bool(spec.get("decimal_bands", False)),
            )
        except (KeyError, TypeError) as exc:
            raise InvalidDistribution(f"grade tables: scale {scale_id} is incomplete ({exc})") from None
        tables[scale_id] = GradeDistribution.from_counts(scale, rows, str(spec.get("description", "")))
    return tables

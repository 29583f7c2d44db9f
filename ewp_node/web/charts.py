"""Paired bar charts drawn as server-side SVG (``_bars.html``): two counts per slot (in/out, all/errors)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: Drawing area of the bars (pixels), below it the tick labels.
BAR_AREA = 120.0
#: Chart width the slots share; with 14 slots or fewer each bar keeps :data:`MAX_BAR_WIDTH`.
CHART_WIDTH = 800.0
MAX_BAR_WIDTH = 24.0
#: At most this many tick labels under the bars (every n-th slot is labelled).
MAX_TICKS = 14
#: Half the width of a ``MM-DD`` tick label (10 px font).
TICK_HALF_WIDTH = 15.0


@dataclass(frozen=True)
class Bar:
    """One slot: its label (a day, a week's first day), both counts, and their SVG geometry."""

    label: str
    first: int
    second: int
    x: float
    first_height: float
    second_height: float
    #: The text under the slot ('' for slots left unlabelled).
    tick: str


@dataclass(frozen=True)
class BarChart:
    bars: tuple[Bar, ...]
    bar_width: float
    width: float


def bar_chart(labels: Sequence[str], first: Mapping[str, int], second: Mapping[str, int]) -> BarChart:
    """One bar pair per label, both series scaled to the largest count; labels are ISO dates (ticks: MM-DD)."""
    slot = CHART_WIDTH / max(len(labels), 1)
    bar_width = round(min(MAX_BAR_WIDTH, slot * 0.42), 1)
    step = slot if len(labels) > MAX_TICKS else 2 * bar_width + 8
    margin = max(0.0, TICK_HALF_WIDTH - bar_width)  # room for the first tick, centred under narrow bars
    every = math.ceil(len(labels) / MAX_TICKS)
    peak = max([first.get(label, 0) for label in labels] + [second.get(label, 0) for label in labels] + [1])
    bars = tuple(
        Bar(label=label, first=first.get(label, 0), second=second.get(label, 0), x=round(margin + i * step, 1),
            first_height=BAR_AREA * first.get(label, 0) / peak, second_height=BAR_AREA * second.get(label, 0) / peak,
            tick=label[5:] if i % every == 0 else "")
        for i, label in enumerate(labels))
    return BarChart(bars, bar_width, round(margin + len(labels) * step, 1))

"""Charts as server-rendered SVG (pure): the geometry of horizontal bar charts, drawn by the templates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from palmares_label import french

LABEL_WIDTH = 300
BAR_AREA = 420
ROW_HEIGHT = 22


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float
    text: str  # the value as French readers write it
    y: int
    width: float


@dataclass(frozen=True, slots=True)
class BarChart:
    bars: list[Bar]
    width: int
    height: int
    label_width: int
    unit: str


def bars(values: Sequence[tuple[str, float]], *, unit: str, decimals: int = 1) -> BarChart:
    """One bar per (label, value), the longest bar for the largest value; a chart of zeros has no bar drawn."""
    largest = max((v for _, v in values), default=0.0)
    drawn = [
        Bar(
            label=label,
            value=value,
            text=french.number(value, decimals),
            y=i * ROW_HEIGHT,
            width=round(BAR_AREA * value / largest, 1) if largest > 0 else 0.0,
        )
        for i, (label, value) in enumerate(values)
    ]
    return BarChart(
        bars=drawn,
        width=LABEL_WIDTH + BAR_AREA + 70,
        height=len(drawn) * ROW_HEIGHT + 4,
        label_width=LABEL_WIDTH,
        unit=unit,
    )

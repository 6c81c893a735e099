"""Charts as server-rendered SVG (pure): the geometry of horizontal bar charts, drawn by the templates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from palmares_label import french

LABEL_WIDTH = 300
BAR_AREA = 420
ROW_HEIGHT = 22
LABEL_CHARACTERS = 44  # what LABEL_WIDTH holds at the charts' font size
_LINKING = frozenset(
    [
        "à",
        "au",
        "aux",
        "d’",
        "de",
        "des",
        "du",
        "en",
        "et",
        "l’",
        "la",
        "le",
        "les",
        "ou",
        "par",
        "pour",
        "sur",
        "un",
        "une",
    ]
)


def short_label(label: str, limit: int = LABEL_CHARACTERS) -> str:
    """A label that fits beside a bar, typeset: its brackets dropped, then cut after a whole word (« … »)."""
    text = french.typeset(label)
    if len(text) > limit and " (" in text:
        text = text[: text.index(" (")]
    if len(text) > limit:
        words = text[: text.rfind(" ", 0, limit) % (limit + 1)].split(" ")  # no space: cut at the limit
        while len(words) > 1 and (words[-1] in _LINKING or words[-1].endswith("’")):
            words.pop()  # « … de la… » reads as a typo
        text = " ".join(words).rstrip(",;:\u00a0\u202f") + "…"
    return text


@dataclass(frozen=True, slots=True)
class Bar:
    label: str  # typeset, whole (the bar's title)
    short: str  # what the chart writes beside the bar
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
            label=french.typeset(label),
            short=short_label(label),
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

"""A map of France by département as a tile-grid cartogram (pure): one square per département, a colour scale.

Every département has the same square, so that a small one (Paris, the
Territoire de Belfort) weighs as much on the eye as a large one, and the
overseas ones sit in a row of their own below metropolitan France. The grid
was made by assigning each metropolitan département, from the approximate
position of its prefecture (longitude scaled by the cosine of 46.5°), to the
nearest free cell of a 13 × 12 grid minimising the sum of squared distances
(a greedy placement improved by swaps), then checked by eye against a map.

The templates draw it in SVG (`_charts.html.j2`, `tile_map`); the page gives
the same figures in a table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from palmares_label import french
from palmares_label.french import NBSP, NNBSP

# (column, row) of each metropolitan département.
METROPOLE: Final[Mapping[str, tuple[int, int]]] = {
    "62": (6, 0), "59": (7, 0),
    "76": (4, 1), "80": (5, 1), "60": (6, 1), "02": (7, 1), "08": (8, 1),
    "50": (2, 2), "14": (3, 2), "27": (4, 2), "95": (5, 2), "75": (6, 2), "93": (7, 2), "51": (8, 2), "55": (9, 2),
    "57": (10, 2), "67": (11, 2),
    "29": (0, 3), "22": (1, 3), "35": (2, 3), "53": (3, 3), "61": (4, 3), "78": (5, 3), "92": (6, 3), "94": (7, 3),
    "10": (8, 3), "54": (9, 3), "88": (10, 3), "68": (11, 3),
    "56": (1, 4), "44": (2, 4), "49": (3, 4), "72": (4, 4), "28": (5, 4), "91": (6, 4), "77": (7, 4), "52": (8, 4),
    "70": (9, 4), "90": (10, 4),
    "85": (3, 5), "37": (4, 5), "41": (5, 5), "45": (6, 5), "89": (7, 5), "21": (8, 5), "39": (9, 5), "25": (10, 5),
    "17": (2, 6), "79": (3, 6), "86": (4, 6), "36": (5, 6), "18": (6, 6), "58": (7, 6), "71": (8, 6), "01": (9, 6),
    "74": (10, 6),
    "33": (3, 7), "16": (4, 7), "87": (5, 7), "23": (6, 7), "03": (7, 7), "42": (8, 7), "69": (9, 7), "73": (10, 7),
    "47": (3, 8), "24": (4, 8), "19": (5, 8), "63": (6, 8), "43": (7, 8), "07": (8, 8), "38": (9, 8), "05": (10, 8),
    "40": (3, 9), "82": (4, 9), "46": (5, 9), "15": (6, 9), "48": (7, 9), "26": (8, 9), "84": (9, 9), "04": (10, 9),
    "06": (11, 9),
    "64": (3, 10), "32": (4, 10), "31": (5, 10), "81": (6, 10), "12": (7, 10), "30": (8, 10), "13": (9, 10),
    "83": (10, 10), "2B": (12, 10),
    "65": (4, 11), "09": (5, 11), "11": (6, 11), "66": (7, 11), "34": (8, 11), "2A": (12, 11),
}  # fmt: skip

# The départements and collectivités d'outre-mer, in a row below a gap: the five départements first.
OUTRE_MER: Final = ("971", "972", "973", "974", "976", "975", "977", "978", "984", "986", "987", "988", "989")
OUTRE_MER_ROW: Final = 13


def layout() -> dict[str, tuple[int, int]]:
    """(column, row) of every département's tile."""
    return {**METROPOLE, **{code: (i, OUTRE_MER_ROW) for i, code in enumerate(OUTRE_MER)}}


TILE: Final = 34  # pixels, a tile and its gap
GAP: Final = 3
LEGEND_ROW: Final = 20

# A sequential scale (light: low, dark: high); the text on each is dark or white for AA contrast.
COLOURS: Final = ("#eff3ff", "#bdd7e7", "#6baed6", "#2171b5", "#08306b")
INKS: Final = ("#1a1a1a", "#1a1a1a", "#1a1a1a", "#ffffff", "#ffffff")
NO_DATA: Final = ("#ffffff", "#1a1a1a")  # no participant: a white tile


@dataclass(frozen=True, slots=True)
class Bin:
    low: float
    high: float
    colour: str
    ink: str
    label: str


def with_unit(text: str, unit: str) -> str:
    """« 12,5 % » (a narrow no-break space before %), « 3 pour 100 » (a no-break space before a word)."""
    if not unit:
        return text
    return f"{text}{NNBSP if unit.startswith('%') else NBSP}{unit}"


def bins(values: Sequence[float], n: int = len(COLOURS), unit: str = "") -> list[Bin]:
    """`n` bins of equal width from 0 to the largest value (one bin « 0 » when there is nothing above 0)."""
    largest = max(values, default=0.0)
    if largest <= 0:
        return [Bin(0.0, 0.0, COLOURS[0], INKS[0], with_unit("0", unit))]
    width = largest / n
    found = []
    for i in range(n):
        low, high = i * width, largest if i == n - 1 else (i + 1) * width
        label = f"{'de' if i == 0 else 'plus de'} {french.number(low, 2)} à {with_unit(french.number(high, 2), unit)}"
        found.append(Bin(low, high, COLOURS[i], INKS[i], label))
    return found


def bin_of(value: float, scale: Sequence[Bin]) -> int:
    """The index of the bin holding `value` (upper bounds included; the first bin holds its lower bound)."""
    for i, b in enumerate(scale):
        if value <= b.high:
            return i
    return len(scale) - 1


@dataclass(frozen=True, slots=True)
class Tile:
    code: str
    name: str
    x: int
    y: int
    value: float | None
    text: str  # the value as French readers write it, or « pas de participante »
    colour: str
    ink: str


@dataclass(frozen=True, slots=True)
class TileMap:
    tiles: list[Tile]
    scale: list[Bin]
    no_data: tuple[str, str]
    unit: str
    width: int
    height: int
    outre_mer_y: int  # where the caption « Outre-mer » sits
    legend_y: int
    legend_row: int
    tile: int


def tile_map(values: Mapping[str, float | None], names: Mapping[str, str], *, unit: str, decimals: int = 1) -> TileMap:
    """A tile per département of `names`, coloured by its value (None, or absent: no data)."""
    scale = bins([v for v in values.values() if v is not None], unit=unit)
    size = TILE - GAP
    tiles = []
    for code, (col, row) in layout().items():
        if code not in names:
            continue
        value = values.get(code)
        if value is None:
            colour, ink, text = *NO_DATA, "pas de participante"
        else:
            b = scale[bin_of(value, scale)]
            colour, ink, text = b.colour, b.ink, with_unit(french.number(value, decimals), unit)
        tiles.append(Tile(code, names[code], col * TILE, row * TILE, value, text, colour, ink))
    columns = 1 + max(c for c, _ in layout().values())
    legend_y = (OUTRE_MER_ROW + 1) * TILE + 12
    return TileMap(
        tiles=tiles,
        scale=scale,
        no_data=NO_DATA,
        unit=unit,
        width=columns * TILE,
        height=legend_y + (len(scale) + 1) * LEGEND_ROW + 4,
        outre_mer_y=OUTRE_MER_ROW * TILE - 8,
        legend_y=legend_y,
        legend_row=LEGEND_ROW,
        tile=size,
    )

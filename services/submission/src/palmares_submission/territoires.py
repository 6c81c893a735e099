"""How the catalogue and the observatoire group collectivités (pure): population bands, kinds, outre-mer.

The bands are the ones the label's network uses to compare collectivités of a
kind: < 500, 500–1 500, 1 500–3 500, 3 500–10 000, 10 000–20 000,
20 000–50 000, 50 000–100 000, > 100 000 inhabitants (lower bound included).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

NBSP: Final = "\u00a0"


@dataclass(frozen=True, slots=True)
class Band:
    """A population band: `low` included, `high` excluded (None: no upper bound)."""

    code: str
    low: int
    high: int | None
    label: str


def _n(value: int) -> str:
    return f"{value:,}".replace(",", NBSP)


def _bands() -> tuple[Band, ...]:
    limits = (0, 500, 1500, 3500, 10_000, 20_000, 50_000, 100_000)
    bands = []
    for low, high in zip(limits, (*limits[1:], None), strict=True):
        if low == 0:
            label = f"moins de {_n(high or 0)}{NBSP}habitants"
        elif high is None:
            label = f"plus de {_n(low)}{NBSP}habitants"
        else:
            label = f"{_n(low)} à {_n(high)}{NBSP}habitants"
        bands.append(Band(f"{low}-{high}" if high else f"{low}-", low, high, label))
    return tuple(bands)


BANDS: Final = _bands()
BAND_CODES: Final = tuple(b.code for b in BANDS)
_BY_CODE: Final = {b.code: b for b in BANDS}


def band_of(population: int) -> Band:
    """The band of a population (`band_of(500).code == "500-1500"`)."""
    for band in reversed(BANDS):
        if population >= band.low:
            return band
    return BANDS[0]


def band_label(code: str) -> str:
    band = _BY_CODE.get(code)
    return band.label if band else code


# Kinds of collectivité: communes and the four kinds of EPCI à fiscalité propre.
KINDS: Final = {
    "commune": "Communes",
    "CC": "Communautés de communes",
    "CA": "Communautés d’agglomération",
    "CU": "Communautés urbaines",
    "metropole": "Métropoles",
}


def kind_of(kind: str, epci_type: str) -> str:
    """`commune`, `CC`, `CA`, `CU` or `metropole` (the reference data's METRO and MET69 are métropoles)."""
    if kind == "commune":
        return "commune"
    if epci_type in ("METRO", "MET69"):
        return "metropole"
    return epci_type if epci_type in KINDS else "CC"


def is_overseas(departement: str) -> bool:
    """Outre-mer: the départements and collectivités whose code starts with 97 or 98."""
    return departement.startswith(("97", "98"))


TERRITORY_LABELS: Final = {"metropole": "France métropolitaine", "outre-mer": "Outre-mer"}


def territory_of(departement: str) -> str:
    return "outre-mer" if is_overseas(departement) else "metropole"

"""The observatoire des inégalités numériques: figures per territory, population band and kind (pure).

Inputs are counts: the reference data's collectivités (the denominators, per
département × population band × kind, `universe`), and the edition's dossiers
counted by SQL on the same cells (`Cell`). Every figure of a row is then a sum
over cells and a ratio of sums, so that the CSV, which carries the sums, lets
anyone recompute the page:

- participation and labels per 100 collectivités: 100 × participants (labelled) ÷ collectivités;
- labelled per 100 000 inhabitants: 100 000 × labelled ÷ inhabitants;
- share of the population living in a labelled collectivité: the inhabitants of labelled
  communes ÷ the inhabitants of the communes (for a row of EPCI only, the same with EPCI);
- mean arobases of the labelled dossiers.

Inequality of a service's adoption across départements: its adoption rate in a
département is the share of that département's participating dossiers that
declare it; the Gini index and the Theil T index of those rates (0: equal
everywhere; Gini 1: a single département has it all).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Final

from palmares_label import french

from palmares_submission import collation, refdata, territoires

BY: Final = ("region", "departement", "population", "kind", "territoire")


@dataclass(frozen=True, slots=True)
class CellKey:
    departement: str
    band: str
    kind: str


@dataclass(slots=True)
class Cell:
    """Sums over the collectivités, or the dossiers, of one département × band × kind."""

    collectivites: int = 0
    inhabitants: int = 0  # communes' population (or EPCI's, for EPCI)
    participants: int = 0
    labelled: int = 0
    labelled_inhabitants: int = 0
    arobases_sum: int = 0


@cache
def universe(millesime: int) -> Mapping[CellKey, Cell]:
    """The reference data's collectivités counted per département × population band × kind."""
    cells: dict[CellKey, Cell] = {}
    for ref in refdata.load_reference(millesime).values():
        key = CellKey(
            ref.departement, territoires.band_of(ref.population).code, territoires.kind_of(ref.kind, ref.epci_type)
        )
        cell = cells.setdefault(key, Cell())
        cell.collectivites += 1
        cell.inhabitants += ref.population
    return cells


def group_of(by: str) -> Callable[[CellKey], str]:
    regions = {code: d.region for code, d in refdata.load_departements().items()}
    if by == "region":
        return lambda k: regions.get(k.departement, "")
    if by == "departement":
        return lambda k: k.departement
    if by == "population":
        return lambda k: k.band
    if by == "kind":
        return lambda k: k.kind
    if by == "territoire":
        return lambda k: territoires.territory_of(k.departement)
    raise ValueError(f"unknown breakdown {by!r}")


def label_of(by: str, key: str) -> str:
    departements = refdata.load_departements()
    if by == "region":
        names = {d.region: d.region_name for d in departements.values()}
        return french.typographic(names.get(key, key))
    if by == "departement":
        d = departements.get(key)
        return f"{french.typographic(d.name)} ({key})" if d else key
    if by == "population":
        return territoires.band_label(key)
    if by == "kind":
        return territoires.KINDS.get(key, key)
    return territoires.TERRITORY_LABELS.get(key, key)


@dataclass(frozen=True, slots=True)
class ObservatoireRow:
    key: str
    label: str
    collectivites: int
    inhabitants: int
    participants: int
    labelled: int
    labelled_inhabitants: int
    arobases_sum: int
    participation_per_100: float
    labelled_per_100: float
    labelled_per_100k_inhabitants: float
    population_share: float
    mean_arobases: float | None


def _ratio(numerator: float, denominator: float, scale: float = 1.0) -> float:
    return round(scale * numerator / denominator, 4) if denominator else 0.0


def row(key: str, label: str, c: Cell) -> ObservatoireRow:
    return ObservatoireRow(
        key=key,
        label=label,
        collectivites=c.collectivites,
        inhabitants=c.inhabitants,
        participants=c.participants,
        labelled=c.labelled,
        labelled_inhabitants=c.labelled_inhabitants,
        arobases_sum=c.arobases_sum,
        participation_per_100=_ratio(c.participants, c.collectivites, 100),
        labelled_per_100=_ratio(c.labelled, c.collectivites, 100),
        labelled_per_100k_inhabitants=_ratio(c.labelled, c.inhabitants, 100_000),
        population_share=_ratio(c.labelled_inhabitants, c.inhabitants),
        mean_arobases=round(c.arobases_sum / c.labelled, 2) if c.labelled else None,
    )


def _add(into: Cell, c: Cell, *, denominators: bool) -> None:
    if denominators:
        into.collectivites += c.collectivites
        into.inhabitants += c.inhabitants
    into.participants += c.participants
    into.labelled += c.labelled
    into.labelled_inhabitants += c.labelled_inhabitants
    into.arobases_sum += c.arobases_sum


def breakdown(
    by: str, reference: Mapping[CellKey, Cell], observed: Mapping[CellKey, Cell]
) -> tuple[list[ObservatoireRow], ObservatoireRow]:
    """The rows of a breakdown (every group the reference data knows, even with no dossier) and the total.

    Inhabitants are counted at one level per group: the communes', or the EPCI's
    when the group holds no commune (a row of communautés), so that nobody is
    counted twice.
    """
    group = group_of(by)
    communes: dict[str, Cell] = {}
    epci: dict[str, Cell] = {}
    for cells, denominators in ((reference, True), (observed, False)):
        for cell_key, c in cells.items():
            target = communes if cell_key.kind == "commune" else epci
            _add(target.setdefault(group(cell_key), Cell()), c, denominators=denominators)
    rows = []
    total = Cell()
    total_epci = Cell()
    for key in sorted(set(communes) | set(epci), key=lambda k: _order(by, k)):
        merged = _merge(communes.get(key), epci.get(key))
        rows.append(row(key, label_of(by, key), merged))
    for c in communes.values():
        _add(total, c, denominators=True)
    for c in epci.values():
        _add(total_epci, c, denominators=True)
    return rows, row("total", "Ensemble", _merge(total, total_epci))


def _merge(communes: Cell | None, epci: Cell | None) -> Cell:
    """A group's sums: counts of both levels; inhabitants of the communes, or of the EPCI without communes."""
    c, e = communes or Cell(), epci or Cell()
    level = c if c.collectivites else e
    return Cell(
        collectivites=c.collectivites + e.collectivites,
        inhabitants=level.inhabitants,
        participants=c.participants + e.participants,
        labelled=c.labelled + e.labelled,
        labelled_inhabitants=level.labelled_inhabitants,
        arobases_sum=c.arobases_sum + e.arobases_sum,
    )


def _order(by: str, key: str) -> tuple[int, tuple[int, ...], str]:
    if by == "population":
        return (territoires.BAND_CODES.index(key) if key in territoires.BAND_CODES else 99, (), key)
    if by == "kind":
        kinds = list(territoires.KINDS)
        return (kinds.index(key) if key in kinds else 99, (), key)
    if by == "region":
        return (0, collation.sort_key(label_of(by, key)), key)  # French alphabetical order of the names
    return (0, (), key)


# --- inequality -----------------------------------------------------------------------------------


def gini(values: Sequence[float]) -> float:
    """The Gini index of non-negative values (0: all equal; (n−1)/n: one holds everything); 0 when all are 0."""
    n = len(values)
    total = sum(values)
    if n == 0 or total == 0:
        return 0.0
    ordered = sorted(values)
    weighted = sum((i + 1) * v for i, v in enumerate(ordered))
    return round((2 * weighted) / (n * total) - (n + 1) / n, 4)


def theil(values: Sequence[float]) -> float:
    """The Theil T index of non-negative values (0: all equal; ln n: one holds everything)."""
    n = len(values)
    total = sum(values)
    if n == 0 or total == 0:
        return 0.0
    mean = total / n
    return round(sum((v / mean) * math.log(v / mean) for v in values if v > 0) / n, 4)


@dataclass(frozen=True, slots=True)
class Adoption:
    """A service's (or an enjeu's) adoption by the participants, and its inequality across départements."""

    code: str
    label: str
    adopters: int
    rate: float
    departements: int
    gini: float
    theil: float
    lowest: list[str] = field(default_factory=list)  # départements with the lowest rate (codes)


def adoption(
    items: Iterable[tuple[str, str]],
    participants: Mapping[str, int],
    adopters: Mapping[tuple[str, str], int],
) -> list[Adoption]:
    """Each item's (code, label) adoption: `participants` per département, `adopters` per (département, code).

    Départements without a participant say nothing about a service and are left out.
    Most unequal first.
    """
    departements = sorted(d for d, n in participants.items() if n > 0)
    everyone = sum(participants[d] for d in departements)
    found = []
    for code, label in items:
        rates = [adopters.get((d, code), 0) / participants[d] for d in departements]
        count = sum(adopters.get((d, code), 0) for d in departements)
        ranked = sorted(zip(rates, departements, strict=True))
        found.append(
            Adoption(
                code=code,
                label=label,
                adopters=count,
                rate=round(count / everyone, 4) if everyone else 0.0,
                departements=sum(1 for r in rates if r > 0),
                gini=gini(rates),
                theil=theil(rates),
                lowest=[d for _, d in ranked[:3]] if count else [],
            )
        )
    return sorted(found, key=lambda a: (-a.gini, a.code))

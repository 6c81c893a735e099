"""Coverage of the enjeux and of the grille's essential services by the observatoire's breakdowns (pure).

Inputs are counts made by SQL on cells département × population band × kind
(`observatoire.CellKey`) and the dossiers' category (village, ville, territoire):
the participating dossiers of each (cell, category), and those of them that
cover each item (declare an essential service, or a service of an enjeu).

An item *applies* to a dossier when the grille's `applies_to` holds the
dossier's category (an enjeu applies to every dossier). Per group of a breakdown:

- an item's coverage: dossiers covering it ÷ dossiers it applies to;
- the essentials' coverage: Σ over the essentials of the dossiers covering each
  ÷ Σ of the dossiers each applies to, that is the share of (dossier, applicable
  essential) pairs that are covered (1: every participant offers every
  essential that applies to it).

Both are ratios of sums that the CSV carries. The inequality of the essentials'
coverage across départements is the Gini and Theil T index of the départements'
coverage (départements with a participant).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from palmares_submission import observatoire
from palmares_submission.observatoire import CellKey


@dataclass(frozen=True, slots=True)
class Item:
    """An essential service or an enjeu: what a dossier may cover."""

    code: str
    label: str
    applies_to: frozenset[str] | None = None  # the categories it applies to; None: every dossier


@dataclass(frozen=True, slots=True)
class Counts:
    """Participating dossiers per (cell, category); per (cell, category, code) those declaring a service,
    and those covering an enjeu."""

    participants: Mapping[tuple[CellKey, str], int]
    services: Mapping[tuple[CellKey, str, str], int]
    enjeux: Mapping[tuple[CellKey, str, str], int]


@dataclass(frozen=True, slots=True)
class ItemCoverage:
    code: str
    covered: int
    applicable: int
    rate: float | None  # None: applies to nobody in the group


@dataclass(frozen=True, slots=True)
class CoverageRow:
    key: str
    label: str
    participants: int
    essentiels_covered: int
    essentiels_applicable: int
    essentiels_rate: float | None
    essentiels: list[ItemCoverage]
    enjeux: list[ItemCoverage]


@dataclass(frozen=True, slots=True)
class Place:
    """A group of the breakdown and an item's coverage there."""

    key: str
    label: str
    rate: float
    applicable: int


@dataclass(frozen=True, slots=True)
class EssentielSummary:
    """An essential service over the whole edition, where it is least available, and its inequality."""

    code: str
    label: str
    covered: int
    applicable: int
    rate: float | None
    lowest: list[Place] = field(default_factory=list)  # the groups of the breakdown where it is least covered
    gini: float = 0.0  # of its coverage across départements
    theil: float = 0.0


@dataclass(frozen=True, slots=True)
class Inequality:
    """The essentials' coverage across départements: its Gini and Theil T indexes, the least and best covered."""

    departements: int
    gini: float
    theil: float
    lowest: list[Place] = field(default_factory=list)
    highest: list[Place] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CoverageReport:
    rows: list[CoverageRow]
    total: CoverageRow
    essentiels: list[EssentielSummary]  # least available first
    inequality: Inequality


def _rate(covered: int, applicable: int) -> float | None:
    return round(covered / applicable, 4) if applicable else None


def _applies(item: Item, category: str) -> bool:
    return item.applies_to is None or category in item.applies_to


def _sums(
    participants: Mapping[tuple[CellKey, str], int],
    covering: Mapping[tuple[CellKey, str, str], int],
    cells: Collection[tuple[CellKey, str]],
    item: Item,
) -> tuple[int, int]:
    """(covered, applicable) of an item over (cell, category) pairs."""
    covered = applicable = 0
    for cell, category in cells:
        if _applies(item, category):
            applicable += participants[(cell, category)]
            covered += covering.get((cell, category, item.code), 0)
    return covered, applicable


def _row(
    key: str,
    label: str,
    counts: Counts,
    cells: Collection[tuple[CellKey, str]],
    essentiels: Sequence[Item],
    enjeux: Sequence[Item],
) -> CoverageRow:
    found = [
        [
            ItemCoverage(i.code, *sums, _rate(*sums))
            for i in items
            for sums in [_sums(counts.participants, covering, cells, i)]
        ]
        for items, covering in ((essentiels, counts.services), (enjeux, counts.enjeux))
    ]
    covered = sum(c.covered for c in found[0])
    applicable = sum(c.applicable for c in found[0])
    return CoverageRow(
        key=key,
        label=label,
        participants=sum(counts.participants[c] for c in cells),
        essentiels_covered=covered,
        essentiels_applicable=applicable,
        essentiels_rate=_rate(covered, applicable),
        essentiels=found[0],
        enjeux=found[1],
    )


def _groups(by: str, counts: Counts) -> dict[str, list[tuple[CellKey, str]]]:
    group = observatoire.group_of(by)
    found: dict[str, list[tuple[CellKey, str]]] = {}
    for cell, category in counts.participants:
        found.setdefault(group(cell), []).append((cell, category))
    return found


def _places(
    rows: Iterable[CoverageRow], of: Callable[[CoverageRow], tuple[float | None, int]], n: int, *, lowest: bool
) -> list[Place]:
    """The `n` groups of lowest (or highest) rate among those where it is defined; the most dossiers first on ties."""
    known = [(rate, applicable, r) for r in rows for rate, applicable in [of(r)] if rate is not None]
    known.sort(key=lambda x: (x[0] if lowest else -x[0], -x[1], x[2].key))
    return [Place(r.key, r.label, rate, applicable) for rate, applicable, r in known[:n]]


def departements(counts: Counts, essentiels: Sequence[Item]) -> list[CoverageRow]:
    """The essentials' coverage of each département with a participant (no enjeux), by code."""
    return [
        _row(key, observatoire.label_of("departement", key), counts, cells, essentiels, ())
        for key, cells in sorted(_groups("departement", counts).items())
    ]


def _nth_essentiel(i: int) -> Callable[[CoverageRow], tuple[float | None, int]]:
    return lambda r: (r.essentiels[i].rate, r.essentiels[i].applicable)


def _all_essentiels(r: CoverageRow) -> tuple[float | None, int]:
    return (r.essentiels_rate, r.essentiels_applicable)


def coverage(
    by: str,
    keys: Sequence[tuple[str, str]],
    counts: Counts,
    essentiels: Sequence[Item],
    enjeux: Sequence[Item],
) -> CoverageReport:
    """The coverage rows of a breakdown, in the order of its `keys` ((key, label) of every group, even empty)."""
    groups = _groups(by, counts)
    rows = [_row(key, label, counts, groups.get(key, []), essentiels, enjeux) for key, label in keys]
    total = _row("total", "Ensemble", counts, list(counts.participants), essentiels, enjeux)
    by_departement = departements(counts, essentiels)
    summaries = []
    for i, item in enumerate(essentiels):
        national = total.essentiels[i]
        rates = [rate for r in by_departement if (rate := r.essentiels[i].rate) is not None]
        summaries.append(
            EssentielSummary(
                code=item.code,
                label=item.label,
                covered=national.covered,
                applicable=national.applicable,
                rate=national.rate,
                lowest=_places(rows, _nth_essentiel(i), 3, lowest=True),
                gini=observatoire.gini(rates),
                theil=observatoire.theil(rates),
            )
        )
    summaries.sort(key=lambda s: (s.rate if s.rate is not None else 2.0, s.code))
    overall = [rate for r in by_departement if (rate := r.essentiels_rate) is not None]
    inequality = Inequality(
        departements=len(overall),
        gini=observatoire.gini(overall),
        theil=observatoire.theil(overall),
        lowest=_places(by_departement, _all_essentiels, 3, lowest=True),
        highest=_places(by_departement, _all_essentiels, 3, lowest=False),
    )
    return CoverageReport(rows=rows, total=total, essentiels=summaries, inequality=inequality)

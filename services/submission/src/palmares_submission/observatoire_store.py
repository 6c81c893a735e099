"""The observatoire's counts, in SQL over the read model built at publication (`observatoire_dossiers`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from palmares_contracts import Grille
from palmares_eventkit.db import Connection

from palmares_submission import observatoire, observatoire_coverage, refdata, store
from palmares_submission.catalogue import as_asyncpg


@dataclass(frozen=True, slots=True)
class EditionCounts:
    """What SQL counts once per state of an edition's rows; every breakdown is computed from it (pure)."""

    cells: dict[observatoire.CellKey, observatoire.Cell]  # the dossiers per département × band × kind
    participants: dict[str, int]  # per département
    adopters: dict[tuple[str, str], int]  # per (département, service code): dossiers declaring it
    coverage: observatoire_coverage.Counts  # per cell and category: essentials declared, enjeux covered


async def counts(conn: Connection, edition: int, essentiels: Sequence[str]) -> EditionCounts:
    """The edition's dossiers counted per cell and category, and the services' adopters per département."""
    cells: dict[observatoire.CellKey, observatoire.Cell] = {}
    participants: dict[tuple[observatoire.CellKey, str], int] = {}
    for r in await conn.fetch(
        """SELECT departement, population_band, kind, category, count(*) AS participants,
                  count(arobases) AS labelled,
                  coalesce(sum(population) FILTER (WHERE arobases IS NOT NULL), 0) AS labelled_inhabitants,
                  coalesce(sum(arobases), 0) AS arobases_sum
           FROM observatoire_dossiers WHERE edition = $1
           GROUP BY departement, population_band, kind, category""",
        edition,
    ):
        key = observatoire.CellKey(r["departement"], r["population_band"], r["kind"])
        cell = cells.setdefault(key, observatoire.Cell())
        cell.participants += r["participants"]
        cell.labelled += r["labelled"]
        cell.labelled_inhabitants += r["labelled_inhabitants"]
        cell.arobases_sum += r["arobases_sum"]
        participants[(key, r["category"])] = r["participants"]
    by_departement: dict[str, int] = {}
    for (key, _), n in participants.items():
        by_departement[key.departement] = by_departement.get(key.departement, 0) + n
    adopters: dict[tuple[str, str], int] = {}
    covering: dict[str, dict[tuple[observatoire.CellKey, str, str], int]] = {"s": {}, "e": {}}
    # One pass over the declared services for both: per (département, service) for the adoption, and
    # per (cell, category, essential service) for the coverage, where every other service folds into
    # a NULL key that is dropped.
    for r in await conn.fetch(
        """SELECT departement, population_band, kind, category, code, essentiel, count(*) AS n,
                  GROUPING(code) AS per_cell
           FROM (SELECT departement, population_band, kind, category, code,
                        CASE WHEN code = ANY($2::text[]) THEN code END AS essentiel
                 FROM observatoire_dossiers, unnest(services) AS code WHERE edition = $1) AS declared
           GROUP BY GROUPING SETS ((departement, code), (departement, population_band, kind, category, essentiel))
           HAVING GROUPING(code) = 0 OR essentiel IS NOT NULL""",
        edition,
        list(essentiels),
    ):
        if r["per_cell"]:
            key = observatoire.CellKey(r["departement"], r["population_band"], r["kind"])
            covering["s"][(key, r["category"], r["essentiel"])] = r["n"]
        else:
            adopters[(r["departement"], r["code"])] = r["n"]
    for r in await conn.fetch(
        """SELECT departement, population_band, kind, category, code, count(*) AS n
           FROM observatoire_dossiers, unnest(enjeux) AS code
           WHERE edition = $1 GROUP BY 1, 2, 3, 4, 5""",
        edition,
    ):
        key = observatoire.CellKey(r["departement"], r["population_band"], r["kind"])
        covering["e"][(key, r["category"], r["code"])] = r["n"]
    return EditionCounts(
        cells=cells,
        participants=by_departement,
        adopters=adopters,
        coverage=observatoire_coverage.Counts(participants, services=covering["s"], enjeux=covering["e"]),
    )


def _enjeux_adopters(c: observatoire_coverage.Counts) -> dict[tuple[str, str], int]:
    """The dossiers covering each enjeu per (département, enjeu code)."""
    found: dict[tuple[str, str], int] = {}
    for (cell, _, code), n in c.enjeux.items():
        found[(cell.departement, code)] = found.get((cell.departement, code), 0) + n
    return found


# Starts like observatoire_api.ObservatoireView, kept apart on purpose: this is the store's report, that one the
# API's documented answer.
@dataclass(frozen=True, slots=True)
class Report:
    edition: int
    by: str
    rows: list[observatoire.ObservatoireRow]
    total: observatoire.ObservatoireRow
    services: list[observatoire.Adoption]
    enjeux: list[observatoire.Adoption]
    coverage: observatoire_coverage.CoverageReport
    grille: Grille
    # The map's figures per département: labelled per 100 collectivités; the essentials' coverage
    # (None: no participant).
    labelled_per_100: dict[str, float]
    essentiels_rate: dict[str, float | None]

    @property
    def largest_inequality(self) -> observatoire.Adoption | None:
        adopted = [s for s in self.services if s.adopters > 0 and s.gini > 0]
        return max(adopted, key=lambda s: (s.gini, s.code)) if adopted else None


async def published(conn: Connection, edition: int) -> int | None:
    """The grille version of an edition whose palmarès is published, else None."""
    ed = await store.edition(as_asyncpg(conn), edition)
    return ed.grille_version if ed is not None and ed.palmares_published_at is not None else None


# Counts per (edition, grille version) and reports per (edition, breakdown, grille version), with the
# fingerprint of the rows they were computed from: after publication the rows change only when a jury
# decision refreshes a dossier's. The five breakdowns of an edition share one count.
_COUNTS: dict[tuple[int, int], tuple[tuple[int, int], EditionCounts]] = {}
_REPORTS: dict[tuple[int, str, int], tuple[tuple[int, int], Report]] = {}


def forget() -> None:
    """Empty the process's counts and reports (benchmarks: a cold request)."""
    _COUNTS.clear()
    _REPORTS.clear()


async def fingerprint(conn: Connection, edition: int) -> tuple[int, int]:
    """What identifies the state of an edition's rows: their count and a sum of (code, arobases) hashes."""
    row = await conn.fetchrow(
        """SELECT count(*) AS n,
                  coalesce(sum(hashtext(collectivite_code || ':' || coalesce(arobases, 0))), 0) AS h
           FROM observatoire_dossiers WHERE edition = $1""",
        edition,
    )
    assert row is not None
    return (int(row["n"]), int(row["h"]))


async def report(conn: Connection, edition: int, by: str, grille_version: int) -> Report:
    """The edition's observatoire by `by`: computed once per state of its rows (`fingerprint`)."""
    key = (edition, by, grille_version)
    state = await fingerprint(conn, edition)
    cached = _REPORTS.get(key)
    if cached is not None and cached[0] == state:
        return cached[1]
    grille = await store.grille_version(as_asyncpg(conn), edition, grille_version)
    kept = _COUNTS.get((edition, grille_version))
    if kept is None or kept[0] != state:
        kept = (state, await counts(conn, edition, [s.code for s in grille.essentiels]))
        _COUNTS[(edition, grille_version)] = kept
    found = build(edition, by, grille, kept[1])
    _REPORTS[key] = (state, found)
    return found


def build(edition: int, by: str, grille: Grille, c: EditionCounts) -> Report:
    """An edition's report by `by` from its counts and grille (pure)."""
    universe = observatoire.universe(refdata.millesime_for(edition))
    rows, total = observatoire.breakdown(by, universe, c.cells)
    services = observatoire.adoption(((s.code, s.label) for s in grille.services), c.participants, c.adopters)
    enjeux = observatoire.adoption(
        ((e.code, e.label) for e in grille.enjeux), c.participants, _enjeux_adopters(c.coverage)
    )
    essentiels = [
        observatoire_coverage.Item(s.code, s.label, frozenset(k.value for k in s.applies_to)) for s in grille.essentiels
    ]
    coverage = observatoire_coverage.coverage(
        by,
        [(r.key, r.label) for r in rows],
        c.coverage,
        essentiels,
        [observatoire_coverage.Item(e.code, e.label) for e in grille.enjeux],
    )
    departements = rows if by == "departement" else observatoire.breakdown("departement", universe, c.cells)[0]
    return Report(
        edition,
        by,
        rows,
        total,
        services,
        enjeux,
        coverage,
        grille,
        labelled_per_100={r.key: r.labelled_per_100 for r in departements},
        essentiels_rate={r.key: r.essentiels_rate for r in observatoire_coverage.departements(c.coverage, essentiels)},
    )


async def editions_summary(conn: Connection) -> list[dict[str, object]]:
    """Every published edition: participants, labelled, mean arobases (across editions)."""
    rows = await conn.fetch(
        """SELECT e.edition, count(o.collectivite_code) AS participants, count(o.arobases) AS labelled,
                  round(avg(o.arobases), 2)::float AS mean_arobases
           FROM editions e LEFT JOIN observatoire_dossiers o ON o.edition = e.edition
           WHERE e.palmares_published_at IS NOT NULL
           GROUP BY e.edition ORDER BY e.edition"""
    )
    return [dict(r) for r in rows]

"""The observatoire's counts, in SQL over the read model built at publication (`observatoire_dossiers`)."""

from __future__ import annotations

from dataclasses import dataclass

from palmares_eventkit.db import Connection

from palmares_submission import observatoire, refdata, store
from palmares_submission.catalogue import as_asyncpg


async def observed(conn: Connection, edition: int) -> dict[observatoire.CellKey, observatoire.Cell]:
    """The edition's dossiers counted per département × population band × kind."""
    rows = await conn.fetch(
        """SELECT departement, population_band, kind, count(*) AS participants,
                  count(arobases) AS labelled,
                  coalesce(sum(population) FILTER (WHERE arobases IS NOT NULL), 0) AS labelled_inhabitants,
                  coalesce(sum(arobases), 0) AS arobases_sum
           FROM observatoire_dossiers WHERE edition = $1
           GROUP BY departement, population_band, kind""",
        edition,
    )
    return {
        observatoire.CellKey(r["departement"], r["population_band"], r["kind"]): observatoire.Cell(
            participants=r["participants"],
            labelled=r["labelled"],
            labelled_inhabitants=r["labelled_inhabitants"],
            arobases_sum=r["arobases_sum"],
        )
        for r in rows
    }


async def adoption_counts(
    conn: Connection, edition: int, column: str
) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """Participants per département, and those declaring each service (`column="services"`) or covering each enjeu."""
    assert column in ("services", "enjeux")
    participants = {
        r["departement"]: r["n"]
        for r in await conn.fetch(
            "SELECT departement, count(*) AS n FROM observatoire_dossiers WHERE edition = $1 GROUP BY 1", edition
        )
    }
    adopters = {
        (r["departement"], r["code"]): r["n"]
        for r in await conn.fetch(
            f"""SELECT departement, code, count(*) AS n
                FROM observatoire_dossiers, unnest({column}) AS code
                WHERE edition = $1 GROUP BY 1, 2""",
            edition,
        )
    }
    return participants, adopters


@dataclass(frozen=True, slots=True)
class Report:
    edition: int
    by: str
    rows: list[observatoire.ObservatoireRow]
    total: observatoire.ObservatoireRow
    services: list[observatoire.Adoption]
    enjeux: list[observatoire.Adoption]

    @property
    def largest_inequality(self) -> observatoire.Adoption | None:
        adopted = [s for s in self.services if s.adopters > 0 and s.gini > 0]
        return max(adopted, key=lambda s: (s.gini, s.code)) if adopted else None


async def published(conn: Connection, edition: int) -> int | None:
    """The grille version of an edition whose palmarès is published, else None."""
    ed = await store.edition(as_asyncpg(conn), edition)
    return ed.grille_version if ed is not None and ed.palmares_published_at is not None else None


# Reports per (edition, breakdown, grille version), with the fingerprint of the rows they were computed
# from: after publication the rows change only when a jury decision refreshes a dossier's.
_REPORTS: dict[tuple[int, str, int], tuple[tuple[int, int], Report]] = {}


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
    found = await _report(conn, edition, by, grille_version)
    _REPORTS[key] = (state, found)
    return found


async def _report(conn: Connection, edition: int, by: str, grille_version: int) -> Report:
    grille = await store.grille_version(as_asyncpg(conn), edition, grille_version)
    rows, total = observatoire.breakdown(
        by, observatoire.universe(refdata.millesime_for(edition)), await observed(conn, edition)
    )
    participants, adopters = await adoption_counts(conn, edition, "services")
    services = observatoire.adoption(((s.code, s.label) for s in grille.services), participants, adopters)
    participants, adopters = await adoption_counts(conn, edition, "enjeux")
    enjeux = observatoire.adoption(((e.code, e.label) for e in grille.enjeux), participants, adopters)
    return Report(edition, by, rows, total, services, enjeux)


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

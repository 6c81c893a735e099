"""The tendances de la grille of an edition, read from the submission service's tables (the API's and the espace
jury's report)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from palmares_contracts import Grille
from palmares_eventkit.db import Connection

from palmares_submission import store, tendances
from palmares_submission.catalogue import as_asyncpg

# Every action of the edition's current revisions, with its dossier's collectivité and category.
_ACTIONS = """
SELECT s.submission_id, c.name, coalesce(sc.payload->>'category', c.category) AS category,
       r.event->'actions' AS actions
FROM submissions s
JOIN collectivites c ON c.code = s.collectivite_code
JOIN submission_revisions r ON r.submission_id = s.submission_id AND r.revision = s.revision
LEFT JOIN results sc ON sc.submission_id = s.submission_id AND sc.kind = 'score'
WHERE s.edition = $1"""


@dataclass(frozen=True, slots=True)
class Report:
    """The tendances under the edition's current grille version."""

    grille: Grille
    found: tendances.Tendances
    # The next edition's grille, once published: its « added » services cite the themes they answer.
    next_grille: Grille | None = None

    @property
    def grille_version(self) -> int:
        return self.grille.version

    @property
    def citations(self) -> dict[tuple[str, ...], list[tuple[str, str]]]:
        """Each theme's key → the next grille's added services that cite it (none before that grille)."""
        return tendances.citations(self.found, self.next_grille) if self.next_grille else {}


async def actions(conn: Connection, edition: int) -> list[tendances.ActionText]:
    """The actions of the edition's dossiers (their current revision)."""
    rows = await conn.fetch(_ACTIONS, edition)
    return [
        tendances.ActionText(
            submission_id=str(r["submission_id"]),
            collectivite=r["name"],
            category=r["category"],
            title=a["title"],
            description=a.get("description") or "",
            services=tuple(a.get("services") or ()),
        )
        for r in rows
        for a in json.loads(r["actions"] or "[]")
    ]


async def report(conn: Connection, edition: int, *, min_dossiers: int = 2, text_only: bool = False) -> Report | None:
    """The edition's tendances, or None when no grille is published for it."""
    ed = await store.edition(as_asyncpg(conn), edition)
    if ed is None:
        return None
    grille = await store.grille_version(as_asyncpg(conn), edition, ed.grille_version)
    found = tendances.tendances(
        edition, grille, await actions(conn, edition), min_dossiers=min_dossiers, text_only=text_only
    )
    following = await store.edition(as_asyncpg(conn), edition + 1)
    next_grille = (
        await store.grille_version(as_asyncpg(conn), edition + 1, following.grille_version)
        if following is not None
        else None
    )
    return Report(grille, found, next_grille)

"""The operator and jury API's views made of several reads (queries of the service layer: a connection in, a view out).

A route maps its request to one of these and the view to its response; the
rules that make a view (the category a collectivité holds for an edition,
how a worklist pages) are here, not in the route.
"""

from __future__ import annotations

from palmares_contracts import CategoryOverride
from palmares_eventkit.db import Connection

from palmares_submission import store, worklist, worklist_store
from palmares_submission.schemas import (
    CategoryDecision,
    CategoryView,
    Evaluation,
    EvaluationsView,
    WorklistItem,
    WorklistPage,
)
from palmares_submission.service.commands import collectivite_in


def _decision(override: CategoryOverride) -> CategoryDecision:
    return CategoryDecision(**override.model_dump())


async def category_view(
    conn: Connection,
    row: store.CollectiviteRow,
    edition: int,
    village_max_population: int,
    revision: int | None = None,
) -> CategoryView:
    """The collectivité's category for an edition: the latest operator decision, else its population's then.

    `revision`: the dossier's new revision when the decision just revised it.
    """
    history = await store.category_overrides(conn, row.code, edition)
    recorded = collectivite_in(row, edition, None, row.contact_email, village_max_population)
    return CategoryView(
        code=row.code,
        edition=edition,
        category=history[0].category if history else recorded.category,
        population=recorded.population,
        millesime=recorded.millesime,
        category_from_population=recorded.category,
        override=_decision(history[0]) if history else None,
        history=[_decision(h) for h in history],
        revision=revision,
    )


async def category_of(conn: Connection, code: str, edition: int, village_max_population: int) -> CategoryView | None:
    """`category_view` of a registered collectivité (None: it is not registered)."""
    row = await store.collectivite(conn, code)
    if row is None:
        return None
    return await category_view(conn, row, edition, village_max_population)


async def worklist_page(conn: Connection, query: worklist.WorklistQuery) -> WorklistPage:
    """A page of the jury's worklist: its dossiers of every tab, and the cursor of the next page if any."""
    total = (await worklist_store.counts(conn, query)).tous
    rows = await worklist_store.rows(conn, query)
    following = query.offset + len(rows)
    return WorklistPage(
        # The API's fields read from the row's (its properties included); the row's others stay out.
        items=[WorklistItem.model_validate(r, from_attributes=True) for r in rows],
        total=total,
        next_cursor=worklist.encode_cursor(following) if following < total else None,
    )


async def evaluations(conn: Connection, edition: int) -> EvaluationsView:
    """Every dossier's pré-notation and the jury's arobases, under the edition's current grille version."""
    ed = await store.edition(conn, edition)
    rows = await store.evaluations(conn, edition)
    return EvaluationsView(
        edition=edition,
        grille_version=ed.grille_version if ed is not None else None,
        dossiers=[Evaluation.model_validate(r, from_attributes=True) for r in rows],
    )

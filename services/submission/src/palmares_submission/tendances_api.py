"""`GET /v1/editions/{edition}/tendances` (operators): the actions no service of the grille describes, in themes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from palmares_submission import api, tendances_store
from palmares_submission.errors import ApiError, responses

router = APIRouter(prefix="/v1", route_class=api.AuthenticatedFirst)


class Example(BaseModel):
    title: str
    collectivite: str


class ServiceRef(BaseModel):
    code: str
    label: str


class ThemeView(BaseModel):
    label: str
    key: list[str]
    actions: int
    dossiers: int
    share_of_dossiers: float
    categories: dict[str, int]
    examples: list[Example]
    cited_by: list[ServiceRef] = Field(
        default=[],
        description="services the next edition's grille added that answer this theme (its changelog cites it); "
        "empty while that grille is not published",
    )


class TendancesView(BaseModel):
    edition: int
    grille_version: int
    dossiers: int
    actions: int
    undescribed: int
    themes: list[ThemeView]
    undeclared_services: list[ServiceRef]
    next_grille_version: int | None = Field(
        default=None, description="the version of the next edition's grille that `cited_by` reads, once published"
    )


@router.get(
    "/editions/{edition}/tendances",
    response_model=TendancesView,
    tags=["operator"],
    responses=responses(*api.AUTH, 404),
)
async def edition_tendances(
    edition: api.EditionPath,
    request: Request,
    _: api.Operator,
    min_dossiers: Annotated[int, Query(ge=1, le=1000, description="dossiers sharing a theme's words")] = 2,
    text_only: Annotated[bool, Query(description="declared services do not count, only the words")] = False,
) -> TendancesView:
    """Themes of the actions that the grille does not describe, and the services nobody declared (the comité's report)."""
    async with api.runtime_of(request).pool.acquire() as conn:
        report = await tendances_store.report(conn, edition, min_dossiers=min_dossiers, text_only=text_only)
    if report is None:
        raise ApiError(404, f"Aucune grille publiée pour l’édition {edition}.")
    found = report.found
    cited = report.citations
    return TendancesView(
        edition=edition,
        grille_version=report.grille_version,
        dossiers=found.dossiers,
        actions=found.actions,
        undescribed=found.undescribed,
        themes=[
            ThemeView(
                label=t.label,
                key=list(t.key),
                actions=len(t.actions),
                dossiers=t.dossiers,
                share_of_dossiers=t.share_of_dossiers,
                categories=t.categories,
                examples=[Example(title=a.title, collectivite=a.collectivite) for a in t.examples],
                cited_by=[ServiceRef(code=c, label=label) for c, label in cited.get(t.key, [])],
            )
            for t in found.themes
        ],
        undeclared_services=[ServiceRef(code=c, label=label) for c, label in found.undeclared_services],
        next_grille_version=report.next_grille.version if report.next_grille else None,
    )

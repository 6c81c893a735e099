"""HTTP routes of the observatoire des inégalités numériques: JSON and CSV per edition, across editions, pages."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from palmares_submission import api, charts, observatoire, observatoire_store, public_pages, refdata, spreadsheet
from palmares_submission.errors import ApiError, page_responses, responses

router = APIRouter(prefix="/v1", route_class=api.AuthenticatedFirst)
page_router = APIRouter()

By = Literal["region", "departement", "population", "kind", "territoire"]

BY_LABELS = {
    "region": "Régions",
    "departement": "Départements",
    "population": "Tranches de population",
    "kind": "Types de collectivité",
    "territoire": "Métropole et outre-mer",
}
BY_SINGULAR = {
    "region": "Région",
    "departement": "Département",
    "population": "Population",
    "kind": "Type",
    "territoire": "Territoire",
}


class ObservatoireView(BaseModel):
    edition: int
    by: str
    rows: list[observatoire.ObservatoireRow]
    total: observatoire.ObservatoireRow
    services: list[observatoire.Adoption]
    enjeux: list[observatoire.Adoption]
    largest_inequality: observatoire.Adoption | None
    source: str


class EditionFigures(BaseModel):
    edition: int
    participants: int
    labelled: int
    mean_arobases: float | None
    largest_inequality: observatoire.Adoption | None


class AcrossEditions(BaseModel):
    editions: list[EditionFigures]
    gini_by_service: dict[str, dict[int, float]]


CSV_HEADER = (
    "Édition",
    "Regroupement",
    "Code",
    "Libellé",
    "Collectivités",
    "Habitants",
    "Participantes",
    "Labellisées",
    "Habitants des labellisées",
    "Somme des arobases",
    "Participantes pour 100 collectivités",
    "Labellisées pour 100 collectivités",
    "Labellisées pour 100 000 habitants",
    "Part de la population dans une labellisée",
    "Arobases moyennes",
)


def _csv(report: observatoire_store.Report) -> bytes:
    def line(r: observatoire.ObservatoireRow) -> tuple[spreadsheet.Cell, ...]:
        return (
            report.edition,
            report.by,
            r.key,
            r.label,
            r.collectivites,
            r.inhabitants,
            r.participants,
            r.labelled,
            r.labelled_inhabitants,
            r.arobases_sum,
            r.participation_per_100,
            r.labelled_per_100,
            r.labelled_per_100k_inhabitants,
            r.population_share,
            r.mean_arobases,
        )

    return spreadsheet.csv_for_excel(CSV_HEADER, [*(line(r) for r in report.rows), line(report.total)])


def view_of(report: observatoire_store.Report) -> ObservatoireView:
    largest = report.largest_inequality
    return ObservatoireView(
        edition=report.edition,
        by=report.by,
        rows=list(report.rows),
        total=report.total,
        services=list(report.services),
        enjeux=list(report.enjeux),
        largest_inequality=largest,
        source=refdata.attribution(refdata.millesime_for(report.edition)),
    )


async def _report(request: Request, edition: int, by: str) -> observatoire_store.Report | None:
    async with api.runtime_of(request).pool.acquire() as conn:
        version = await observatoire_store.published(conn, edition)
        if version is None:
            return None
        return await observatoire_store.report(conn, edition, by, version)


@router.get(
    "/editions/{edition}/observatoire",
    response_model=ObservatoireView,
    tags=["public"],
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}},
            "description": "JSON, or CSV for French Excel (`;`, UTF-8 with BOM) with `?format=csv`",
        },
        **responses(404, 422),
    },
)
async def edition_observatoire(
    edition: api.EditionPath,
    request: Request,
    by: By = "region",
    format: Literal["json", "csv"] = "json",
) -> Any:
    """Participation, labels and the inequality of services' adoption, for a published edition (public)."""
    report = await _report(request, edition, by)
    if report is None:
        raise ApiError(404, f"Le palmarès {edition} n’est pas encore publié : l’observatoire attend sa publication.")
    if format == "csv":
        return Response(
            _csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="observatoire-{edition}-{by}.csv"'},
        )
    return view_of(report)


async def _across(request: Request) -> AcrossEditions:
    figures = []
    gini_by_service: dict[str, dict[int, float]] = {}
    async with api.runtime_of(request).pool.acquire() as conn:
        for summary in await observatoire_store.editions_summary(conn):
            edition = int(str(summary["edition"]))
            version = await observatoire_store.published(conn, edition)
            assert version is not None
            report = await observatoire_store.report(conn, edition, "territoire", version)
            largest = report.largest_inequality
            for s in report.services:
                if s.adopters:
                    gini_by_service.setdefault(s.code, {})[edition] = s.gini
            figures.append(
                EditionFigures(
                    edition=edition,
                    participants=report.total.participants,
                    labelled=report.total.labelled,
                    mean_arobases=report.total.mean_arobases,
                    largest_inequality=largest,
                )
            )
    return AcrossEditions(editions=figures, gini_by_service=gini_by_service)


@router.get("/observatoire", response_model=AcrossEditions, tags=["public"])
async def observatoire_across_editions(request: Request) -> AcrossEditions:
    """Every published edition's figures, and each service's Gini index edition by edition (public)."""
    return await _across(request)


# --- pages ----------------------------------------------------------------------------------------


@page_router.get("/observatoire", response_class=HTMLResponse, tags=["public"])
async def observatoire_index(request: Request) -> HTMLResponse:
    """The observatoire across editions, as a French web page."""
    across = await _across(request)
    return HTMLResponse(public_pages.render("observatoire-editions.html.j2", across=across))


@page_router.get(
    "/observatoire/{edition}",
    response_class=HTMLResponse,
    tags=["public"],
    responses={
        404: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "Palmarès pas encore publié"},
        **page_responses(422),
    },
)
async def observatoire_page(
    edition: api.EditionPath, request: Request, by: Annotated[By, Query()] = "region"
) -> HTMLResponse:
    """An edition's observatoire as a French web page: a chart, its table, the inequality of services."""
    report = await _report(request, edition, by)
    if report is None:
        return HTMLResponse(
            public_pages.render("observatoire-absent.html.j2", edition=edition),
            status_code=404,
        )
    return HTMLResponse(page_html(view_of(report)))


def page_html(view: ObservatoireView) -> str:
    """An edition's observatoire as a French page: its charts (SVG) and their tables."""
    chart = charts.bars(
        [(r.label, r.labelled_per_100) for r in view.rows],
        unit="labellisées pour 100 collectivités",
        decimals=2,
    )
    inequality = charts.bars(
        [(s.label, s.gini) for s in view.services[:10] if s.adopters],
        unit="indice de Gini",
        decimals=2,
    )
    return public_pages.render(
        "observatoire.html.j2",
        view=view,
        by_labels=BY_LABELS,
        chart=chart,
        inequality=inequality,
        by_singular=BY_SINGULAR,
    )

"""HTTP routes of the observatoire des inégalités numériques: JSON and CSV per edition, across editions, pages."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from palmares_submission import (
    api,
    cartogram,
    charts,
    observatoire,
    observatoire_coverage,
    observatoire_store,
    public_pages,
    refdata,
    spreadsheet,
)
from palmares_submission.errors import ApiError, csv_or_json_responses, page_responses

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


class Label(BaseModel):
    """An essential service or an enjeu: the code the coverage rows carry, and its label."""

    code: str
    label: str


# Starts like observatoire_store.Report, kept apart on purpose: this is the API's documented answer, that one the
# store's report (with its grille, for the labels); a figure added to the report must not change the API.
class ObservatoireView(BaseModel):
    edition: int
    by: str
    rows: list[observatoire.ObservatoireRow]
    total: observatoire.ObservatoireRow
    services: list[observatoire.Adoption]
    enjeux: list[observatoire.Adoption]
    largest_inequality: observatoire.Adoption | None
    coverage: observatoire_coverage.CoverageReport
    essentiels: list[Label]
    enjeux_labels: list[Label]
    # The map's figures, per département code: labelled per 100 collectivités, and the essentials' coverage
    # (null: no participant there).
    map_labelled_per_100: dict[str, float]
    map_essentiels_rate: dict[str, float | None]
    source: str


class EditionFigures(BaseModel):
    edition: int
    participants: int
    labelled: int
    mean_arobases: float | None
    largest_inequality: observatoire.Adoption | None
    essentiels_rate: float | None
    essentiels_gini: float
    essentiels_theil: float


class AcrossEditions(BaseModel):
    editions: list[EditionFigures]
    gini_by_service: dict[str, dict[int, float]]
    coverage_by_essentiel: dict[str, dict[int, float | None]]


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
    "Essentiels applicables (participantes × services)",
    "Essentiels proposés",
    "Couverture des essentiels",
)


def _csv(report: observatoire_store.Report, view: ObservatoireView) -> bytes:
    header = [*CSV_HEADER]
    for e in view.essentiels:
        header += [f"{e.label} : participantes concernées", f"{e.label} : participantes qui le proposent"]
    header += [f"Enjeu « {e.label} » : participantes qui le couvrent" for e in view.enjeux_labels]

    def line(r: observatoire.ObservatoireRow, c: observatoire_coverage.CoverageRow) -> tuple[spreadsheet.Cell, ...]:
        essentiels = [n for i in c.essentiels for n in (i.applicable, i.covered)]
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
            c.essentiels_applicable,
            c.essentiels_covered,
            c.essentiels_rate,
            *essentiels,
            *(i.covered for i in c.enjeux),
        )

    lines = [line(r, c) for r, c in zip(report.rows, report.coverage.rows, strict=True)]
    return spreadsheet.csv_for_excel(header, [*lines, line(report.total, report.coverage.total)])


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
        coverage=report.coverage,
        essentiels=[Label(code=e.code, label=e.label) for e in report.grille.essentiels],
        enjeux_labels=[Label(code=e.code, label=e.label) for e in report.grille.enjeux],
        map_labelled_per_100=report.labelled_per_100,
        map_essentiels_rate=report.essentiels_rate,
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
    responses=csv_or_json_responses(404, 422),
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
            _csv(report, view_of(report)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="observatoire-{edition}-{by}.csv"'},
        )
    return view_of(report)


async def _across(request: Request) -> AcrossEditions:
    figures = []
    gini_by_service: dict[str, dict[int, float]] = {}
    coverage_by_essentiel: dict[str, dict[int, float | None]] = {}
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
            for e in report.coverage.essentiels:
                coverage_by_essentiel.setdefault(e.code, {})[edition] = e.rate
            figures.append(
                EditionFigures(
                    edition=edition,
                    participants=report.total.participants,
                    labelled=report.total.labelled,
                    mean_arobases=report.total.mean_arobases,
                    largest_inequality=largest,
                    essentiels_rate=report.coverage.total.essentiels_rate,
                    essentiels_gini=report.coverage.inequality.gini,
                    essentiels_theil=report.coverage.inequality.theil,
                )
            )
    return AcrossEditions(
        editions=figures, gini_by_service=gini_by_service, coverage_by_essentiel=coverage_by_essentiel
    )


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
    essentiels = charts.bars(
        [(e.label, 100 * e.rate) for e in view.coverage.essentiels if e.rate is not None],
        unit="% des participantes concernées",
        decimals=1,
    )
    names = {code: d.name for code, d in refdata.load_departements().items()}
    maps = [
        cartogram.tile_map(view.map_labelled_per_100, names, unit="pour 100", decimals=2),
        cartogram.tile_map(
            {k: 100 * v if v is not None else None for k, v in view.map_essentiels_rate.items()}, names, unit="%"
        ),
    ]
    return public_pages.render(
        "observatoire.html.j2",
        maps=maps,
        view=view,
        by_labels=BY_LABELS,
        chart=chart,
        inequality=inequality,
        essentiels_chart=essentiels,
        by_singular=BY_SINGULAR,
    )

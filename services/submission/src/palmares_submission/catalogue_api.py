"""HTTP routes of the catalogue of labelled actions: `GET /v1/actions` (JSON, CSV), the page `/actions`,
and the collectivité's choice to keep an action out of it."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import HTMLResponse
from palmares_label import french
from pydantic import BaseModel, StrictBool

from palmares_submission import api, catalogue, public_pages, spreadsheet, territoires
from palmares_submission.errors import ApiError, csv_or_json_responses, page_responses, responses
from palmares_submission.schemas import COLLECTIVITE_CODE
from palmares_submission.service import commands

router = APIRouter(prefix="/v1", route_class=api.AuthenticatedFirst)
page_router = APIRouter()

MAX_CSV_ROWS = 50_000
PAGE_SIZE = 20
BAND_PATTERN = "^(?:" + "|".join(territoires.BAND_CODES) + ")$"

Code = Annotated[str, Query(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


class CatalogueAction(BaseModel):
    """A labelled action as the catalogue publishes it (never a contact address or a token)."""

    edition: int
    submission_id: UUID
    position: int
    title: str
    description: str
    url: str | None
    services: list[dict[str, str]]
    enjeux: list[dict[str, str]]
    mentions: list[dict[str, str]]
    collectivite_code: str
    name: str
    kind: str
    category: str
    departement: str
    departement_name: str
    region: str
    region_name: str
    population: int
    population_band: str
    arobases: int
    title_highlighted: str
    excerpt_highlighted: str


class ActionsPage(BaseModel):
    items: list[CatalogueAction]
    total: int
    next_cursor: str | None


class CatalogueChoice(BaseModel):
    published: StrictBool


def _filters(
    q: str,
    edition: int | None,
    enjeu: str | None,
    service: str | None,
    mention: str | None,
    category: str | None,
    population: str | None,
    departement: str | None,
    region: str | None,
    arobases: int | None,
    comme: str | None,
) -> catalogue.Filters:
    base = catalogue.Filters()
    if comme:
        found = catalogue.like(comme, edition)
        if found is None:
            raise ApiError(422, f"Collectivité inconnue : {comme}.", field="comme")
        base = found
    return catalogue.Filters(
        q=q.strip(),
        edition=edition,
        enjeu=enjeu or None,
        service=service or None,
        mention=mention or None,
        category=category or base.category,
        population=population or base.population,
        departement=departement or None,
        region=region or None,
        arobases=arobases,
        exclude_code=base.exclude_code,
    )


def _item(hit: catalogue.Hit) -> CatalogueAction:
    r = hit.row
    names = catalogue.labels(r)
    regions = catalogue.region_names()
    return CatalogueAction(
        edition=r["edition"],
        submission_id=r["submission_id"],
        position=r["position"],
        title=r["title"],
        description=r["description"],
        url=r["url"],
        services=[{"code": c, "label": names["services"].get(c, c)} for c in r["services"]],
        enjeux=[{"code": c, "label": names["enjeux"].get(c, c)} for c in r["enjeux"]],
        mentions=[{"code": c, "label": names["mentions"].get(c, c)} for c in r["mentions"]],
        collectivite_code=r["collectivite_code"],
        name=r["name"],
        kind=r["kind"],
        category=r["category"],
        departement=r["departement"],
        departement_name=catalogue.departement_name(r["departement"]),
        region=r["region"],
        region_name=regions.get(r["region"], r["region"]),
        population=r["population"],
        population_band=r["population_band"],
        arobases=r["arobases"],
        title_highlighted=hit.title_html,
        excerpt_highlighted=hit.excerpt_html,
    )


CSV_HEADER = (
    "Édition",
    "Collectivité",
    "Code",
    "Catégorie",
    "Type",
    "Département",
    "Région",
    "Population",
    "Tranche de population",
    "Arobases",
    "Action",
    "Description",
    "Adresse web",
    "Services",
    "Enjeux",
    "Mentions",
)


def _csv_row(item: CatalogueAction) -> tuple[spreadsheet.Cell, ...]:
    return (
        item.edition,
        item.name,
        item.collectivite_code,
        item.category,
        territoires.KINDS.get(item.kind, item.kind),
        f"{item.departement_name} ({item.departement})",
        item.region_name,
        item.population,
        territoires.band_label(item.population_band),
        item.arobases,
        item.title,
        item.description,
        item.url or "",
        " | ".join(s["label"] for s in item.services),
        " | ".join(e["label"] for e in item.enjeux),
        " | ".join(m["label"] for m in item.mentions),
    )


@router.get(
    "/actions",
    response_model=ActionsPage,
    tags=["public"],
    responses=csv_or_json_responses(422),
)
async def list_actions(
    request: Request,
    q: Annotated[str, Query(max_length=200, description="Recherche en français (accents, pluriels)")] = "",
    edition: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    enjeu: Code | None = None,
    service: Code | None = None,
    mention: Code | None = None,
    category: Literal["village", "ville", "territoire"] | None = None,
    population: Annotated[str | None, Query(pattern=BAND_PATTERN, description="tranche de population")] = None,
    departement: Annotated[str | None, Query(max_length=3, pattern=r"^[0-9][0-9AB][0-9]?$")] = None,
    region: Annotated[str | None, Query(max_length=3, pattern=r"^[0-9]{2,3}$")] = None,
    arobases: Annotated[int | None, Query(ge=1, le=5, description="au moins ce nombre d’arobases")] = None,
    comme: Annotated[
        str | None, Query(pattern=COLLECTIVITE_CODE, description="collectivités comme la mienne (code)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = PAGE_SIZE,
    cursor: Annotated[str | None, Query(max_length=40)] = None,
    format: Literal["json", "csv"] = "json",
) -> Any:
    """The labelled actions of published editions: French full-text search, filters, pages (public)."""
    filters = _filters(q, edition, enjeu, service, mention, category, population, departement, region, arobases, comme)
    offset = 0
    if cursor:
        decoded = catalogue.decode_cursor(cursor)
        if decoded is None:
            raise ApiError(422, "Curseur invalide.", field="cursor")
        offset = decoded
    if format == "csv":
        async with api.runtime_of(request).pool.acquire() as conn:
            page = await catalogue.search(conn, filters, limit=MAX_CSV_ROWS, offset=0, highlight=False)
        body = spreadsheet.csv_for_excel(CSV_HEADER, (_csv_row(_item(h)) for h in page.hits))
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="actions-labellisees.csv"'},
        )
    async with api.runtime_of(request).pool.acquire() as conn:
        page = await catalogue.search(conn, filters, limit=limit, offset=offset)
    return ActionsPage(
        items=[_item(h) for h in page.hits],
        total=page.total,
        next_cursor=catalogue.encode_cursor(page.next_offset) if page.next_offset is not None else None,
    )


@router.put(
    "/submissions/{submission_id}/actions/{position}/catalogue",
    response_model=CatalogueChoice,
    tags=["collectivite"],
    responses=responses(*api.AUTH, 404, *api.BODY),
)
async def choose_catalogue(
    submission_id: UUID,
    position: Annotated[int, Path(ge=0, le=1000)],
    body: CatalogueChoice,
    request: Request,
    caller: api.Caller,
) -> CatalogueChoice:
    """Keep one action of the dossier out of the public catalogue (`published: false`), or put it back."""
    await commands.run(
        api.runtime_of(request).transaction,
        lambda tx: commands.choose_catalogue(tx, submission_id, position, body.published, may_read=caller.may_read),
    )
    return body


# --- the page -------------------------------------------------------------------------------------


@page_router.get("/actions", response_class=HTMLResponse, tags=["public"], responses=page_responses(422))
async def actions_page(
    request: Request,
    q: Annotated[str, Query(max_length=200)] = "",
    edition: Annotated[str, Query(max_length=4)] = "",
    enjeu: Annotated[str, Query(max_length=64)] = "",
    service: Annotated[str, Query(max_length=64)] = "",
    mention: Annotated[str, Query(max_length=64)] = "",
    category: Annotated[str, Query(max_length=20)] = "",
    population: Annotated[str, Query(max_length=20)] = "",
    departement: Annotated[str, Query(max_length=3)] = "",
    region: Annotated[str, Query(max_length=3)] = "",
    arobases: Annotated[str, Query(max_length=1)] = "",
    comme: Annotated[str, Query(max_length=9)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    """The catalogue as a French web page: a search form (GET: the filters stay in the address), results, pages."""
    form = {
        "q": q,
        "edition": edition,
        "enjeu": enjeu,
        "service": service,
        "mention": mention,
        "category": category,
        "population": population,
        "departement": departement,
        "region": region,
        "arobases": arobases,
        "comme": comme,
    }
    errors: list[dict[str, str]] = []
    like_name = ""
    base = catalogue.Filters()
    if comme:
        found = catalogue.like(comme.strip(), int(edition) if edition.isdecimal() else None)
        if found is None:
            errors.append(
                {"field": "comme", "message": french.typeset(f"Aucune collectivité n’a le code « {comme} ».")}
            )
        else:
            base = found
            like_name = public_pages.collectivite_name(comme.strip())
    filters = catalogue.Filters(
        q=q.strip(),
        edition=int(edition) if edition.isdecimal() else None,
        enjeu=enjeu or None,
        service=service or None,
        mention=mention or None,
        category=category if category in ("village", "ville", "territoire") else base.category,
        population=population if population in territoires.BAND_CODES else base.population,
        departement=departement or None,
        region=region or None,
        arobases=int(arobases) if arobases.isdecimal() else None,
        exclude_code=base.exclude_code,
    )
    async with api.runtime_of(request).pool.acquire() as conn:
        results = await catalogue.search(conn, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        choices = await public_pages.catalogue_choices(conn)
    return HTMLResponse(
        page_html(
            form,
            errors,
            like_name,
            [_item(h) for h in results.hits],
            total=results.total,
            page=page,
            has_next=results.next_offset is not None,
            choices=choices,
        )
    )


def page_html(
    form: dict[str, str],
    errors: list[dict[str, str]],
    like_name: str,
    items: list[CatalogueAction],
    *,
    total: int,
    page: int,
    has_next: bool,
    choices: public_pages.Choices,
) -> str:
    """The catalogue's page: the search form as the visitor filled it, one page of results."""
    query = {k: v for k, v in form.items() if v}
    return public_pages.render(
        "actions.html.j2",
        form=form,
        errors=errors,
        like_name=like_name,
        items=items,
        total=total,
        page=page,
        pages=max(1, -(-total // PAGE_SIZE)),
        previous_url=f"/actions?{urlencode({**query, 'page': page - 1})}" if page > 1 else None,
        next_url=f"/actions?{urlencode({**query, 'page': page + 1})}" if has_next else None,
        csv_url=f"/v1/actions?{urlencode({**_api_query(query), 'format': 'csv'})}",
        choices=choices,
        editions_options={str(e): str(e) for e in choices.editions},
        bands_options={b.code: b.label for b in territoires.BANDS},
    )


def _api_query(query: dict[str, str]) -> dict[str, str]:
    """The page's filters as the API takes them (the API refuses values the page merely ignores)."""
    valid = dict(query)
    if not valid.get("edition", "").isdecimal():
        valid.pop("edition", None)
    if not valid.get("arobases", "").isdecimal():
        valid.pop("arobases", None)
    return valid

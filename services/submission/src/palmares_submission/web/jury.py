"""The espace jury: editions, the worklist with its tabs, filters and exports (routes: thin)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from palmares_contracts import utcnow
from palmares_label.final import final_mentions

from palmares_submission import calendar, tendances_store, text, worklist, worklist_store
from palmares_submission.domain.errors import NotFound, Refused
from palmares_submission.refdata import load_departements
from palmares_submission.service import commands
from palmares_submission.service import jury as jury_commands
from palmares_submission.spreadsheet import Cell, csv_for_excel, xlsx
from palmares_submission.web import page_store, tendances_page
from palmares_submission.web.collectivite import Dossier, load_dossier
from palmares_submission.web.context import Visit, espaces_of, redirect, render, visit
from palmares_submission.web.dossier_view import STATUS_LABELS

router = APIRouter(prefix="/espace/jury", include_in_schema=False)

Visitor = Annotated[Visit, Depends(visit)]

# The filters a worklist URL keeps (the tab and the page are set by their own links).
MAX_COMMENT = 5_000

FILTERS = ("categorie", "departement", "region", "prenotation", "decided", "mention", "q", "tri", "ordre")


def _refused(v: Visit) -> Response | None:
    """Sign in first; then only jury members enter the espace jury."""
    if v.account is None:
        return redirect(v, "/espace/connexion")
    if v.account.jury is None:
        return render(
            v,
            "introuvable.html.j2",
            status_code=403,
            title="Espace réservé au jury",
            message="Cet espace est réservé aux membres du jury invités par l’équipe du label.",
        )
    return None


@router.get("")
async def editions(v: Visitor, request: Request) -> Response:
    refused = _refused(v)
    if refused:
        return refused
    async with espaces_of(request).runtime.pool.acquire() as conn:
        rows = await page_store.jury_editions(conn)
    return render(v, "jury/editions.html.j2", editions=rows)


def _no_grille(v: Visit, edition: int) -> Response:
    return render(
        v,
        "introuvable.html.j2",
        status_code=404,
        title="Édition introuvable",
        message=f"Aucune grille n’est publiée pour l’édition {edition}.",
    )


def _link(edition: int, params: dict[str, str], **changes: str | int | None) -> str:
    kept = {
        k: v for k, v in {**params, **{k: str(v) if v is not None else "" for k, v in changes.items()}}.items() if v
    }
    query = urlencode(kept)
    return f"/espace/jury/editions/{edition}" + (f"?{query}" if query else "")


@router.get("/editions/{edition}")
async def worklist_page(edition: int, v: Visitor, request: Request) -> Response:
    refused = _refused(v)
    if refused:
        return refused
    params = {k: request.query_params.get(k, "") for k in (*FILTERS, "onglet")}
    error: worklist.QueryError | None = None
    try:
        query = worklist.parse_filters(edition, request.query_params)
    except worklist.QueryError as exc:
        error, query = exc, worklist.WorklistQuery(edition=edition)
    async with espaces_of(request).runtime.pool.acquire() as conn:
        grille = await page_store.grille_of(conn, edition)
        if grille is None:
            return _no_grille(v, edition)
        counts = await worklist_store.counts(conn, query)
        rows = await worklist_store.rows(conn, query)
    total = counts.of(query.tab)
    pages = max(1, -(-total // query.limit))
    filters = {k: params[k] for k in FILTERS}
    departements = sorted(load_departements().values(), key=lambda d: d.code)
    regions = sorted({(d.region, d.region_name) for d in departements}, key=lambda r: r[1])
    return render(
        v,
        "jury/liste.html.j2",
        status_code=400 if error else 200,
        edition=edition,
        query=query,
        error=error,
        counts=counts,
        tabs=[
            (tab, label, counts.of(tab), _link(edition, filters, onglet=tab)) for tab, label in worklist.TABS.items()
        ],
        rows=[(r, STATUS_LABELS[r.status]) for r in rows],
        total=total,
        pages=pages,
        previous=_link(edition, {**filters, "onglet": query.tab}, page=query.page_number - 1)
        if query.page_number > 1
        else None,
        next=_link(edition, {**filters, "onglet": query.tab}, page=query.page_number + 1)
        if query.page_number < pages
        else None,
        sort_link=lambda key: _link(
            edition,
            {**filters, "onglet": query.tab},
            tri=key,
            ordre="desc" if query.sort == key and not query.descending else None,
        ),
        export_query=urlencode({k: val for k, val in {**filters, "onglet": query.tab}.items() if val}),
        filters=filters,
        categories=worklist.CATEGORIES,
        departements=departements,
        regions=regions,
        mentions=[(m.code, m.label) for m in grille.mentions],
        sorts=worklist.SORTS,
    )


EXPORT_HEADER = (
    "Code", "Collectivité", "Catégorie", "Département", "Région", "Révision", "Dépôt",
    "Pré-notation (@)", "Score", "Décision du jury (@)", "À revoir", "Mentions", "État",
)  # fmt: skip


def _export_rows(rows: Sequence[worklist.WorklistRow]) -> Iterator[list[Cell]]:
    for r in rows:
        yield [
            r.collectivite_code,
            r.name,
            worklist.CATEGORIES.get(r.category, r.category),
            r.departement,
            r.region_name,
            r.revision,
            r.submitted_at.strftime("%d/%m/%Y %H:%M"),
            r.arobases,
            r.score,
            r.jury_arobases,
            "oui" if r.to_review_again else "non",
            ", ".join(r.mentions),
            STATUS_LABELS[r.status],
        ]


@router.get("/editions/{edition}/export.{kind}")
async def export(edition: int, kind: str, v: Visitor, request: Request) -> Response:
    """The worklist's current tab and filters, whole, as CSV (French Excel) or XLSX."""
    refused = _refused(v)
    if refused:
        return refused
    if kind not in ("csv", "xlsx"):
        return render(v, "introuvable.html.j2", status_code=404, title="Format inconnu", message="Formats : CSV, XLSX.")
    try:
        query = worklist.parse_filters(edition, request.query_params)
    except worklist.QueryError as exc:
        return render(v, "introuvable.html.j2", status_code=400, title="Filtre invalide", message=exc.message)
    async with espaces_of(request).runtime.pool.acquire() as conn:
        rows = await worklist_store.rows(conn, query, everything=True)
    name = f"dossiers-{edition}-{query.tab}"
    if kind == "csv":
        body, media = csv_for_excel(EXPORT_HEADER, _export_rows(rows)), "text/csv; charset=utf-8"
    else:
        body = xlsx(f"Dossiers {edition}", EXPORT_HEADER, _export_rows(rows), utcnow())
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(
        body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}.{kind}"'}
    )
    return v.finish(response)


@dataclass(frozen=True, slots=True)
class DecisionForm:
    """The decision form as typed (kept on error)."""

    arobases: str = ""
    comment: str = ""
    mentions: frozenset[str] = frozenset()


def _decision_page(
    v: Visit,
    dossier: Dossier,
    form: DecisionForm,
    errors: dict[str, str],
    decision_revision: int | None,
    banner: str | None = None,
) -> Response:
    view = dossier.view
    detected = {m["code"] for m in dossier.detected_mentions}
    return render(
        v,
        "jury/dossier.html.j2",
        status_code=422 if errors else 200,
        **dossier.parts(),
        form=form,
        errors=errors,
        detected=detected,
        grille_mentions=dossier.grille.mentions if dossier.grille else (),
        categories=worklist.CATEGORIES,
        to_review_again=view.jury is not None and calendar.to_review_again(decision_revision, view.revision),
        decision_revision=decision_revision,
        banner=banner,
    )


@router.get("/dossiers/{submission_id}")
async def review(submission_id: UUID, v: Visitor, request: Request) -> Response:
    refused = _refused(v)
    if refused:
        return refused
    async with espaces_of(request).runtime.pool.acquire() as conn:
        dossier = await load_dossier(conn, submission_id, staff=True)
        decision = await page_store.jury_decision(conn, submission_id)
    if dossier is None:
        return render(
            v, "introuvable.html.j2", status_code=404, title="Dossier introuvable", message="Ce dossier n’existe pas."
        )
    view = dossier.view
    if decision is not None:
        form = DecisionForm(
            str(decision.arobases),
            decision.comment,
            frozenset(final_mentions([m["code"] for m in dossier.detected_mentions], decision.mentions)),
        )
    else:
        form = DecisionForm(str(view.arobases or ""), "", frozenset(m["code"] for m in dossier.detected_mentions))
    banner = "Décision enregistrée." if request.query_params.get("message") == "decision" else None
    return _decision_page(v, dossier, form, {}, decision.revision if decision else None, banner)


def _decision_form(fields: Any) -> DecisionForm:
    return DecisionForm(
        arobases=str(fields.get("arobases", "")).strip()[:2],
        comment=str(fields.get("comment", ""))[: MAX_COMMENT + 1],
        mentions=frozenset(str(m)[:100] for m in fields.getlist("mentions")[:50]),
    )


def _form_errors(form: DecisionForm) -> dict[str, str]:
    errors = {}
    if form.arobases not in {"1", "2", "3", "4", "5"}:
        errors["arobases"] = "Choisissez de 1 à 5 le nombre d’arobases que le jury attribue."
    if len(form.comment) > MAX_COMMENT:
        errors["comment"] = f"Le commentaire tient en {MAX_COMMENT} caractères au plus."
    elif text.problem_in(form.comment, multiline=True) is not None:
        # As the API's JuryRequest: a NUL would have reached PostgreSQL (a 500), other controls an email.
        errors["comment"] = "Le commentaire contient des caractères de contrôle : retirez-les."
    return errors


@router.post("/dossiers/{submission_id}")
async def decide(submission_id: UUID, v: Visitor, request: Request) -> Response:
    """Record the decision of the review page's form (the same command as the API's)."""
    refused = _refused(v)
    if refused:
        return refused
    assert v.account is not None and v.account.jury is not None  # _refused
    fields = await request.form()
    if not v.csrf_valid(str(fields.get("csrf", ""))):
        return render(v, "formulaire-expire.html.j2", status_code=403)
    form = _decision_form(fields)
    errors = _form_errors(form)
    raw_revision = str(fields.get("revision", ""))
    revision = int(raw_revision) if raw_revision.isdecimal() and len(raw_revision) < 9 else None
    espaces = espaces_of(request)
    if not errors:
        member = v.account.jury.name
        try:
            await commands.run(
                espaces.runtime.transaction,
                lambda tx: jury_commands.decide(
                    tx,
                    submission_id,
                    arobases=int(form.arobases),
                    comment=form.comment,
                    decided_by=member,
                    revision=revision,
                    mention_codes=sorted(form.mentions),
                ),
            )
        except NotFound:
            return render(
                v,
                "introuvable.html.j2",
                status_code=404,
                title="Dossier introuvable",
                message="Ce dossier n’existe pas.",
            )
        except Refused as problem:
            errors[(problem.field or "arobases").split(".")[0]] = problem.message
        else:
            return redirect(v, f"/espace/jury/dossiers/{submission_id}?message=decision")
    async with espaces.runtime.pool.acquire() as conn:
        dossier = await load_dossier(conn, submission_id, staff=True)
        decision = await page_store.jury_decision(conn, submission_id)
    if dossier is None:
        return render(
            v, "introuvable.html.j2", status_code=404, title="Dossier introuvable", message="Ce dossier n’existe pas."
        )
    return _decision_page(v, dossier, form, errors, decision.revision if decision else None)


@router.get("/editions/{edition}/tendances")
async def tendances(edition: int, v: Visitor, request: Request) -> Response:
    """The comité's report: the actions no service of the grille describes, in themes; the services nobody declared."""
    refused = _refused(v)
    if refused:
        return refused
    chosen, error = tendances_page.options(request.query_params)
    async with espaces_of(request).runtime.pool.acquire() as conn:
        report = await tendances_store.report(
            conn, edition, min_dossiers=chosen.min_dossiers, text_only=chosen.text_only
        )
    if report is None:
        return _no_grille(v, edition)
    return render(
        v,
        "jury/tendances.html.j2",
        status_code=400 if error else 200,
        **tendances_page.context(
            report.grille, report.found, chosen, error, next_grille=report.next_grille, citations=report.citations
        ),
    )

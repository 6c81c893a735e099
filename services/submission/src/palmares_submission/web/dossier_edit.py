"""The espace collectivité's dossier form: create and revise a dossier (routes: thin).

The POST runs the same command as the API (`commands.submit`): every rule
(campaign open, calendar, services of the grille, plausible dates) is the
API's, and each refusal comes back beside the field at fault, in French,
with what was typed kept. A hidden key makes a form posted twice (a double
click, a reload) one revision (the command's idempotency).
"""

from __future__ import annotations

import re
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from palmares_contracts import Category, utcnow
from palmares_label import french
from palmares_label.french import category_plural

from palmares_submission import calendar, calendar_store, store
from palmares_submission.domain.errors import Conflict, NotFound, Refused
from palmares_submission.service import commands
from palmares_submission.web import dossier_form, page_store
from palmares_submission.web.context import Visit, espaces_of, redirect, render, visit
from palmares_submission.web.dossier_form import DossierForm

router = APIRouter(prefix="/espace", include_in_schema=False)

Visitor = Annotated[Visit, Depends(visit)]

_KEY = re.compile(r"^[A-Za-z0-9_-]{22}$")


def _page(v: Visit, status_code: int, title: str, message: str) -> Response:
    return render(v, "introuvable.html.j2", status_code=status_code, title=title, message=message)


async def _context(request: Request, code: str, edition: int) -> dict[str, Any] | str | None:
    """What the form shows (None: no such collectivité; a French sentence: why the campaign takes no dossier)."""
    async with espaces_of(request).runtime.pool.acquire() as conn:
        collectivite = await store.collectivite(conn, code)
        if collectivite is None:
            return None
        ed = await store.edition(conn, edition)
        grille = await page_store.grille_of(conn, edition) if ed is not None else None
        current = await store.current_revision(conn, edition, code)
        withheld = await page_store.catalogue_withheld(conn, edition, code) if current else frozenset()
        reopening = await calendar_store.reopening(conn, edition, code)
    if ed is None or grille is None:
        return f"La campagne {edition} n’est pas ouverte : aucune grille n’est publiée."
    if ed.palmares_published_at is not None:
        return f"La campagne {edition} est close : le palmarès a été publié."
    closed = calendar.refusal(edition, grille.closes_at, utcnow(), reopening)
    if closed is not None:
        return closed
    category = current.collectivite.category.value if current else collectivite.category
    return {
        "collectivite": collectivite,
        "collectivite_de": french.collectivite(collectivite.name, collectivite.kind).de,
        "edition": edition,
        "closes_at": reopening.until if reopening and reopening.until else grille.closes_at,
        "revising": current is not None,
        "current": current,
        "withheld": withheld,
        "services": dossier_form.services_for(grille, category),
        "category_label": category_plural(Category(category)),
    }


async def _open(v: Visit, request: Request, code: str, edition: int) -> dict[str, Any] | Response:
    if v.account is None:
        return redirect(v, "/espace/connexion")
    if not v.account.may_edit(code):
        return _page(v, 404, "Dossier introuvable", "Ce dossier n’existe pas ou n’est pas dans votre espace.")
    context = await _context(request, code, edition)
    if context is None:
        return _page(v, 404, "Dossier introuvable", "Ce dossier n’existe pas ou n’est pas dans votre espace.")
    if isinstance(context, str):
        return _page(v, 409, "Campagne close", context)
    return context


@router.get("/collectivites/{code}/editions/{edition}/dossier")
async def dossier_form_page(code: str, edition: int, v: Visitor, request: Request) -> Response:
    """The form, empty for a first dossier, filled with the current revision to revise it."""
    context = await _open(v, request, code, edition)
    if isinstance(context, Response):
        return context
    current = context.pop("current")
    withheld = context.pop("withheld")
    form = DossierForm.of(current, withheld) if current is not None else DossierForm()
    return render(v, "collectivite/formulaire.html.j2", **context, form=form, errors={}, key=secrets.token_urlsafe(16))


@router.post("/collectivites/{code}/editions/{edition}/dossier")
async def send_dossier(code: str, edition: int, v: Visitor, request: Request) -> Response:
    """Add or remove an action (the form again), or send the dossier: a new revision, or the errors beside their fields."""
    fields = await request.form()
    if not v.csrf_valid(str(fields.get("csrf", ""))):
        return render(v, "formulaire-expire.html.j2", status_code=403)
    context = await _open(v, request, code, edition)
    if isinstance(context, Response):
        return context
    revising = context.pop("current") is not None
    context.pop("withheld")
    form = DossierForm.parse(fields)
    key = str(fields.get("cle", ""))
    key = key if _KEY.match(key) else secrets.token_urlsafe(16)

    def again(errors: dict[str, str], status_code: int = 422) -> Response:
        return render(
            v, "collectivite/formulaire.html.j2", status_code=status_code, **context, form=form, errors=errors, key=key
        )

    if "ajouter" in fields or "retirer" in fields:
        return again({}, status_code=200)
    body, errors = dossier_form.validate(form)
    if body is None:
        return again(errors)
    settings = espaces_of(request).settings
    try:
        done = await commands.run(
            espaces_of(request).runtime.transaction,
            lambda tx: commands.submit(
                tx,
                edition,
                code,
                body,
                f"espace-{key}",
                village_max_population=settings.village_max_population,
            ),
        )
    except (Conflict, NotFound) as refused:
        return _page(v, 409, "Campagne close", refused.message)
    except Refused as refused:
        if refused.field == "Idempotency-Key":
            # This form was sent already, then changed: a new key makes the next send a new revision.
            key = secrets.token_urlsafe(16)
            return again(
                {"actions-0-title": "Ce formulaire avait déjà été envoyé : vérifiez-le, puis envoyez-le à nouveau."}
            )
        field = dossier_form.field_id(form, refused.field)
        return again({field: dossier_form.message_for(field, refused.message)})
    message = "revise" if revising else "depose"
    return redirect(v, f"/espace/dossiers/{done.accepted.submission_id}?message={message}")

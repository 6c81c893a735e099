"""The espace collectivité: the dashboard and the dossier page (routes: thin)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from palmares_contracts import Grille, SubmissionReceived
from palmares_eventkit.db import Connection
from palmares_label import french

from palmares_submission import store
from palmares_submission.distinctions import EXCELLENCE, EXCELLENCE_SINCE, distinctions, excellence_progress
from palmares_submission.schemas import StatusView
from palmares_submission.service import status_view
from palmares_submission.web import dossier_view, page_store
from palmares_submission.web.context import Visit, espaces_of, redirect, render, visit

router = APIRouter(prefix="/espace", include_in_schema=False)

Visitor = Annotated[Visit, Depends(visit)]


def not_found(v: Visit, title: str, message: str, status_code: int = 404) -> Response:
    return render(v, "introuvable.html.j2", status_code=status_code, title=title, message=message)


@router.get("/collectivite")
async def dashboard(v: Visitor, request: Request) -> Response:
    if v.account is None:
        return redirect(v, "/espace/connexion")
    if not v.account.collectivites:
        return redirect(v, v.account.home)
    codes = sorted(v.account.codes)
    async with espaces_of(request).runtime.pool.acquire() as conn:
        dossiers = await page_store.dossiers_of(conn, codes)
        editions = await page_store.open_editions(conn)
        history = await store.label_history(conn, codes)
    cards = []
    for c in v.account.collectivites:
        own = [d for d in dossiers if d.collectivite_code == c.code]
        by_edition = {d.edition: d for d in own}
        labels = history.get(c.code, {})
        fives, needed = excellence_progress(labels)
        cards.append(
            {
                "collectivite": c,
                "open": [
                    {"edition": e.edition, "dossier": by_edition.get(e.edition), "deadline": e.grille.closes_at}
                    for e in editions
                    if c.category in {cat.value for s in e.grille.services for cat in s.applies_to}
                ],
                "past": [d for d in own if d.palmares_published_at is not None],
                "labels": sorted(labels.items(), reverse=True),
                "excellence": {
                    "fives": fives,
                    "needed": needed,
                    "held": [ed for ed in sorted(labels) if distinctions(labels, ed)],
                    "name": EXCELLENCE,
                    "since": EXCELLENCE_SINCE,
                },
            }
        )
    return render(v, "collectivite/tableau-de-bord.html.j2", cards=cards)


@dataclass(frozen=True, slots=True)
class Dossier:
    """Everything a dossier's pages show: its status view, what it declared, its grille, its collectivité."""

    view: StatusView
    published: bool
    content: SubmissionReceived | None
    grille: Grille | None
    collectivite: store.CollectiviteRow
    detected_mentions: list[dict[str, Any]] = field(default_factory=list)  # as detected, whatever the jury granted

    @property
    def service_labels(self) -> dict[str, str]:
        return {s.code: s.label for s in self.grille.services} if self.grille else {}

    def parts(self) -> dict[str, Any]:
        """The template context both the collectivité's page and the jury's review page use."""
        view = self.view
        return {
            "view": view,
            "collectivite": self.collectivite,
            # « du Mans », « de la communauté de communes de Parthenay-Gâtine »: never « de Le Mans ».
            "collectivite_de": french.collectivite(self.collectivite.name, self.collectivite.kind).de,
            "content": self.content,
            "published": self.published,
            "chart": dossier_view.coverage_chart(view.explanation.enjeux, self.grille) if view.explanation else None,
            "next_level": dossier_view.next_level(view, self.grille),
            "mentions": dossier_view.mentions(view, self.grille),
            "missed": dossier_view.missed_mentions(view),
            "to_declare": dossier_view.services_to_declare(view),
            "service_labels": self.service_labels,
        }


async def load_dossier(conn: Connection, submission_id: UUID, *, staff: bool = False) -> Dossier | None:
    """A dossier as its pages show it; `staff` (the jury) reads the jury's decision before the palmarès."""
    found = await status_view.read(conn, submission_id, staff=staff)
    if found is None:
        return None
    view = found.view
    collectivite = await store.collectivite(conn, view.collectivite_code)
    assert collectivite is not None  # a dossier's collectivité is registered (foreign key)
    return Dossier(
        view=view,
        published=found.submission.palmares_published_at is not None,
        content=await page_store.dossier_content(conn, submission_id, view.revision),
        grille=await page_store.grille_of(conn, view.edition, view.grille_version),
        collectivite=collectivite,
        detected_mentions=found.detected_mentions,
    )


@router.get("/dossiers/{submission_id}")
async def dossier_page(submission_id: UUID, v: Visitor, request: Request) -> Response:
    """A dossier, for its collectivité, the jury, or whoever holds the signed link of an email (read-only)."""
    espaces = espaces_of(request)
    by_link = espaces.links.opens(request.query_params.get("token", ""), submission_id)
    reader_is_jury = v.account is not None and v.account.jury is not None
    async with espaces.runtime.pool.acquire() as conn:
        dossier = await load_dossier(conn, submission_id, staff=reader_is_jury)
    code = dossier.view.collectivite_code if dossier else ""
    if dossier is None or not (by_link or (v.account is not None and v.account.may_read(code))):
        if v.account is None and not by_link:
            # Same answer for a dossier that does not exist and for one that is not yours.
            return not_found(
                v,
                "Connexion nécessaire",
                "Connectez-vous pour voir ce dossier, ou ouvrez le lien du dernier courriel du label.",
                status_code=401,
            )
        return not_found(v, "Dossier introuvable", "Ce dossier n’existe pas ou n’est pas dans votre espace.")
    view = dossier.view
    return render(
        v,
        "collectivite/dossier.html.j2",
        **dossier.parts(),
        status_label=dossier_view.STATUS_LABELS[view.status],
        steps=dossier_view.timeline(view, dossier.published),
        emails=dossier_view.emails(view),
        # The jury's decision is the collectivité's to read once the palmarès is published (service.status_view).
        jury=view.jury,
        editable=v.account is not None and v.account.may_edit(code) and not dossier.published,
        read_only_link=by_link and v.account is None,
        banner=_BANNERS.get(request.query_params.get("message", "")),
    )


# Messages shown once after an action, chosen by a fixed key (never text from the URL).
_BANNERS = {
    "depose": "Votre dossier est déposé. Un accusé de réception part à l’adresse de contact.",
    "revise": "Votre dossier est modifié\u00a0: la nouvelle révision est enregistrée et sera évaluée.",
}

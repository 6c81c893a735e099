"""What the dossier page shows, from the status view, the grille and the dossier (pure: no I/O).

The page tells a collectivité where its dossier is (a timeline), what the
pré-notation found (arobases, coverage per enjeu drawn as bars, the way to
the next arobase, the actions that did not count), the mentions and their
evidence, the mentions just missed and why, the services that actions describe
without declaring them, the emails sent, and the jury's decision once the palmarès is out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from palmares_contracts import Grille
from palmares_label import french

from palmares_submission.schemas import StatusView

STATUS_LABELS = {"received": "Reçu", "evaluated": "Évalué", "notified": "Notifié"}
EMAIL_KINDS = {"receipt": "Accusé de réception", "award": "Résultat du label", "rectificatif": "Rectificatif"}


@dataclass(frozen=True, slots=True)
class Step:
    title: str
    state: str  # "fait", "en-cours", "a-venir"
    detail: str


def timeline(view: StatusView, palmares_published: bool) -> list[Step]:
    """Reçu → évalué → notifié, each done, in progress or to come."""
    order = ["received", "evaluated", "notified"]
    reached = order.index(view.status)

    def state(i: int) -> str:
        return "fait" if i <= reached else ("en-cours" if i == reached + 1 else "a-venir")

    notified_detail = (
        "Accusé de réception et résultat envoyés."
        if palmares_published
        else "Accusé de réception envoyé\u202f; le résultat suivra la publication du palmarès."
    )
    return [
        Step("Reçu", state(0), f"Révision n°\u00a0{view.revision} enregistrée."),
        Step(
            "Évalué",
            state(1),
            "Pré-notation et mentions calculées." if reached >= 1 else "Pré-notation et mentions en cours de calcul.",
        ),
        Step("Notifié", state(2), notified_detail if reached >= 2 else "Courriels en préparation."),
    ]


@dataclass(frozen=True, slots=True)
class Bar:
    """One enjeu of the coverage chart."""

    code: str
    label: str
    coverage: float
    services: list[str]
    y: int
    width: float


@dataclass(frozen=True, slots=True)
class CategoryBars:
    label: str
    y: int
    bars: list[Bar]


@dataclass(frozen=True, slots=True)
class CoverageChart:
    """A horizontal bar chart, laid out here so that the template only draws (SVG, no inline style)."""

    groups: list[CategoryBars]
    height: int
    bar_x: int = 300
    bar_width: int = 380

    @property
    def bars(self) -> list[Bar]:
        return [b for g in self.groups for b in g.bars]


ROW = 26
HEADING = 30


def coverage_chart(enjeux: list[dict[str, Any]], grille: Grille | None) -> CoverageChart:
    """The enjeux of the pré-notation, grouped by the grille's categories, in the grille's order."""
    by_code = {e["code"]: e for e in enjeux}
    service_labels = {s.code: s.label for s in grille.services} if grille else {}
    groups: list[CategoryBars] = []
    y = 0
    if grille is not None:
        sections = [
            (c.label, [e for e in grille.enjeux if e.category == c.code and e.code in by_code])
            for c in grille.categories
        ]
        ordered = [(label, [(e.code, e.label) for e in members]) for label, members in sections if members]
    else:
        ordered = [("Enjeux", [(e["code"], e.get("label") or e["code"]) for e in enjeux])]
    for label, members in ordered:
        heading_y = y
        y += HEADING
        bars = []
        for code, enjeu_label in members:
            e = by_code[code]
            coverage = float(e.get("coverage") or 0)
            bars.append(
                Bar(
                    code=code,
                    label=e.get("label") or enjeu_label,
                    coverage=coverage,
                    services=[service_labels.get(s, s) for s in e.get("services", [])],
                    y=y,
                    width=round(380 * coverage, 1),
                )
            )
            y += ROW
        groups.append(CategoryBars(label, heading_y, bars))
    return CoverageChart(groups=groups, height=y + 4)


def next_level(view: StatusView, grille: Grille | None) -> dict[str, Any] | None:
    """The next arobase: how many points are missing (« 1,2 point »), and services of the grille that would bring them."""
    if view.explanation is None or not view.explanation.next_level:
        return None
    nl = view.explanation.next_level
    labels = _labels(grille)
    return {
        "target": nl.get("target_arobases"),
        "points": nl.get("points_missing"),
        "missing": french.count(float(nl.get("points_missing") or 0), "point"),
        "services": [labels.get(code, code) for code in nl.get("suggested_services", [])],
    }


def _labels(grille: Grille | None) -> dict[str, str]:
    return {s.code: s.label for s in grille.services} if grille else {}


def mentions(view: StatusView, grille: Grille | None = None) -> list[dict[str, Any]]:
    """Mentions with their evidence, as the page lists them: the words found quoted, the services by their label."""
    labels = _labels(grille)
    shown = []
    for m in view.mentions or []:
        evidence = [
            {
                "where": f"Action {french.quoted(ev['action_title'])}"
                if ev.get("action_title")
                else "Récit du dossier",
                "snippet": ev.get("snippet") or "",
                "terms": [french.quoted(term) for term in dict.fromkeys(ev.get("matched_terms") or [])],
                "services": [labels.get(code, code) for code in dict.fromkeys(ev.get("service_codes") or [])],
            }
            for ev in m.get("evidence", [])
        ]
        shown.append({"code": m["code"], "label": m["label"], "evidence": evidence})
    return shown


def missed_mentions(view: StatusView) -> list[dict[str, str]]:
    """The mentions just missed, each with what was lacking (« La mention … n’est pas obtenue : … »).

    A mention that the dossier holds (the jury may grant one that the detection
    missed) is not told as missed.
    """
    held = {m["code"] for m in view.mentions or []}
    return [
        {"label": m["label"], "lacking": m["lacking"]}
        for m in view.mentions_missed or []
        if m.get("code") not in held and m.get("lacking")
    ]


def services_to_declare(view: StatusView) -> list[dict[str, Any]]:
    """The grille services that an action describes but the dossier does not declare, with the advice to declare them."""
    return [
        {
            "action": s.get("action_title") or "",
            "service": s.get("service_label") or s.get("service_code") or "",
            "message": s["message"],
            "snippet": s.get("snippet") or "",
        }
        for s in view.suggestions or []
        if s.get("message")
    ]


@dataclass(frozen=True, slots=True)
class Email:
    kind: str
    status: str
    at: datetime
    revision: int | None
    reason: str | None


def emails(view: StatusView) -> list[Email]:
    return [
        Email(
            kind=EMAIL_KINDS.get(n.kind, n.kind),
            status="Envoyé" if n.status == "sent" else "Échec de l’envoi",
            at=n.at,
            revision=n.revision,
            reason=n.reason,
        )
        for n in view.notifications
    ]

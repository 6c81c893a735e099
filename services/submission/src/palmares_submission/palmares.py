"""The published palmarès: one view, served as JSON, CSV and a French HTML page."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import asyncpg
from jinja2 import Environment, PackageLoader, StrictUndefined

from palmares_submission import store
from palmares_submission.distinctions import distinctions
from palmares_submission.schemas import PalmaresEntry, PalmaresView

_env = Environment(
    loader=PackageLoader("palmares_submission", "templates"),
    autoescape=True,  # everything shown comes from dossiers and reference data: escape it all
    undefined=StrictUndefined,
)

GROUPS = (("villages", "Villages"), ("villes", "Villes"), ("territoires", "Territoires"))
# Agreement of "labellisé" with each group's noun (une ville, un village, un territoire).
_LABELLED = {"villages": "Villages labellisés", "villes": "Villes labellisées", "territoires": "Territoires labellisés"}
_CATEGORY_GROUP = {"village": "villages", "ville": "villes", "territoire": "territoires"}


async def view(conn: asyncpg.Connection, edition: int) -> PalmaresView | None:
    """The palmarès of an edition, or None while it is not published."""
    ed = await conn.fetchrow("SELECT palmares_published_at, ceremony FROM editions WHERE edition = $1", edition)
    if ed is None or ed["palmares_published_at"] is None:
        return None
    groups: dict[str, list[PalmaresEntry]] = {key: [] for key, _ in GROUPS}
    for r in await store.palmares_rows(conn, edition):
        arobases = r["jury_arobases"] or r["pre_notation"]
        if arobases is None:
            continue  # not evaluated yet: not in the palmarès
        groups[_CATEGORY_GROUP[r["category"]]].append(
            PalmaresEntry(
                collectivite_code=r["code"],
                name=r["name"],
                category=r["category"],
                arobases=arobases,
                pre_notation=r["pre_notation"],
                mentions=[m["label"] for m in json.loads(r["mentions"])] if r["mentions"] else [],
            )
        )
    history = await store.label_history(conn, [e.collectivite_code for g in groups.values() for e in g])
    for key, entries in groups.items():
        groups[key] = sorted(
            (
                e.model_copy(update={"distinctions": distinctions(history.get(e.collectivite_code, {}), edition)})
                for e in entries
            ),
            key=lambda e: (-e.arobases, e.name),
        )
    return PalmaresView(
        edition=edition,
        published_at=ed["palmares_published_at"],
        ceremony=json.loads(ed["ceremony"]) if ed["ceremony"] else None,
        **groups,
    )


# A cell starting with one of these is a formula to a spreadsheet (CSV injection, OWASP).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """A text cell a spreadsheet shows as text: a leading apostrophe before a formula sign."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(palmares: PalmaresView) -> str:
    """One row per labelled collectivité (RFC 4180, UTF-8, French column names; no cell is a formula)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        ["edition", "categorie", "code", "collectivite", "arobases", "pre_notation", "mentions", "distinctions"]
    )
    for key, _ in GROUPS:
        for e in getattr(palmares, key):
            writer.writerow(
                _cell(value)
                for value in (
                    palmares.edition,
                    e.category.value,
                    e.collectivite_code,
                    e.name,
                    e.arobases,
                    e.pre_notation if e.pre_notation is not None else "",
                    " | ".join(e.mentions),
                    " | ".join(e.distinctions),
                )
            )
    return out.getvalue()


def to_html(palmares: PalmaresView) -> str:
    groups = [
        {
            "anchor": key,
            "title": title,
            "caption": _LABELLED[key],
            "entries": [e.model_dump() for e in getattr(palmares, key)],
        }
        for key, title in GROUPS
    ]
    return _env.get_template("palmares.html.j2").render(
        edition=palmares.edition,
        published_on=palmares.published_at.strftime("%d/%m/%Y"),
        ceremony=_french_ceremony(palmares.ceremony),
        groups=groups,
        total=sum(len(g["entries"]) for g in groups),
    )


def _french_ceremony(ceremony: dict[str, object] | None) -> dict[str, object] | None:
    if not ceremony:
        return None
    day = date.fromisoformat(str(ceremony["date"]))
    return {**ceremony, "date": day.strftime("%d/%m/%Y")}


def not_published_html(edition: int) -> str:
    return _env.from_string(
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Palmarès {{ e }}</title></head>'
        "<body><h1>Palmarès {{ e }}</h1><p>Le palmarès {{ e }} n'est pas encore publié.</p></body></html>"
    ).render(e=edition)

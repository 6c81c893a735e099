"""The published palmarès: one view, served as JSON, as a French HTML page and as files (`palmares_exports`)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from jinja2 import Environment, PackageLoader, StrictUndefined
from palmares_contracts import Category, Distinction
from palmares_eventkit.db import Connection
from palmares_label import french
from palmares_label.final import final_arobases, final_mentions

from palmares_submission import collation, refdata, store
from palmares_submission.distinctions import distinctions
from palmares_submission.schemas import PalmaresEntry, PalmaresView

_env = Environment(
    loader=PackageLoader("palmares_submission", "templates"),
    autoescape=True,  # everything shown comes from dossiers and reference data: escape it all
    undefined=StrictUndefined,
)
_env.filters["count_in_words"] = french.count_in_words

GROUPS = (("villages", "Villages"), ("villes", "Villes"), ("territoires", "Territoires"))
# Agreement of "labellisé" with each group's noun (une ville, un village, un territoire).
_LABELLED = {"villages": "Villages labellisés", "villes": "Villes labellisées", "territoires": "Territoires labellisés"}
_CATEGORY_GROUP = {"village": "villages", "ville": "villes", "territoire": "territoires"}


async def view(conn: Connection, edition: int) -> PalmaresView | None:
    """The palmarès of an edition, or None while it is not published."""
    ed = await conn.fetchrow("SELECT palmares_published_at, ceremony FROM editions WHERE edition = $1", edition)
    if ed is None or ed["palmares_published_at"] is None:
        return None
    rows = await store.palmares_rows(conn, edition)
    history = await store.label_history(conn, [r.code for r in rows])
    groups: dict[str, list[PalmaresEntry]] = {key: [] for key, _ in GROUPS}
    for r in rows:
        # Each entry built once, with its distinctions (not copied to add them): a large edition's view is
        # held once in memory.
        found = entry_of(edition, r, distinctions(history.get(r.code, {}), edition))
        if found is not None:
            groups[_CATEGORY_GROUP[r.category]].append(found)
    for entries in groups.values():
        entries.sort(key=order)
    return PalmaresView(
        edition=edition,
        published_at=ed["palmares_published_at"],
        ceremony=json.loads(ed["ceremony"]) if ed["ceremony"] else None,
        attribution=refdata.attribution(refdata.millesime_for(edition)),
        **groups,
    )


# Dossiers read at a time by `edition_distinctions`: its memory stays that of a chunk (a few hundred kilobytes)
# whatever the edition's size, for a round trip or two per 2,000 dossiers.
DISTINCTIONS_CHUNK = 2000


async def edition_distinctions(conn: Connection, edition: int, chunk: int = DISTINCTIONS_CHUNK) -> list[Distinction]:
    """The distinctions of the edition's palmarès (those `view` shows), read by chunks of dossiers.

    The publication needs them for its event; building the whole view for that held every entry of the edition
    in memory at once (about 100 MB at 36,000 dossiers)."""
    found: list[Distinction] = []
    after = UUID(int=0)
    while rows := await store.arobases_after(conn, edition, after, chunk):
        after = rows[-1].submission_id
        ranked = [r.code for r in rows if final_arobases(r.pre_notation, r.jury_arobases) is not None]
        history = await store.label_history(conn, ranked)
        found.extend(
            Distinction(collectivite_code=code, label=label)
            for code in ranked
            for label in distinctions(history.get(code, {}), edition)
        )
    return found


def entry_of(edition: int, r: store.PalmaresRow, distinctions: Sequence[str] = ()) -> PalmaresEntry | None:
    """A dossier's entry with its final arobases and mentions (`palmares_label.final`) and the `distinctions` it
    holds; None until it is evaluated."""
    arobases = final_arobases(r.pre_notation, r.jury_arobases)
    if arobases is None:
        return None
    return entry(
        edition,
        code=r.code,
        name=r.name,
        kind=r.kind,
        category=r.category,
        departement=r.departement,
        arobases=arobases,
        pre_notation=r.pre_notation,
        mentions=[m["label"] for m in final_mentions(_json(r.mentions), _json(r.jury_mentions))],
        distinctions=list(distinctions),
    )


def _json(value: str | None) -> Any:
    return json.loads(value) if value is not None else None


def entry(
    edition: int,
    *,
    code: str,
    name: str,
    kind: str,
    category: str,
    departement: str,
    arobases: int,
    pre_notation: int | None,
    mentions: list[str],
    distinctions: list[str] | None = None,
) -> PalmaresEntry:
    """A collectivité's line of the palmarès, with what French readers see: its official name,
    its département and région by name, typographic apostrophes."""
    ref = refdata.load_departements().get(departement)
    return PalmaresEntry(
        collectivite_code=code,
        name=name,
        official_name=official_name(code, name, kind, edition),
        category=Category(category),
        arobases=arobases,
        pre_notation=pre_notation,
        mentions=mentions,
        departement=departement,
        departement_name=french.typographic(ref.name) if ref else "",
        region=french.typographic(ref.region_name) if ref else "",
        distinctions=distinctions or [],
    )


def official_name(code: str, name: str, kind: str, edition: int) -> str:
    """How the palmarès names a collectivité: an EPCI by its full official name (« Communauté de communes de … »)."""
    ref = refdata.lookup_for_edition(code, edition)
    return french.collectivite(name, kind, ref.epci_type if ref else None).entry


# Words an EPCI's name begins with that an index skips: its type and a preposition or article.
_UNSORTED_START = re.compile(
    r"^(?:(?:CC|CA|CU)\s+)?(?:(?:de\s+la|de\s+l[’']|de|du|des|d[’']|la|le|les|l[’'])\s*)?", re.I
)


def order(entry: PalmaresEntry) -> tuple[int, tuple[int, ...], str]:
    """Most arobases first, then French alphabetical order (an EPCI under its distinctive name)."""
    name = entry.name
    if entry.category == "territoire":
        name = _UNSORTED_START.sub("", name, count=1) or name
    return (-entry.arobases, collation.sort_key(name), entry.collectivite_code)


def to_html(palmares: PalmaresView) -> str:
    groups = [
        {
            "anchor": key,
            "title": title,
            "caption": _LABELLED[key],
            "entries": getattr(palmares, key),  # the template reads their attributes: no copy as dicts
        }
        for key, title in GROUPS
    ]
    ceremony = palmares.ceremony
    return _env.get_template("palmares.html.j2").render(
        edition=palmares.edition,
        published_on=french.long_date(palmares.published_at),
        ceremony=(
            {"date": french.long_date(str(ceremony["date"])), "at_place": french.place(str(ceremony["place"])).a}
            if ceremony
            else None
        ),
        groups=groups,
        total=sum(len(g["entries"]) for g in groups),
        attribution=palmares.attribution or refdata.attribution(refdata.millesime_for(palmares.edition)),
        licence_url=refdata.LICENCE_URL,
    )


def not_published_html(edition: int) -> str:
    return _env.from_string(
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Palmarès {{ e }}</title></head>'
        "<body><main><h1>Palmarès {{ e }}</h1><p>Le palmarès {{ e }} n’est pas encore publié.</p></main></body></html>"
    ).render(e=edition)

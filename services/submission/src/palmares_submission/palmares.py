"""The published palmarès: one view, served as JSON, as a French HTML page and as files (`palmares_exports`)."""

from __future__ import annotations

import json
import re
import sys
from array import array
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from jinja2 import Environment, PackageLoader, StrictUndefined
from palmares_contracts import Category, Distinction
from palmares_eventkit.db import Connection
from palmares_label import french
from palmares_label.final import final_arobases, final_mentions
from pydantic import TypeAdapter

from palmares_submission import collation, palmares_exports, refdata, store
from palmares_submission.distinctions import distinctions
from palmares_submission.schemas import PalmaresEntry, PalmaresView

_env = Environment(
    loader=PackageLoader("palmares_submission", "templates"),
    autoescape=True,  # everything shown comes from dossiers and reference data: escape it all
    undefined=StrictUndefined,
)
_env.filters["count_in_words"] = french.count_in_words
# The same templates, rendered as their async iterables are read (`page`).
_async_env = _env.overlay(enable_async=True)

GROUPS = (("villages", "Villages"), ("villes", "Villes"), ("territoires", "Territoires"))
# Agreement of "labellisé" with each group's noun (une ville, un village, un territoire).
_LABELLED = {"villages": "Villages labellisés", "villes": "Villes labellisées", "territoires": "Territoires labellisés"}
_CATEGORY_GROUP = {"village": "villages", "ville": "villes", "territoire": "territoires"}


# Dossiers read at a time by `edition_distinctions` and `ranking`: their memory stays that of a chunk (a few
# hundred kilobytes) besides what they keep, for a round trip or two per 2,000 dossiers.
DISTINCTIONS_CHUNK = 2000


@dataclass(frozen=True, slots=True)
class Ranking:
    """A published palmarès reduced to its order: the dossiers of each group, best first (`order`).

    What a build of the palmarès holds for the whole edition: a submission id per labelled dossier (about
    100 bytes), where the entries themselves (`PalmaresEntry`, a few kilobytes each with their strings) are
    built a chunk at a time (`entries`), so that the page of a national edition costs tens of megabytes to
    build, not hundreds."""

    edition: int
    published_at: datetime
    ceremony: dict[str, Any] | None
    groups: dict[str, list[UUID]]

    @property
    def total(self) -> int:
        return sum(len(ids) for ids in self.groups.values())

    @property
    def attribution(self) -> str:
        return refdata.attribution(refdata.millesime_for(self.edition))


def snapshot(conn: Connection) -> AbstractAsyncContextManager[Any]:
    """One read-only snapshot for a whole build: the order read first and the entries read after it agree
    (a jury decision recorded meanwhile is in neither). Within a caller's transaction, that one."""
    if conn.is_in_transaction():
        return nullcontext()
    return conn.transaction(isolation="repeatable_read", readonly=True)


async def ranking(conn: Connection, edition: int, chunk: int | None = None) -> Ranking | None:
    """The order of the edition's palmarès, or None while it is not published (call it within `snapshot`)."""
    chunk = chunk or DISTINCTIONS_CHUNK
    ed = await conn.fetchrow("SELECT palmares_published_at, ceremony FROM editions WHERE edition = $1", edition)
    if ed is None or ed["palmares_published_at"] is None:
        return None
    index = {key: i for i, (key, _) in enumerate(GROUPS)}
    ranked: list[tuple[int, int, bytes, str, UUID]] = []
    after = UUID(int=0)
    while rows := await store.ranking_after(conn, edition, after, chunk):
        after = rows[-1].submission_id
        for r in rows:
            arobases = final_arobases(r.pre_notation, r.jury_arobases)
            if arobases is not None:
                ranked.append(
                    (
                        index[_CATEGORY_GROUP[r.category]],
                        -arobases,
                        name_key(r.name, r.category),
                        r.code,
                        r.submission_id,
                    )
                )
    ranked.sort()
    groups: dict[str, list[UUID]] = {key: [] for key, _ in GROUPS}
    for group, *_, submission_id in ranked:
        groups[GROUPS[group][0]].append(submission_id)
    return Ranking(
        edition=edition,
        published_at=ed["palmares_published_at"],
        ceremony=json.loads(ed["ceremony"]) if ed["ceremony"] else None,
        groups=groups,
    )


# Entries built at a time by `entries`: a chunk of `PalmaresEntry` is a few megabytes, read in two round trips.
ENTRIES_CHUNK = 1000


async def entries(
    conn: Connection, edition: int, submission_ids: list[UUID], chunk: int | None = None
) -> AsyncIterator[PalmaresEntry]:
    """The entries of these dossiers, in their order, read and built a chunk at a time (within the `snapshot`
    of their `ranking`)."""
    chunk = chunk or ENTRIES_CHUNK
    for start in range(0, len(submission_ids), chunk):
        part = submission_ids[start : start + chunk]
        rows = {r.submission_id: r for r in await store.palmares_rows(conn, part)}
        history = await store.label_history(conn, [r.code for r in rows.values()])
        for submission_id in part:
            r = rows.get(submission_id)
            found = entry_of(edition, r, distinctions(history.get(r.code, {}), edition)) if r else None
            if found is not None:
                yield found


async def view(conn: Connection, edition: int) -> PalmaresView | None:
    """The palmarès of an edition whole in memory, or None while it is not published: what the answers written
    as they are read (`page`, `view_json`, `export`) must equal (tests, `bench.public_scale`)."""
    async with snapshot(conn):
        found = await ranking(conn, edition)
        if found is None:
            return None
        groups = {key: [e async for e in entries(conn, edition, ids)] for key, ids in found.groups.items()}
    return PalmaresView(
        edition=edition,
        published_at=found.published_at,
        ceremony=found.ceremony,
        attribution=found.attribution,
        **groups,
    )


async def page(conn: Connection, edition: int, chunk: int | None = None) -> bytes | None:
    """The palmarès page of an edition as UTF-8 HTML, or None while it is not published.

    Rendered as its entries are read (Jinja's async generation over `entries`): what the build holds is the
    `Ranking`, a chunk of entries and the page's bytes, whatever the edition's size. The same template as
    `to_html`, which renders a view already in memory. `chunk`: dossiers read at a time (tests)."""
    async with snapshot(conn):
        found = await ranking(conn, edition, chunk)
        if found is None:
            return None
        groups = [
            _group(key, title, len(found.groups[key]), entries(conn, edition, found.groups[key], chunk))
            for key, title in GROUPS
        ]
        html = bytearray()
        pieces: list[str] = []
        async for piece in _async_env.get_template(_PAGE).generate_async(
            **_page_context(edition, found.published_at, found.ceremony, groups, found.total, found.attribution)
        ):
            pieces.append(piece)  # hundreds of thousands of small strings: encoded a few thousand at a time
            if len(pieces) == 4096:
                html += "".join(pieces).encode()
                pieces.clear()
        html += "".join(pieces).encode()
    return bytes(html)


async def view_json(conn: Connection, edition: int, chunk: int | None = None) -> bytes | None:
    """The palmarès of an edition as the API's JSON (`PalmaresView`), or None while it is not published.

    Written as its entries are read, each entry serialised by pydantic as the view would be (FastAPI's
    `response_model` would hold the whole view, then a copy of it as JSON-ready values)."""
    async with snapshot(conn):
        found = await ranking(conn, edition, chunk)
        if found is None:
            return None
        envelope = PalmaresView(
            edition=edition,
            published_at=found.published_at,
            ceremony=found.ceremony,
            attribution=found.attribution,
            villages=[],
            villes=[],
            territoires=[],
        ).model_dump(mode="json")
        out = bytearray(b"{")
        for i, (name, value) in enumerate(envelope.items()):
            out += b"," if i else b""
            out += _compact_json(name) + b":"
            if name in found.groups:
                out += b"["
                first = True
                async for e in entries(conn, edition, found.groups[name], chunk):
                    if not first:
                        out += b","
                    out += _ENTRY_JSON.dump_json(e)
                    first = False
                out += b"]"
            else:
                out += _compact_json(value)
        out += b"}"
    return bytes(out)


_ENTRY_JSON = TypeAdapter(PalmaresEntry)


async def export(
    conn: Connection, edition: int, file: palmares_exports.Format, chunk: int | None = None
) -> bytes | None:
    """The palmarès of an edition as a file (CSV, XLSX, ODS), or None while it is not published: written a row
    at a time as the entries are read, like `page`."""
    async with snapshot(conn):
        found = await ranking(conn, edition, chunk)
        if found is None:
            return None
        written = file.writer(palmares_exports.Head(edition, found.published_at, found.attribution))
        for key, _ in GROUPS:
            async for e in entries(conn, edition, found.groups[key], chunk):
                written.add(e)
    return written.finish()


def _compact_json(value: Any) -> bytes:
    # As FastAPI's JSONResponse writes it.
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


async def edition_distinctions(conn: Connection, edition: int, chunk: int = DISTINCTIONS_CHUNK) -> list[Distinction]:
    """The distinctions of the edition's palmarès (those `view` shows), read by chunks of dossiers.

    The publication needs them for its event; building the whole view for that held every entry of the edition
    in memory at once (about 100 MB at 36,000 dossiers)."""
    found: list[Distinction] = []
    after = UUID(int=0)
    while rows := await store.ranking_after(conn, edition, after, chunk):
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


def order(entry: PalmaresEntry) -> tuple[int, bytes, str]:
    """Most arobases first, then French alphabetical order (an EPCI under its distinctive name)."""
    return (-entry.arobases, name_key(entry.name, entry.category), entry.collectivite_code)


def name_key(name: str, category: str) -> bytes:
    """The key that sorts a collectivité's name in a group of the palmarès: French alphabetical order
    (`collation`), a territoire under its distinctive name. As bytes (each weight on two bytes, big-endian:
    they sort as the tuple of weights does, the collation table's weights being 0–65535), a fifth of the
    tuple's memory in a `Ranking`."""
    if category == "territoire":
        name = _UNSORTED_START.sub("", name, count=1) or name
    weights = array("H", collation.sort_key(name))
    if sys.byteorder == "little":
        weights.byteswap()
    return weights.tobytes()


_PAGE = "palmares.html.j2"


def _group(key: str, title: str, count: int, found: Any) -> dict[str, Any]:
    # `entries`: a list (`to_html`) or an async iterator (`page`); the template reads their attributes.
    return {"anchor": key, "title": title, "caption": _LABELLED[key], "count": count, "entries": found}


def _page_context(
    edition: int,
    published_at: datetime,
    ceremony: dict[str, Any] | None,
    groups: list[dict[str, Any]],
    total: int,
    attribution: str,
) -> dict[str, Any]:
    return {
        "edition": edition,
        "published_on": french.long_date(published_at),
        "ceremony": (
            {"date": french.long_date(str(ceremony["date"])), "at_place": french.place(str(ceremony["place"])).a}
            if ceremony
            else None
        ),
        "groups": groups,
        "total": total,
        "attribution": attribution or refdata.attribution(refdata.millesime_for(edition)),
        "licence_url": refdata.LICENCE_URL,
    }


def to_html(palmares: PalmaresView) -> str:
    """The page of a view already in memory (`page` streams it from the database)."""
    groups = [_group(key, title, len(getattr(palmares, key)), getattr(palmares, key)) for key, title in GROUPS]
    return _env.get_template(_PAGE).render(
        **_page_context(
            palmares.edition,
            palmares.published_at,
            palmares.ceremony,
            groups,
            sum(g["count"] for g in groups),
            palmares.attribution,
        )
    )


def not_published_html(edition: int) -> str:
    return _env.from_string(
        '<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Palmarès {{ e }}</title></head>'
        "<body><main><h1>Palmarès {{ e }}</h1><p>Le palmarès {{ e }} n’est pas encore publié.</p></main></body></html>"
    ).render(e=edition)

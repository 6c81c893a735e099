"""The catalogue of labelled actions (échange d'expériences) and the observatoire's dossiers.

Both are read models of the submission schema, built when an edition's palmarès
is published: its transaction asks for the build (`request_build`), and the
build runs in a transaction of its own right after (`build_requested`), so that
the palmarès's event and the award emails do not wait for it (seconds for a
national edition); a build left undone by a stopped process is done by the
service's background loop. From then on, an edition's labelled
actions are public, with the collectivité's name, category, département,
région, population band and arobases (the jury's when it decided), never a
contact address or a token. An action its collectivité kept out of the
catalogue (`catalogue: false` in the dossier) is stored unpublished, so that
it can be put back.

Search is PostgreSQL's French full-text search (the `catalogue_fr`
configuration: `unaccent` then the French Snowball stemmer), so that
« médiathèque » finds « mediatheques » and « numériques » finds « numérique »;
results are ranked (`ts_rank_cd`, the title weighing most) and the matched
words highlighted (`ts_headline`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import html
import json
import weakref
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from uuid import UUID

import asyncpg
from palmares_contracts import Grille
from palmares_eventkit.db import Connection
from palmares_label import french

from palmares_submission import memory, refdata, store, territoires

# An edition of 36,000 dossiers (about 87,000 actions) takes tens of seconds to index: more
# than the pool's default statement timeout (60 s) on a loaded machine.
BUILD_TIMEOUT_S = 600

# Highlight markers: control characters never reach a stored text (see `text`), so they
# cannot collide with what a collectivité wrote.
_START, _STOP = "\x02", "\x03"


# Starts like store.PalmaresRow, kept apart on purpose: each row is what its own query reads (the catalogue's
# population and actions, the palmarès's pré-notation and jury), and neither query should widen for the other.
@dataclass(frozen=True, slots=True)
class DossierRow:
    """What `build` reads of one dossier of the edition."""

    submission_id: UUID
    code: str
    name: str
    kind: str
    departement: str
    category: str
    population: int
    arobases: int | None
    actions: list[dict[str, Any]]
    withheld: frozenset[int]
    mentions: list[dict[str, Any]]


def action_mentions(action: dict[str, Any], mentions: Sequence[dict[str, Any]]) -> list[str]:
    """The codes of the dossier's mentions whose evidence points at this action (its title or one of its services)."""
    services = set(action.get("services") or ())
    found = []
    for m in mentions:
        for evidence in m.get("evidence") or ():
            if evidence.get("action_title") == action["title"] or services & set(evidence.get("service_codes") or ()):
                found.append(m["code"])
                break
    return found


_DOSSIERS = """
SELECT s.submission_id, c.code, c.name, c.kind, c.departement, c.population,
       coalesce(sc.payload->>'category', c.category) AS category,
       coalesce(j.arobases, (sc.payload->>'arobases')::int) AS arobases,
       r.event->'actions' AS actions, r.catalogue_withheld,
       coalesce(j.mentions, m.payload->'mentions') AS mentions
FROM submissions s
JOIN collectivites c ON c.code = s.collectivite_code
JOIN submission_revisions r ON r.submission_id = s.submission_id AND r.revision = s.revision
LEFT JOIN results sc ON sc.submission_id = s.submission_id AND sc.kind = 'score'
LEFT JOIN results m ON m.submission_id = s.submission_id AND m.kind = 'mentions'
LEFT JOIN jury_decisions j ON j.submission_id = s.submission_id
WHERE s.edition = $1"""

# The next chunk of an edition's dossiers for a build.
_DOSSIERS_AFTER = _DOSSIERS + " AND s.submission_id > $2 ORDER BY s.submission_id LIMIT $3"
# Dossiers per chunk of a build: a few megabytes of parsed actions and mentions at a time, and few
# enough round trips (19 for a national edition) not to count.
BUILD_CHUNK = 2000

# What both tables keep of a dossier's collectivité for the breakdowns, in the order of their columns.
_PLACE_COLUMNS = ("kind", "category", "departement", "region", "population", "population_band", "arobases")

_ACTION_COLUMNS = (
    "submission_id",
    "position",
    "edition",
    "collectivite_code",
    "name",
    *_PLACE_COLUMNS,
    "title",
    "description",
    "url",
    "services",
    "enjeux",
    "mentions",
    "labels",
    "published",
    "keywords",
)

_DOSSIER_COLUMNS = ("edition", "collectivite_code", *_PLACE_COLUMNS, "services", "enjeux")


def _strip_markers(text: str) -> str:
    return text.replace(_START, "").replace(_STOP, "")


def rows_of(
    edition: int, grille: Grille, dossiers: Sequence[DossierRow]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The catalogue's rows (labelled dossiers' actions) and the observatoire's rows (every dossier) (pure)."""
    services = {s.code: s for s in grille.services}
    enjeux = {e.code: e.label for e in grille.enjeux}
    departements = refdata.load_departements()
    actions_out: list[tuple[Any, ...]] = []
    dossiers_out: list[tuple[Any, ...]] = []
    for d in dossiers:
        ref = refdata.lookup_for_edition(d.code, edition)
        population = ref.population if ref else d.population
        departement = ref.departement if ref else d.departement
        dep = departements.get(departement)
        region = ref.region if ref else (dep.region if dep else "")
        kind = territoires.kind_of(d.kind, ref.epci_type if ref else "")
        band = territoires.band_of(population).code
        place = (kind, d.category, departement, region, population, band, d.arobases)  # _PLACE_COLUMNS
        mention_labels = {m["code"]: m["label"] for m in d.mentions}
        declared: set[str] = set()
        for position, action in enumerate(d.actions):
            codes = [c for c in dict.fromkeys(action.get("services") or ()) if c in services]
            declared.update(codes)
            if d.arobases is None:
                continue  # not evaluated: not in the palmarès, not in the catalogue
            action_enjeux = list(dict.fromkeys(services[c].enjeu for c in codes))
            mentions = action_mentions(action, d.mentions)
            labels = {
                "services": {c: services[c].label for c in codes},
                "enjeux": {e: enjeux.get(e, e) for e in action_enjeux},
                "mentions": {m: mention_labels[m] for m in mentions},
            }
            keywords = " ".join(
                [*labels["services"].values(), *labels["enjeux"].values(), *labels["mentions"].values()]
            )
            actions_out.append(
                (
                    d.submission_id,
                    position,
                    edition,
                    d.code,
                    d.name,
                    *place,
                    _strip_markers(action["title"]),
                    _strip_markers(action.get("description") or ""),
                    action.get("url"),
                    codes,
                    action_enjeux,
                    mentions,
                    json.dumps(labels, ensure_ascii=False),
                    position not in d.withheld,
                    keywords,
                )
            )
        covered = sorted({services[c].enjeu for c in declared})
        dossiers_out.append((edition, d.code, *place, sorted(declared), covered))
    return actions_out, dossiers_out


def _rows_of_records(
    edition: int, grille: Grille, records: Sequence[asyncpg.Record]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """`rows_of` the dossiers `_DOSSIERS` read (pure)."""
    dossiers = [
        DossierRow(
            submission_id=r["submission_id"],
            code=r["code"],
            name=r["name"],
            kind=r["kind"],
            departement=r["departement"],
            category=r["category"],
            population=r["population"],
            arobases=r["arobases"],
            actions=json.loads(r["actions"]) if r["actions"] else [],
            withheld=frozenset(r["catalogue_withheld"] or ()),
            mentions=json.loads(r["mentions"]) if r["mentions"] else [],
        )
        for r in records
    ]
    return rows_of(edition, grille, dossiers)


# One whole-edition build at a time per process (per event loop): editions published one after the other
# (each answer returns after api.CATALOGUE_WAIT_S, its build going on) would otherwise build at once, each
# holding its chunk, its worker thread's allocations and its transaction: memory grew with the editions.
_BUILD_SLOTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


@contextlib.asynccontextmanager
async def build_slot() -> AsyncIterator[None]:
    """Taken by a whole-edition build before its transaction: one build at a time in this process.

    When the build ends, what it freed goes back to the system (`memory.give_back`).
    """
    async with _BUILD_SLOTS.setdefault(asyncio.get_running_loop(), asyncio.Lock()):
        try:
            yield
        finally:
            memory.give_back()


async def request_build(conn: Connection, edition: int) -> None:
    """Ask for the edition's catalogue (in the publication's transaction: the request outlives a crash)."""
    await conn.execute("INSERT INTO catalogue_builds (edition) VALUES ($1) ON CONFLICT DO NOTHING", edition)


async def build_requested(conn: Connection, edition: int) -> int | None:
    """Build the edition's catalogue if its build was asked for and is not done; the actions catalogued, or None.

    The caller holds the edition's lock: of two builders, the second finds the
    request gone and the first's rows committed.
    """
    if await conn.fetchval("DELETE FROM catalogue_builds WHERE edition = $1 RETURNING edition", edition) is None:
        return None
    return await build(conn, edition)


async def requested(conn: Connection) -> list[int]:
    """The editions whose catalogue build was asked for and is not done, oldest request first."""
    return [r["edition"] for r in await conn.fetch("SELECT edition FROM catalogue_builds ORDER BY requested_at")]


async def refresh(conn: Connection, edition: int, submission_id: UUID) -> None:
    """After a jury decision on a dossier of a published edition: its rows follow the new arobases and mentions."""
    ed = await store.edition(as_asyncpg(conn), edition)
    if ed is not None and ed.palmares_published_at is not None:
        await build(conn, edition, submission_id)


async def build(conn: Connection, edition: int, submission_id: UUID | None = None) -> int:
    """(Re)build the edition's catalogue and observatoire rows, or one dossier's; returns the actions catalogued."""
    ed = await store.edition(as_asyncpg(conn), edition)
    if ed is None:
        return 0
    grille = await store.grille_version(as_asyncpg(conn), edition, ed.grille_version)
    await conn.execute(
        """CREATE TEMP TABLE catalogue_load (
               submission_id uuid, position int, edition int, collectivite_code text, name text, kind text,
               category text, departement text, region text, population int, population_band text, arobases int,
               title text, description text, url text, services text[], enjeux text[], mentions text[],
               labels text, published boolean, keywords text
           ) ON COMMIT DROP"""
    )
    if submission_id is None:
        # The rows are computed here between statements (seconds for a national edition): longer than
        # the pool's idle-in-transaction fence allows a transaction to wait. For this transaction only.
        await conn.execute("SET LOCAL idle_in_transaction_session_timeout = '10min'")
        await conn.execute("DELETE FROM catalogue_actions WHERE edition = $1", edition)
        await conn.execute("DELETE FROM observatoire_dossiers WHERE edition = $1", edition)
        catalogued, after = 0, UUID(int=0)
        # By chunks of dossiers (in submission_id order): the build's memory is bounded by a chunk, not by
        # the edition (a national edition's actions and mentions, parsed at once, took hundreds of megabytes).
        while records := await conn.fetch(_DOSSIERS_AFTER, edition, after, BUILD_CHUNK):
            # Parsing a chunk's actions and mentions, then its rows, takes CPU: in a worker thread, so that the
            # service's event loop keeps answering requests and relaying its outbox meanwhile (the palmarès's
            # event first, which the award emails wait for).
            actions, observed = await asyncio.to_thread(_rows_of_records, edition, grille, records)
            await _load(conn, actions, observed)
            catalogued += len(actions)
            after = records[-1]["submission_id"]
    else:
        records = await conn.fetch(_DOSSIERS + " AND s.submission_id = $2", edition, submission_id)
        actions, observed = _rows_of_records(edition, grille, records)
        published = {
            r["position"]: r["published"]
            for r in await conn.fetch(
                "DELETE FROM catalogue_actions WHERE submission_id = $1 RETURNING position, published", submission_id
            )
        }
        # A choice made after publication (`published`) outlives the refresh.
        actions = [(*a[:19], published.get(a[1], a[19]), a[20]) for a in actions]
        await conn.execute(
            "DELETE FROM observatoire_dossiers WHERE edition = $1 AND collectivite_code = ANY($2::text[])",
            edition,
            [r["code"] for r in records],
        )
        await _load(conn, actions, observed)
        catalogued = len(actions)
    await conn.execute(
        """INSERT INTO catalogue_actions
           SELECT submission_id, position, edition, collectivite_code, name, kind, category, departement, region,
                  population, population_band, arobases, title, description, url, services, enjeux, mentions,
                  labels::jsonb, published,
                  setweight(to_tsvector('catalogue_fr', title), 'A')
                  || setweight(to_tsvector('catalogue_fr', description), 'B')
                  || setweight(to_tsvector('catalogue_fr', keywords), 'C')
                  || setweight(to_tsvector('catalogue_fr', name), 'D')
           FROM catalogue_load""",
        timeout=BUILD_TIMEOUT_S,
    )
    await conn.execute("DROP TABLE catalogue_load")
    return catalogued


async def _load(conn: Connection, actions: list[tuple[Any, ...]], observed: list[tuple[Any, ...]]) -> None:
    """Copy rows of the catalogue (to the load table: indexed at the end) and of the observatoire."""
    await conn.copy_records_to_table(
        "catalogue_load", records=actions, columns=_ACTION_COLUMNS, timeout=BUILD_TIMEOUT_S
    )
    await conn.copy_records_to_table(
        "observatoire_dossiers", records=observed, columns=_DOSSIER_COLUMNS, timeout=BUILD_TIMEOUT_S
    )


# --- search ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Filters:
    """What a visitor asks of the catalogue; empty fields filter nothing."""

    q: str = ""
    edition: int | None = None
    enjeu: str | None = None
    service: str | None = None
    mention: str | None = None
    category: str | None = None
    population: str | None = None
    departement: str | None = None
    region: str | None = None
    arobases: int | None = None  # at least this many
    exclude_code: str | None = None


def like(code: str, edition: int | None = None) -> Filters | None:
    """« Collectivités comme la mienne »: the same category and population band, the collectivité itself left out."""
    ref = refdata.lookup_for_edition(code, edition) if edition else refdata.lookup_latest(code)
    if ref is None:
        return None
    return Filters(
        edition=edition,
        category=refdata.category_of(ref),
        population=territoires.band_of(ref.population).code,
        exclude_code=ref.code,
    )


@dataclass(frozen=True, slots=True)
class Hit:
    """One catalogued action; `title_html` and `excerpt_html` are escaped HTML whose matched words are in `<mark>`."""

    row: asyncpg.Record
    title_html: str
    excerpt_html: str


@dataclass(slots=True)
class Page:
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    next_offset: int | None = None


def _where(f: Filters) -> tuple[str, list[Any]]:
    clauses = ["a.published", "e.palmares_published_at IS NOT NULL"]
    searching = bool(f.q.strip())
    args: list[Any] = [f.q] if searching else []  # $1 is the query when there is one
    checks: list[tuple[Any, str]] = [
        (f.edition, "a.edition = ${}"),
        (f.enjeu, "a.enjeux @> ARRAY[${}::text]"),
        (f.service, "a.services @> ARRAY[${}::text]"),
        (f.mention, "a.mentions @> ARRAY[${}::text]"),
        (f.category, "a.category = ${}"),
        (f.population, "a.population_band = ${}"),
        (f.departement, "a.departement = ${}"),
        (f.region, "a.region = ${}"),
        (f.arobases, "a.arobases >= ${}"),
        (f.exclude_code, "a.collectivite_code <> ${}"),
    ]
    for value, clause in checks:
        if value is not None and value != "":
            args.append(value)
            clauses.append(clause.format(len(args)))
    if searching:
        clauses.append("a.search @@ websearch_to_tsquery('catalogue_fr', $1)")
    return " AND ".join(clauses), args


def _highlighted(text: str) -> str:
    return html.escape(text).replace(_START, "<mark>").replace(_STOP, "</mark>")


def _excerpt(text: str, limit: int = 280) -> str:
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + "\u00a0…"


async def search(conn: Connection, f: Filters, *, limit: int, offset: int, highlight: bool = True) -> Page:
    """One page of the catalogue: best matches first (most recent edition, most arobases without a query)."""
    where, args = _where(f)
    searching = bool(f.q.strip())
    rank = "ts_rank_cd(a.search, websearch_to_tsquery('catalogue_fr', $1))" if searching else "0"
    order = "rank DESC, a.edition DESC, a.arobases DESC, a.name, a.collectivite_code, a.position"
    total = await conn.fetchval(
        f"SELECT count(*) FROM catalogue_actions a JOIN editions e ON e.edition = a.edition WHERE {where}", *args
    )
    n = len(args)
    page = f"""SELECT a.*, {rank} AS rank FROM catalogue_actions a JOIN editions e ON e.edition = a.edition
               WHERE {where} ORDER BY {order} LIMIT ${n + 1} OFFSET ${n + 2}"""
    highlighting = searching and highlight  # an export needs no highlight (ts_headline on every row)
    if highlighting:
        marks = "StartSel=' || chr(2) || ', StopSel=' || chr(3)"
        page = f"""SELECT a.*,
                      ts_headline('catalogue_fr', a.title, websearch_to_tsquery('catalogue_fr', $1),
                                  'HighlightAll=true, {marks}) AS title_hl,
                      ts_headline('catalogue_fr', a.description, websearch_to_tsquery('catalogue_fr', $1),
                                  'MaxFragments=2, MaxWords=30, MinWords=12, FragmentDelimiter=" … ", {marks}) AS excerpt_hl
                   FROM ({page}) a ORDER BY {order}"""
    rows = await conn.fetch(page, *args, limit, offset)
    hits = [
        Hit(
            row=r,
            title_html=_highlighted(r["title_hl"] if highlighting else r["title"]),
            excerpt_html=_highlighted(r["excerpt_hl"] if highlighting else _excerpt(r["description"])),
        )
        for r in rows
    ]
    return Page(hits=hits, total=total, next_offset=offset + limit if offset + limit < total else None)


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    # At most nine digits: a longer offset would overflow PostgreSQL's OFFSET (a 500, not a 422).
    if not raw.startswith("o") or not raw[1:].isdecimal() or len(raw) > 10:
        return None
    return int(raw[1:])


def labels(row: asyncpg.Record) -> dict[str, dict[str, str]]:
    parsed: dict[str, dict[str, str]] = json.loads(row["labels"])
    return parsed


def departement_name(code: str) -> str:
    ref = refdata.load_departements().get(code)
    return french.typographic(ref.name) if ref else code


def region_names() -> dict[str, str]:
    """Régions by code, as the reference data names them."""
    return {d.region: french.typographic(d.region_name) for d in refdata.load_departements().values()}


def as_asyncpg(conn: Connection) -> asyncpg.Connection:
    # `store` still types its connections as asyncpg's (a pool's proxy behaves the same).
    return cast(asyncpg.Connection, conn)

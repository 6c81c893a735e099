"""The catalogue and the observatoire at national scale, on PostgreSQL alone (no Kafka, no services).

    .venv/bin/python -m bench.public_scale [--dossiers 36000] [--rounds 20]   (from the repository root)

Starts a local PostgreSQL in a scratch folder, migrates a submission schema,
writes an edition of `--dossiers` evaluated dossiers as the national benchmark
makes them (`bench.dossiers`: real collectivités with the category mix of the
reference data, French actions declaring the services of grille 2018,
arobases drawn 1–5), publishes it, then times what publication adds (the read
models: `catalogue.build`) and what the public asks: the catalogue's searches
and filters (`catalogue.search`) and the observatoire's five breakdowns
(`observatoire_store.report`), each `--rounds` times, one at a time, the
comité's tendances (`tendances_store.report`, default and text only) three
times, and the palmarès (the publication's distinctions, the view, its page)
once each, then its page asked by 8 visitors at once as the route serves them
(`coalesce`), with the time and the peak of Python memory it allocated
(`tracemalloc`); prints the essential service least equally covered across départements. The HTTP
layer is the full benchmark's business (`make bench`, its public phase); this
isolates the SQL and the pure code behind it, at the size the issue sets
(36,000 dossiers). Prints the figures, writes `.run/bench/public-scale.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import secrets
import shutil
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any
from uuid import uuid4

from palmares_eventkit.db import create_pool, load_migrations, migrate
from palmares_stack.postgres import PostgresServer
from palmares_submission import (
    catalogue,
    coalesce,
    observatoire_store,
    palmares,
    palmares_exports,
    refdata,
    store,
    tendances_store,
)
from palmares_submission.catalogue import as_asyncpg

from bench import stats
from bench.dossiers import campaign_members, make_dossier, services_by_category

GRILLES = Path(__file__).resolve().parents[1] / "deploy" / "grilles"
EDITION = 2018
QUERIES: tuple[dict[str, object], ...] = (
    {"q": "mediatheque"},
    {"q": "données ouvertes"},
    {"q": '"conseil municipal" vidéo'},
    {"q": "ateliers numériques", "category": "village"},
    {"population": "1500-3500"},
    {"departement": "59"},
    {"region": "84", "arobases": 4},
    {"q": "paiement en ligne"},
    {"comme": "49007"},
    {},
)
BREAKDOWNS = ("region", "departement", "population", "kind", "territoire")
TENDANCES_ROUNDS = 3  # each reads and lemmatises every action of the edition: seconds, not milliseconds


async def seed(pool: Any, n: int) -> int:
    grille = json.loads((GRILLES / "grille-2018.json").read_text(encoding="utf-8"))
    grille["version"] = 1
    members = campaign_members(refdata.load_reference(refdata.millesime_for(EDITION)).values(), n)
    catalog = services_by_category(grille)
    rng = random.Random(EDITION)
    now = datetime(2018, 1, 20, tzinfo=UTC)
    collectivites, submissions, revisions, results = [], [], [], []
    for m in members:
        ref = refdata.lookup_for_edition(m.code, EDITION)
        assert ref is not None
        sid = uuid4()
        body = make_dossier(rng, m, catalog)
        arobases = rng.choices((1, 2, 3, 4, 5), weights=(2, 4, 5, 3, 1))[0]
        collectivites.append((m.code, m.kind, m.name, m.population, ref.departement, m.category, "x@example.org"))
        submissions.append((sid, EDITION, m.code, 1, now))
        revisions.append((sid, 1, json.dumps({"actions": body["actions"]}), now))
        results.append((sid, "score", 1, 1, json.dumps({"arobases": arobases, "category": m.category})))
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO editions (edition, grille_version, palmares_published_at) VALUES ($1, 1, $2)", EDITION, now
        )
        await conn.execute(
            "INSERT INTO grilles (edition, version, grille) VALUES ($1, 1, $2::jsonb)", EDITION, json.dumps(grille)
        )
        await conn.copy_records_to_table(
            "collectivites",
            records=collectivites,
            columns=("code", "kind", "name", "population", "departement", "category", "contact_email"),
        )
        await conn.copy_records_to_table(
            "submissions",
            records=submissions,
            columns=("submission_id", "edition", "collectivite_code", "revision", "submitted_at"),
        )
        await conn.execute("CREATE TEMP TABLE rev (submission_id uuid, revision int, event text, at timestamptz)")
        await conn.copy_records_to_table("rev", records=revisions)
        await conn.execute(
            "INSERT INTO submission_revisions (submission_id, revision, event, submitted_at) "
            "SELECT submission_id, revision, event::jsonb, at FROM rev"
        )
        await conn.execute("CREATE TEMP TABLE res (submission_id uuid, kind text, revision int, v int, payload text)")
        await conn.copy_records_to_table("res", records=results)
        await conn.execute(
            "INSERT INTO results (submission_id, kind, revision, grille_version, payload) "
            "SELECT submission_id, kind, revision, v, payload::jsonb FROM res"
        )
        await conn.execute("ANALYZE")
    return len(members)


async def palmares_figures(conn: Any) -> dict[str, dict[str, float]]:
    """Time and peak Python memory of what the palmarès asks of submission: its publication's distinctions
    (`palmares.edition_distinctions`), its view (`palmares.view`, for the API's files), its JSON
    (`palmares.view_json`), its files (`palmares.export`) and its page (`palmares.page`), all but the view
    written as their entries are read from the database."""
    figures: dict[str, dict[str, float]] = {}

    async def timed(name: str, work: Callable[[], Awaitable[Any]]) -> Any:
        tracemalloc.start()
        start = time.perf_counter()
        try:
            result = await work()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        figures[name] = {"s": round(time.perf_counter() - start, 2), "peak_mb": round(peak / 2**20, 1)}
        return result

    await timed("distinctions", lambda: palmares.edition_distinctions(conn, EDITION))
    view = await timed("view", lambda: palmares.view(conn, EDITION))
    expected = hashlib.sha256(palmares.to_html(view).encode()).digest()
    expected_json = view.model_dump(mode="json")
    del view
    found_json = await timed("json", lambda: palmares.view_json(conn, EDITION))
    figures["json"]["mb"] = round(len(found_json) / 2**20, 1)
    assert json.loads(found_json) == expected_json, "the streamed palmarès JSON differs from its view"
    del expected_json, found_json
    for name, file in palmares_exports.FORMATS.items():
        written = await timed(name, partial(palmares.export, conn, EDITION, file))
        figures[name]["mb"] = round(len(written) / 2**20, 1)
    html = await timed("page", lambda: palmares.page(conn, EDITION))
    figures["page"]["mb"] = round(len(html) / 2**20, 1)
    # The streamed page is the page of the view (same entries, same order, same template).
    assert hashlib.sha256(html).digest() == expected, "the streamed palmarès page differs from its view's page"

    # VISITORS asking for the page at once, as the route serves them (`coalesce.Coalescer`): one build for the
    # one that came first, one for all those who came during it; memory of one build at a time, not of VISITORS.
    coalescer: coalesce.Coalescer[bytes] = coalesce.Coalescer()

    async def built() -> bytes:
        found = await palmares.page(conn, EDITION)
        assert found is not None
        return found

    async def visitors() -> list[bytes]:
        first = asyncio.ensure_future(coalescer.ask(EDITION, built))
        await asyncio.sleep(0)  # its build has started: the others arrive during it
        others = [asyncio.ensure_future(coalescer.ask(EDITION, built)) for _ in range(VISITORS - 1)]
        return await asyncio.gather(first, *others)

    await timed("page_visitors", visitors)
    figures["page_visitors"].update(visitors=VISITORS, builds=coalescer.computed)
    return figures


VISITORS = 8


async def measure(database_url: str, n: int, rounds: int) -> dict[str, Any]:
    schema = "bench_public_" + secrets.token_hex(3)
    pool = await create_pool(database_url, schema, max_size=2)
    try:
        await migrate(
            pool, schema, load_migrations("submission", resources.files("palmares_submission") / "migrations")
        )
        begin = time.perf_counter()
        dossiers = await seed(pool, n)
        seeded_s = time.perf_counter() - begin
        begin = time.perf_counter()
        async with pool.acquire() as conn, conn.transaction():
            actions = await catalogue.build(conn, EDITION)
        build_s = time.perf_counter() - begin
        async with pool.acquire() as conn:
            palmares_of_edition = await palmares_figures(conn)
        async with pool.acquire() as conn:
            await conn.execute("ANALYZE catalogue_actions; ANALYZE observatoire_dossiers")
            searches: list[float] = []
            totals = {}
            for _ in range(rounds):
                for query in QUERIES:
                    start = time.perf_counter()
                    like = catalogue.like(str(query["comme"]), EDITION) if "comme" in query else None
                    filters = catalogue.Filters(
                        q=str(query.get("q", "")),
                        edition=EDITION,
                        category=str(query["category"]) if "category" in query else (like.category if like else None),
                        population=str(query["population"])
                        if "population" in query
                        else (like.population if like else None),
                        departement=str(query["departement"]) if "departement" in query else None,
                        region=str(query["region"]) if "region" in query else None,
                        arobases=int(str(query["arobases"])) if "arobases" in query else None,
                        exclude_code=like.exclude_code if like else None,
                    )
                    page = await catalogue.search(conn, filters, limit=20, offset=0)
                    searches.append(time.perf_counter() - start)
                    totals[json.dumps(query, ensure_ascii=False)] = page.total
            reports: list[float] = []
            first: list[float] = []  # computed (the process keeps each report while the rows do not change)
            largest = None
            for i in range(rounds):
                for by in BREAKDOWNS:
                    start = time.perf_counter()
                    report = await observatoire_store.report(conn, EDITION, by, 1)
                    (first if i == 0 else reports).append(time.perf_counter() - start)
                    largest = report.largest_inequality
            # Cold: every process cache emptied before each request, as the first request after a
            # publication or a jury decision finds it; the SQL counts and the pure breakdown apart.
            cold: list[float] = []
            counting: list[float] = []
            building: list[float] = []
            grille = await store.grille_version(as_asyncpg(conn), EDITION, 1)
            essentiels = [s.code for s in grille.essentiels]
            for _ in range(rounds):
                for by in BREAKDOWNS:
                    observatoire_store.forget()
                    start = time.perf_counter()
                    await observatoire_store.report(conn, EDITION, by, 1)
                    cold.append(time.perf_counter() - start)
                start = time.perf_counter()
                counts = await observatoire_store.counts(conn, EDITION, essentiels)
                counting.append(time.perf_counter() - start)
                for by in BREAKDOWNS:
                    start = time.perf_counter()
                    observatoire_store.build(EDITION, by, grille, counts)
                    building.append(time.perf_counter() - start)
            # The essentials' coverage across départements, the most unequal first (any breakdown
            # carries the same national summaries).
            essential = max(report.coverage.essentiels, key=lambda e: (e.gini, e.code), default=None)
            inequality = report.coverage.inequality
            # The comité's tendances over every action of the edition: the default report (declared
            # services count) and the text-only one (every action's words are read).
            tendances_s: dict[str, list[float]] = {"default": [], "text_only": []}
            found: dict[str, Any] = {}
            for _ in range(TENDANCES_ROUNDS):
                for name, text_only in (("default", False), ("text_only", True)):
                    start = time.perf_counter()
                    tendances_report = await tendances_store.report(conn, EDITION, text_only=text_only)
                    tendances_s[name].append(time.perf_counter() - start)
                    assert tendances_report is not None
                    found[name] = tendances_report.found
        return {
            "dossiers": dossiers,
            "actions": actions,
            "seed_s": round(seeded_s, 1),
            "build_s": round(build_s, 2),
            "palmares": palmares_of_edition,
            "catalogue_search_ms": stats.summary_ms(searches),
            "observatoire_report_ms": stats.summary_ms(reports),
            "observatoire_first_report_ms": stats.summary_ms(first),
            "observatoire_cold_report_ms": stats.summary_ms(cold),
            "observatoire_counts_ms": stats.summary_ms(counting),
            "observatoire_build_ms": stats.summary_ms(building),
            "matches": totals,
            "largest_inequality": (
                {
                    "code": largest.code,
                    "label": largest.label,
                    "gini": largest.gini,
                    "theil": largest.theil,
                    "adopters": largest.adopters,
                    "departements": largest.departements,
                }
                if largest
                else None
            ),
            "essentials_largest_inequality": (
                {
                    "code": essential.code,
                    "label": essential.label,
                    "gini": essential.gini,
                    "theil": essential.theil,
                    "covered": essential.covered,
                    "applicable": essential.applicable,
                    "rate": essential.rate,
                }
                if essential
                else None
            ),
            "essentials_rate_across_departements": {
                "departements": inequality.departements,
                "gini": inequality.gini,
                "theil": inequality.theil,
            },
            "tendances_ms": {name: stats.summary_ms(times) for name, times in tendances_s.items()},
            "tendances": {
                name: {
                    "actions": f.actions,
                    "undescribed": f.undescribed,
                    "themes": [(t.label, t.dossiers, len(t.actions)) for t in f.themes[:5]],
                    "undeclared_services": len(f.undeclared_services),
                }
                for name, f in found.items()
            },
        }
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.public_scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dossiers", type=int, default=36_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="palmares-public-scale-"))
    server = PostgresServer(scratch / "postgres", log_path=scratch / "postgres.log")
    try:
        url = server.start()
        figures = asyncio.run(measure(url, args.dossiers, args.rounds))
    finally:
        server.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    out = Path(".run/bench")
    out.mkdir(parents=True, exist_ok=True)
    (out / "public-scale.json").write_text(json.dumps(figures, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(figures, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()

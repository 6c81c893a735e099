"""An edition's dossiers, results and palmarès written straight into a real submission schema.

For the read models built at publication (catalogue, observatoire): their SQL
runs on PostgreSQL as in production, without starting the services.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from types import SimpleNamespace
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
from fastapi import APIRouter, FastAPI
from palmares_contracts import Grille
from palmares_eventkit.db import create_pool, eventkit_migrations, load_migrations, migrate
from palmares_submission import catalogue, errors

from tests.factories import grille

NOW = datetime(2017, 1, 20, 12, tzinfo=UTC)


@dataclass(frozen=True)
class Dossier:
    code: str
    actions: list[dict[str, Any]]
    arobases: int | None = None  # pré-notation
    jury: int | None = None
    mentions: list[dict[str, Any]] | None = None
    withheld: tuple[int, ...] = ()
    category: str = "ville"


def act(title: str, description: str = "", services: tuple[str, ...] = (), url: str | None = None) -> dict[str, Any]:
    return {
        "title": title,
        "description": description,
        "services": list(services),
        "url": url,
        "started_on": "2016-01-01",
    }


async def schema_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    schema = "sub_" + secrets.token_hex(4)
    pool = await create_pool(database_url, schema, max_size=4)
    try:
        await migrate(
            pool,
            schema,
            eventkit_migrations()
            + load_migrations("submission", resources.files("palmares_submission") / "migrations"),
        )
        yield pool
    finally:
        await pool.execute(f"DROP SCHEMA {schema} CASCADE")
        await pool.close()


async def seed(
    conn: asyncpg.Connection, edition: int, dossiers: list[Dossier], g: Grille | None = None, published: bool = True
) -> dict[str, UUID]:
    """The edition (its grille, dossiers, scores, mentions, jury decisions), published or not."""
    g = g or grille(edition=edition)
    await conn.execute(
        "INSERT INTO editions (edition, grille_version, palmares_published_at) VALUES ($1, $2, $3)",
        edition,
        g.version,
        NOW if published else None,
    )
    await conn.execute(
        "INSERT INTO grilles (edition, version, grille) VALUES ($1, $2, $3::jsonb)",
        edition,
        g.version,
        g.model_dump_json(),
    )
    ids = {}
    for d in dossiers:
        sid = uuid4()
        ids[d.code] = sid
        await conn.execute(
            """INSERT INTO collectivites (code, kind, name, population, departement, category, contact_email, token_hash)
               SELECT $1, 'commune', $1 || ' (nom)', 1000, '49', $2, 'contact@example.org', $3
               ON CONFLICT (code) DO NOTHING""",
            d.code,
            d.category,
            secrets.token_bytes(32),
        )
        await conn.execute(
            """UPDATE collectivites SET name = $2, kind = $3, departement = $4 WHERE code = $1""",
            d.code,
            *_identity(d.code),
        )
        await conn.execute(
            """INSERT INTO submissions (submission_id, edition, collectivite_code, revision, submitted_at)
               VALUES ($1, $2, $3, 1, $4)""",
            sid,
            edition,
            d.code,
            NOW,
        )
        await conn.execute(
            """INSERT INTO submission_revisions (submission_id, revision, event, submitted_at, catalogue_withheld)
               VALUES ($1, 1, $2::jsonb, $3, $4)""",
            sid,
            json.dumps({"actions": d.actions, "collectivite": {"contact_email": "contact@example.org"}}),
            NOW,
            list(d.withheld),
        )
        if d.arobases is not None:
            await conn.execute(
                """INSERT INTO results (submission_id, kind, revision, grille_version, payload)
                   VALUES ($1, 'score', 1, $2, $3::jsonb)""",
                sid,
                g.version,
                json.dumps({"arobases": d.arobases, "category": d.category, "score": 50}),
            )
        if d.mentions is not None:
            await conn.execute(
                """INSERT INTO results (submission_id, kind, revision, grille_version, payload)
                   VALUES ($1, 'mentions', 1, $2, $3::jsonb)""",
                sid,
                g.version,
                json.dumps({"mentions": d.mentions}),
            )
        if d.jury is not None:
            await conn.execute(
                """INSERT INTO jury_decisions (submission_id, arobases, comment, decided_by, decided_at)
                   VALUES ($1, $2, '', 'jury', $3)""",
                sid,
                d.jury,
                NOW,
            )
    return ids


async def built(pool: asyncpg.Pool, edition: int, dossiers: list[Dossier], published: bool = True) -> dict[str, UUID]:
    """`seed`, then the read models built as the publication builds them (the catalogue's rows)."""
    async with pool.acquire() as conn, conn.transaction():
        ids = await seed(conn, edition, dossiers, published=published)
        await catalogue.build(conn, edition)
    return ids


def routes_client(pool: asyncpg.Pool, *routers: APIRouter) -> httpx.AsyncClient:
    """A client of `routers` served in process over `pool` (the read models' routes use nothing else)."""
    app = FastAPI()
    errors.install(app)
    for router in routers:
        app.include_router(router)
    app.state.runtime = SimpleNamespace(pool=pool)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://submission")


def _identity(code: str) -> tuple[str, str, str]:
    from palmares_submission import refdata

    ref = refdata.lookup_latest(code)
    assert ref is not None, code
    return ref.name, ref.kind, ref.departement

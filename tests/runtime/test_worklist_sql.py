"""The two rules the jury's worklist also writes in SQL agree with their Python definitions, on PostgreSQL.

The worklist filters in the database (`palmares_submission.worklist_store`):
the final mentions (`palmares_label.final.final_mentions`) and « à revoir »
(`WorklistRow.to_review_again`) are SQL expressions there. Each expression is
evaluated here on every combination of its inputs, as the worklist's query
aliases them (`j`: the jury's decision, `m`: the mentions result, `s`: the dossier).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from palmares_label.final import final_mentions
from palmares_submission import worklist_store
from palmares_submission.worklist import WorklistRow

GOUVERNEMENT = {"code": "gouvernement_ouvert", "label": "Gouvernement ouvert"}
TELETRAVAIL = {"code": "teletravail", "label": "Télétravail"}


@pytest.fixture
async def conn(database: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database)
    try:
        yield connection
    finally:
        await connection.close()


async def test_the_final_mentions_in_sql_are_the_labels_rule(conn: asyncpg.Connection) -> None:
    # None: no mentions result yet / the jury did not rule on the mentions (or did not decide).
    detected: list[list[dict[str, str]] | None] = [None, [], [GOUVERNEMENT], [GOUVERNEMENT, TELETRAVAIL]]
    granted: list[list[dict[str, str]] | None] = [None, [], [TELETRAVAIL]]
    query = (
        f"SELECT {worklist_store._FINAL_MENTIONS} "
        "FROM (VALUES ($1::jsonb)) AS j(mentions), (VALUES ($2::jsonb)) AS m(payload)"
    )
    for found, ruled in itertools.product(detected, granted):
        payload = json.dumps({"mentions": found}) if found is not None else None
        sql = json.loads(await conn.fetchval(query, _json(ruled), payload))
        assert tuple(sql) == final_mentions(found, ruled), (found, ruled)


async def test_to_review_again_in_sql_is_the_worklists_rule(conn: asyncpg.Connection) -> None:
    query = (
        f"SELECT {worklist_store._TO_REVIEW_AGAIN} "
        "FROM (VALUES ($1::int, $2::int)) AS j(arobases, revision), (VALUES ($3::int)) AS s(revision)"
    )
    for jury_arobases, decision_revision, revision in itertools.product((None, 3), (None, 1, 2), (1, 2, 3)):
        row = _row(jury_arobases=jury_arobases, decision_revision=decision_revision, revision=revision)
        sql = await conn.fetchval(query, jury_arobases, decision_revision, revision)
        assert sql is row.to_review_again, (jury_arobases, decision_revision, revision)


def _json(value: Any) -> str | None:
    return json.dumps(value) if value is not None else None


def _row(**fields: Any) -> WorklistRow:
    defaults: dict[str, Any] = {name: None for name in WorklistRow.__dataclass_fields__}
    return WorklistRow(**{**defaults, "mentions": (), **fields})

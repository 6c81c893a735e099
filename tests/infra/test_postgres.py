"""PostgreSQL from the ``infra`` fixture: asyncpg works, data survives restart and crash."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from palmares_stack.pytest_plugin import Infra


@pytest.mark.asyncio
async def test_query_with_asyncpg(infra: Infra) -> None:
    conn = await asyncpg.connect(infra.database_url)
    try:
        assert await conn.fetchval("SELECT current_database()") == "palmares"
        assert await conn.fetchval("SELECT 'Villes Internet @@@@@ ✓'::text") == ("Villes Internet @@@@@ ✓")
        assert await conn.fetchval("SHOW server_encoding") == "UTF8"
    finally:
        await conn.close()


@pytest.mark.asyncio
async def test_restart_and_crash_keep_committed_data(infra: Infra) -> None:
    if infra.postgres is None:
        pytest.skip("fault injection needs TEST_INFRA=local")
    table = f"t_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(infra.database_url)
    try:
        await conn.execute(f"CREATE TABLE {table} (code text PRIMARY KEY, name text)")
        await conn.execute(f"INSERT INTO {table} VALUES ('01001', 'L''Abergement-Clémenciat')")
    finally:
        await conn.close()

    dsn = infra.database_url
    assert infra.postgres.restart() == dsn  # graceful: same port, same data
    infra.postgres.kill()  # crash: next start runs WAL recovery
    assert not infra.postgres.is_running
    assert infra.postgres.start() == dsn

    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval(f"SELECT name FROM {table}") == "L'Abergement-Clémenciat"
    finally:
        await conn.close()

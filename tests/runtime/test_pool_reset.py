"""The pool resets only the connections that kept session state (eventkit.db.PooledConnection)."""

from __future__ import annotations

import asyncio

from palmares_eventkit.db import DB_STATEMENTS, create_pool, keep_session_state


async def _statements() -> float:
    """Statements counted so far (asyncpg calls the query loggers with `call_soon`: let them run first)."""
    for _ in range(3):
        await asyncio.sleep(0)
    return float(DB_STATEMENTS._value.get())  # type: ignore[attr-defined]


async def test_a_plain_transaction_costs_no_reset_round_trip(database: str) -> None:
    pool = await create_pool(database, "public", min_size=1, max_size=1)
    try:
        before = await _statements()
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SET LOCAL statement_timeout = 1234")
            await conn.fetchval("SELECT 1")
        # BEGIN, SET LOCAL, SELECT, COMMIT: nothing more was sent on release.
        assert await _statements() - before == 4
        async with pool.acquire() as conn:
            assert await conn.fetchval("SHOW statement_timeout") == "0"
    finally:
        await pool.close()


async def test_a_connection_that_kept_session_state_is_reset_on_release(database: str) -> None:
    pool = await create_pool(database, "public", min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            await conn.execute("SET statement_timeout = 4321")
            await conn.execute("SELECT pg_advisory_lock(42)")
            await conn.execute("LISTEN somewhere")
            keep_session_state(conn)
        async with pool.acquire() as conn:  # the same connection (max_size=1), reset
            assert await conn.fetchval("SHOW statement_timeout") == "0"
            assert (
                await conn.fetchval(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
                )
                == 0
            )
            assert await conn.fetchval("SELECT count(*) FROM pg_listening_channels()") == 0
            # …and only once: its next release is a plain one again.
            before = await _statements()
        assert await _statements() == before
    finally:
        await pool.close()


async def test_a_transaction_left_open_is_rolled_back_on_release(database: str) -> None:
    pool = await create_pool(database, "public", min_size=1, max_size=1)
    try:
        conn = await pool.acquire()
        await conn.execute("CREATE TABLE t (x int)")
        tx = conn.transaction()
        await tx.start()
        await conn.execute("INSERT INTO t VALUES (1)")
        await pool.release(conn)
        async with pool.acquire() as again:
            assert await again.fetchval("SELECT count(*) FROM t") == 0
    finally:
        await pool.close()

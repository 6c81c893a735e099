"""`Tx` on the session's PostgreSQL: a deferred transaction writes its outbox rows and gathered writes once, before
the commit; one that is not writes at once; a key is locked once per transaction."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Sequence

import asyncpg
import pytest
from palmares_contracts import NotificationKind, NotificationSent
from palmares_eventkit import outbox
from palmares_eventkit.db import (
    DB_STATEMENTS,
    Connection,
    create_pool,
    eventkit_migrations,
    keep_session_state,
    migrate,
)
from palmares_eventkit.tx import Tx
from palmares_stack.pytest_plugin import Postgres

pytestmark = [pytest.mark.integration]


@pytest.fixture
async def pool(postgres: Postgres) -> AsyncIterator[asyncpg.Pool]:
    schema = f"tx_{uuid.uuid4().hex[:8]}"
    p = await create_pool(postgres.url, schema)
    try:
        await migrate(p, schema, eventkit_migrations())
        await p.execute("CREATE TABLE seen (n int)")
        yield p
    finally:
        await p.execute(f"DROP SCHEMA {schema} CASCADE")
        await p.close()


async def _statements() -> float:
    for _ in range(3):  # asyncpg calls the query loggers with `call_soon`
        await asyncio.sleep(0)
    return float(DB_STATEMENTS._value.get())  # type: ignore[attr-defined]


def _sent(n: int) -> NotificationSent:
    return NotificationSent(
        notification_id=uuid.uuid4(), kind=NotificationKind.RECEIPT, collectivite_code=f"{49000 + n}", edition=2018,
        to="numerique@mairie-angers.example", message_id=f"<m{n}@villes-internet.example>",
    )  # fmt: skip


calls: list[list[int]] = []


async def insert_seen(conn: Connection, rows: Sequence[int]) -> None:
    calls.append(list(rows))
    await conn.execute("INSERT INTO seen SELECT unnest($1::int[])", list(rows))


async def _deferred_round(pool: asyncpg.Pool, events: list[NotificationSent]) -> float:
    """Publishes and writes in a deferred transaction; the statements its flush sent."""
    async with pool.acquire() as conn, conn.transaction():
        tx = Tx(conn, await conn.fetchval("SELECT current_schema()"), deferred=True)
        before = await _statements()
        for n, event in enumerate(events):
            await tx.publish(event)
            await tx.write(insert_seen, n)
        assert await _statements() == before, "nothing sent before the flush"
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 0
        assert await tx.withdraw(events[2].event_id), "a gathered event can be taken back"
        before = await _statements()
        await tx.flush()
        return await _statements() - before


async def test_a_deferred_transaction_writes_its_events_and_rows_in_one_statement_each_before_commit(
    pool: asyncpg.Pool,
) -> None:
    await _deferred_round(pool, [_sent(n) for n in range(3)])  # asyncpg learns the array types once
    await pool.execute("DELETE FROM outbox; DELETE FROM seen")
    calls.clear()
    events = [_sent(n) for n in range(5)]
    assert await _deferred_round(pool, events) == 2, "one statement for the rows, one for the outbox"
    assert calls == [[0, 1, 2, 3, 4]]
    ids = await pool.fetch("SELECT event_id FROM outbox ORDER BY id")
    assert [r["event_id"] for r in ids] == [e.event_id for i, e in enumerate(events) if i != 2], "in order"
    assert await pool.fetchval("SELECT count(*) FROM seen") == 5


async def test_a_transaction_that_is_not_deferred_writes_at_once(pool: asyncpg.Pool) -> None:
    calls.clear()
    event = _sent(1)
    async with pool.acquire() as conn, conn.transaction():
        tx = Tx(conn, await conn.fetchval("SELECT current_schema()"))
        await tx.publish(event)
        await tx.write(insert_seen, 7)
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 1
        assert await conn.fetchval("SELECT count(*) FROM seen") == 1
        assert await tx.withdraw(event.event_id)
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 0
        await tx.flush()  # nothing gathered: nothing written twice
    assert calls == [[7]]
    assert await pool.fetchval("SELECT count(*) FROM seen") == 1


async def test_a_key_is_locked_once_per_transaction_and_held_until_it_ends(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn, pool.acquire() as other:
        async with conn.transaction():
            tx = Tx(conn, "public")
            before = await _statements()
            await tx.lock("edition:2018")
            await tx.lock("edition:2018")
            assert await _statements() - before == 1
            assert not await other.fetchval("SELECT pg_try_advisory_lock(hashtext('edition:2018'))")
        assert await other.fetchval("SELECT pg_try_advisory_xact_lock(hashtext('edition:2018'))")


class _RolledBack(Exception):
    pass


@pytest.mark.parametrize("many", [False, True], ids=["one event", "several events"])
async def test_an_event_written_in_another_statement_leaves_at_commit_and_wakes_the_relay(
    pool: asyncpg.Pool, many: bool
) -> None:
    """`outbox.insert_one_cte` (one event) and `outbox.insert_cte` (several, in their order): the events ride
    in the statement of their rows; the relay hears of them at commit."""
    schema = await pool.fetchval("SELECT current_schema()")
    woken: asyncio.Queue[str] = asyncio.Queue()
    listener = await pool.acquire()
    keep_session_state(listener)  # its LISTEN is undone when it goes back to the pool

    def heard(*args: object) -> None:
        woken.put_nowait(str(args[2]))

    def args(events: list[NotificationSent]) -> tuple[object, ...]:
        rows = [outbox.prepare(event) for event in events]
        return outbox.insert_args(rows, schema=schema) if many else outbox.insert_one_args(rows[0], schema=schema)

    await listener.add_listener(outbox.channel(schema), heard)
    statement = f"WITH {outbox.insert_cte(2) if many else outbox.insert_one_cte(2)} INSERT INTO seen VALUES ($1)"
    kept, dropped = ([_sent(3), _sent(1)] if many else [_sent(1)]), _sent(2)
    try:
        async with pool.acquire() as conn:
            async with conn.transaction():
                await conn.execute(statement, 7, *args(kept))
                await asyncio.sleep(0.2)
                assert woken.empty(), "no wake-up before the commit"
                assert await pool.fetchval("SELECT count(*) FROM outbox") == 0, "not visible before the commit"
            assert await asyncio.wait_for(woken.get(), 5) == outbox.channel(schema)
            with pytest.raises(_RolledBack):
                async with conn.transaction():
                    await conn.execute(statement, 8, *args([dropped]))
                    raise _RolledBack
        await asyncio.sleep(0.2)
        assert woken.empty(), "a rolled-back transaction wakes nobody"
        rows = await pool.fetch("SELECT event_id, topic, value, headers FROM outbox ORDER BY id")
        assert [(r["event_id"], r["topic"], bytes(r["value"])) for r in rows] == [
            (event.event_id, "notifications.v1", event.model_dump_json().encode()) for event in kept
        ]
        assert json.loads(rows[0]["headers"])["event-type"] == "NotificationSent"
        assert await pool.fetchval("SELECT array_agg(n) FROM seen") == [7]
    finally:
        await listener.remove_listener(outbox.channel(schema), heard)
        await pool.release(listener)

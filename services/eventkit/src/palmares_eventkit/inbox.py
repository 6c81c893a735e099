"""The inbox: makes redelivered events no-ops (at-least-once delivery, exactly-once effect)."""

from __future__ import annotations

from collections import Counter
from uuid import UUID

import asyncpg


async def claim(conn: asyncpg.Connection, consumer: str, event_id: UUID) -> bool:
    """Record `(consumer, event_id)` in the caller's transaction.

    True the first time: the caller applies the event in the same transaction.
    False for a redelivery: the caller does nothing, and the duplicate is
    counted. Must run inside a transaction so the record and the state change
    commit (or roll back) together.
    """
    (claimed,) = await claim_many(conn, consumer, [event_id])
    return claimed


async def claim_many(conn: asyncpg.Connection, consumer: str, event_ids: list[UUID]) -> list[bool]:
    """`claim` for a batch of events in one round trip: for each event, True the first time.

    An event twice in the same batch (a record relayed again) is claimed by its
    first occurrence; the later ones are redeliveries, counted as such.
    """
    unique = list(dict.fromkeys(event_ids))
    rows = await conn.fetch(
        """INSERT INTO inbox (consumer, event_id) SELECT $1, unnest($2::uuid[])
           ON CONFLICT (consumer, event_id) DO UPDATE SET redeliveries = inbox.redeliveries + 1
           RETURNING event_id, xmax = 0 AS inserted""",
        consumer,
        unique,
    )
    first = {row["event_id"]: row["inserted"] for row in rows}
    repeats = {i: n - 1 for i, n in Counter(event_ids).items() if n > 1}
    if repeats:
        await conn.execute(
            """UPDATE inbox SET redeliveries = redeliveries + r.n
               FROM unnest($2::uuid[], $3::int[]) AS r(event_id, n)
               WHERE inbox.consumer = $1 AND inbox.event_id = r.event_id""",
            consumer,
            list(repeats),
            list(repeats.values()),
        )
    claimed: list[bool] = []
    seen: set[UUID] = set()
    for event_id in event_ids:
        claimed.append(first[event_id] and event_id not in seen)
        seen.add(event_id)
    return claimed


async def redeliveries(conn: asyncpg.Connection) -> int:
    """How many redelivered events the inbox absorbed in this schema."""
    total: int = await conn.fetchval("SELECT coalesce(sum(redeliveries), 0) FROM inbox")
    return total

"""The inbox: makes redelivered events no-ops (at-least-once delivery, exactly-once effect)."""

from __future__ import annotations

from collections import Counter
from uuid import UUID

from palmares_eventkit.db import Connection


async def claim_many(conn: Connection, consumer: str, event_ids: list[UUID]) -> list[bool]:
    """Record `(consumer, event_id)` of each event in the caller's transaction, in one round trip.

    For each event, True the first time: the caller applies it in the same
    transaction. False for a redelivery: the caller does nothing, and the
    duplicate is counted (`inbox.redeliveries`). Must run inside a transaction
    so that the records and the state change commit (or roll back) together.
    An event twice in the same batch (a record relayed again) is claimed by its
    first occurrence; the later ones are redeliveries.
    """
    unique = list(dict.fromkeys(event_ids))
    rows = await conn.fetch(
        """INSERT INTO inbox (consumer, event_id) SELECT $1, unnest($2::uuid[])
           ON CONFLICT (consumer, event_id) DO UPDATE SET redeliveries = inbox.redeliveries + 1
           RETURNING event_id, xmax = 0 AS inserted""",
        consumer,
        unique,
    )
    first: dict[UUID, bool] = {row["event_id"]: row["inserted"] for row in rows}
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

"""The inbox: makes redelivered events no-ops (at-least-once delivery, exactly-once effect)."""

from __future__ import annotations

from uuid import UUID

import asyncpg


async def claim(conn: asyncpg.Connection, consumer: str, event_id: UUID) -> bool:
    """Record `(consumer, event_id)` in the caller's transaction.

    True the first time: the caller applies the event in the same transaction.
    False for a redelivery: the caller does nothing, and the duplicate is
    counted. Must run inside a transaction so the record and the state change
    commit (or roll back) together.
    """
    inserted: bool = await conn.fetchval(
        """INSERT INTO inbox (consumer, event_id) VALUES ($1, $2)
           ON CONFLICT (consumer, event_id) DO UPDATE SET redeliveries = inbox.redeliveries + 1
           RETURNING xmax = 0""",
        consumer,
        event_id,
    )
    return inserted


async def redeliveries(conn: asyncpg.Connection) -> int:
    """How many redelivered events the inbox absorbed in this schema."""
    total: int = await conn.fetchval("SELECT coalesce(sum(redeliveries), 0) FROM inbox")
    return total

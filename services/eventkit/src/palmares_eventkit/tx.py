"""A service's database transaction, able to emit events through the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from palmares_contracts import Event
from palmares_eventkit import outbox
from palmares_eventkit.db import Connection


@dataclass(slots=True)
class Tx:
    """A database transaction on a service's schema; the events it emits leave when (and only if) it commits."""

    conn: Connection
    schema: str

    async def publish(self, event: Event) -> None:
        """Emit `event` when (and only if) this transaction commits."""
        await outbox.enqueue(self.conn, event, schema=self.schema)

    async def publish_prepared(self, rows: Sequence[outbox.OutboxRow]) -> None:
        """Emit events prepared earlier with `outbox.prepare` (each with the trace context it was prepared in).

        One round trip for all of them: what a bulk re-evaluation needs.
        """
        await outbox.insert(self.conn, list(rows), schema=self.schema)

    async def withdraw(self, event_id: UUID) -> bool:
        """Take back an event this transaction emitted (see `outbox.withdraw`); True if it was still there."""
        return await outbox.withdraw(self.conn, event_id)

"""A service's database transaction, able to emit events through the outbox."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from uuid import UUID

from palmares_contracts import Event
from palmares_eventkit import outbox
from palmares_eventkit.db import Connection

R = TypeVar("R")

Write = Callable[[Connection, Sequence[R]], Awaitable[None]]
"""A statement that writes many rows in one round trip (see `Tx.write`)."""


@dataclass(slots=True)
class Tx:
    """A database transaction on a service's schema; the events it emits leave when (and only if) it commits.

    A *deferred* transaction (the one a consumer applies a batch of records in)
    gathers the outbox rows and the `write`s of all its handlers and sends
    each kind in one statement at `flush`, just before the commit: a batch of
    n events costs one outbox insert instead of n. A transaction that is not
    deferred writes at once: where a write must reach PostgreSQL before
    something else happens (notify's sender records the success before it
    speaks to the SMTP server), build it so.
    """

    conn: Connection
    schema: str
    deferred: bool = False
    _outbox: list[outbox.OutboxRow] = field(default_factory=list, init=False, repr=False)
    _writes: dict[Write[Any], list[Any]] = field(default_factory=dict, init=False, repr=False)
    _locks: set[str] = field(default_factory=set, init=False, repr=False)
    _after_commit: list[Callable[[], object]] = field(default_factory=list, init=False, repr=False)
    memo: dict[Any, Any] = field(default_factory=dict, init=False, repr=False)
    """What a subscription's `prepare` read for the batch, and its handlers keep for the next events of it."""

    async def publish(self, event: Event) -> None:
        """Emit `event` when (and only if) this transaction commits (its trace context is taken now)."""
        await self.publish_prepared([outbox.prepare(event)])

    async def publish_prepared(self, rows: Sequence[outbox.OutboxRow]) -> None:
        """Emit events prepared earlier with `outbox.prepare` (each with the trace context it was prepared in).

        One round trip for all of them: what a bulk re-evaluation needs.
        """
        if self.deferred:
            self._outbox.extend(rows)
        else:
            await outbox.insert(self.conn, list(rows), schema=self.schema)

    async def write(self, statement: Write[R], row: R) -> None:
        """Write `row` with `statement` (which takes a connection and rows): at once, or at `flush` if deferred.

        The rows of one statement are written in the order given; the statement
        must accept several rows for one key (keep the newest, for instance).
        """
        if self.deferred:
            self._writes.setdefault(statement, []).append(row)
        else:
            await statement(self.conn, [row])

    async def lock(self, key: str) -> None:
        """Serialize, until this transaction ends, the transactions that take the same key.

        Asked once per key and transaction: a batch of events of one edition takes its lock once.
        """
        if key not in self._locks:
            await self.conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", key)
            self._locks.add(key)

    async def withdraw(self, event_id: UUID) -> bool:
        """Take back an event this transaction emitted (see `outbox.withdraw`); True if it was still there."""
        for i, row in enumerate(self._outbox):
            if row.event_id == event_id:
                del self._outbox[i]
                return True
        return await outbox.withdraw(self.conn, event_id)

    def after_commit(self, callback: Callable[[], object]) -> None:
        """Call `callback` once this transaction has committed, never if it rolls back.

        For waking a task that reads what the transaction wrote: woken before
        the commit, it would find nothing and go back to sleep.
        """
        self._after_commit.append(callback)

    def committed(self) -> None:
        """Run the `after_commit` callbacks (called by whoever committed the transaction)."""
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    async def flush(self) -> None:
        """Send what a deferred transaction gathered (the writes, then the outbox rows); called before the commit."""
        writes, self._writes = self._writes, {}
        for statement, rows in writes.items():
            await statement(self.conn, rows)
        rows, self._outbox = self._outbox, []
        await outbox.insert(self.conn, rows, schema=self.schema)

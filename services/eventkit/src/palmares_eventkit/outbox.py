"""The transactional outbox and its relay to Kafka.

`enqueue` writes an event in the caller's transaction, together with the W3C
trace context of the current span. The `OutboxRelay` publishes committed rows
in id order with the idempotent producer and deletes them once Kafka acked;
a crash between the ack and the delete republishes the same event (same
`event_id`), which the consumers' inboxes absorb.

One relay per schema publishes at a time (a Postgres advisory lock), so that
several instances of a service keep the per-key order of their events. The
lock's session has an `idle_session_timeout`: if the leader's process freezes
(SIGSTOP, a paused VM) PostgreSQL ends its session after that long, the lock
goes, and another instance leads. When the frozen leader wakes, it checks its
session before publishing what it had read (`_fence`): a dead session means it
lost the lead, and it publishes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from palmares_contracts import Event, encode, topic_of
from palmares_eventkit import telemetry
from palmares_eventkit.db import Connection, keep_session_state
from palmares_eventkit.producer import Producer
from prometheus_client import Counter, Gauge

log = logging.getLogger(__name__)
tracer = trace.get_tracer("palmares.outbox")

OUTBOX_PUBLISHED = Counter("palmares_outbox_published_total", "Events relayed from the outbox to Kafka", ["topic"])
OUTBOX_BACKLOG = Gauge("palmares_outbox_backlog", "Outbox rows seen waiting by the last relay pass")


def channel(schema: str) -> str:
    """The LISTEN/NOTIFY channel that wakes the relay of a schema."""
    return f"{schema}_outbox"


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """An event ready for the outbox: topic, key, bytes, and headers with the current trace context."""

    event_id: UUID
    topic: str
    key: bytes
    value: bytes
    headers: str


def prepare(event: Event) -> OutboxRow:
    """Encode `event` for the outbox, capturing the trace context of the current span."""
    topic = topic_of(event)
    value, headers = encode(event)
    telemetry.inject_current(headers)
    return OutboxRow(event.event_id, topic.name, topic.key_of(event), value, json.dumps(headers))


async def insert(conn: Connection, rows: list[OutboxRow], *, schema: str) -> None:
    """Write prepared events to the outbox in the caller's transaction (one round trip for many)."""
    if not rows:
        return
    # The rows and the wake-up in one statement: a round trip costs the service and PostgreSQL
    # more CPU than the insert itself. The notification is delivered at commit only, once per
    # transaction, and wakes the relay without polling delay.
    await conn.execute(_INSERT, *insert_args(rows, schema=schema))


def insert_cte(first: int) -> str:
    """A data-modifying CTE, `outboxed`, that writes prepared events in their order and wakes the relay.

    For a statement that writes the rows the events are about (notify's sent
    emails): the events ride in it instead of a round trip of their own. Its
    parameters are `$first` to `$first + 5` (`insert_args`). A data-modifying
    CTE runs whether or not the statement reads it; with no event, it writes
    nothing and wakes nobody.
    """
    n = first
    return f"""outboxed AS (
    INSERT INTO outbox (event_id, topic, key, value, headers)
    SELECT e, t, k, v, h::jsonb
    FROM unnest(${n}::uuid[], ${n + 1}::text[], ${n + 2}::bytea[], ${n + 3}::bytea[], ${n + 4}::text[])
         WITH ORDINALITY AS u(e, t, k, v, h, n)
         CROSS JOIN pg_notify(${n + 5}::text, '')
    ORDER BY n  -- ids in the order of the events: the relay publishes by id
)"""


def insert_args(rows: Sequence[OutboxRow], *, schema: str) -> tuple[object, ...]:
    """The parameters of `insert_cte`, in its order."""
    return (
        [r.event_id for r in rows],
        [r.topic for r in rows],
        [r.key for r in rows],
        [r.value for r in rows],
        [r.headers for r in rows],
        channel(schema),
    )


_INSERT = f"WITH {insert_cte(1)} SELECT"


def insert_one_cte(first: int) -> str:
    """A data-modifying CTE, `outboxed`, that writes one prepared event and wakes the relay (`insert_one_args`).

    For a statement that writes the rows an event is about: the event rides in
    that statement instead of a round trip of its own (the intake's
    `save_revision`). Its parameters are `$first` to `$first + 5`. A
    data-modifying CTE runs whether or not the statement reads it.
    """
    n = first
    return f"""outboxed AS (
    INSERT INTO outbox (event_id, topic, key, value, headers)
    SELECT ${n}::uuid, ${n + 1}::text, ${n + 2}::bytea, ${n + 3}::bytea, ${n + 4}::jsonb FROM pg_notify(${n + 5}::text, '')
)"""


def insert_one_args(row: OutboxRow, *, schema: str) -> tuple[object, ...]:
    """The parameters of `insert_one_cte`, in its order."""
    return (row.event_id, row.topic, row.key, row.value, row.headers, channel(schema))


async def withdraw(conn: Connection, event_id: UUID) -> bool:
    """Take back an event written earlier in the caller's transaction (or committed, not yet relayed).

    True if it was still in the outbox. An event the relay already published
    cannot be withdrawn: the caller's transaction must hold what makes that
    impossible (notify holds the email's row lock from the write to the withdrawal).
    """
    return await conn.fetchval("DELETE FROM outbox WHERE event_id = $1 RETURNING true", event_id) is not None


class StoredRow(Protocol):
    """An outbox row as read back (`topic`, `key`, `value`, `headers` as JSON text, …)."""

    def __getitem__(self, column: str, /) -> Any: ...


Published = Callable[[Sequence[StoredRow]], None]
"""Called with the rows of each batch the relay published, once Kafka acknowledged them."""


class OutboxRelay:
    """Publishes outbox rows to Kafka, in order, at least once."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        producer: Producer,
        schema: str,
        *,
        published: Published | None = None,
        batch_size: int = 500,
        poll_interval_s: float = 1.0,
        max_backoff_s: float = 5.0,
        idle_session_timeout_s: float | None = None,
    ) -> None:
        self._pool = pool
        self._producer = producer
        self._schema = schema
        self._published = published
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._max_backoff_s = max_backoff_s
        self._idle_session_timeout_s = idle_session_timeout_s
        # Rows that took longer than this to read are published only once the lock's session answers again.
        self._fence_after_s = min(poll_interval_s * 2, (idle_session_timeout_s or 60.0) / 4)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.healthy = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox-relay-{self._schema}")

    async def stop(self, drain_s: float = 5.0) -> None:
        """Publish what is committed (for up to `drain_s`), then stop.

        A service stopped for maintenance leaves nothing in its outbox: what an
        operator does next (a rebuild of its database from the topics, a
        restore) then finds every event it emitted on Kafka.
        """
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._task), drain_s)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def wake(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        backoff = 0.1
        while not self._stopping:
            try:
                await self._lead()
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception:
                self.healthy = False
                log.exception("outbox relay failed; retrying", extra={"backoff_s": backoff})
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff_s)

    async def _lead(self) -> None:
        """Hold the schema's relay lock on a dedicated connection, then relay until it breaks."""
        conn = await self._pool.acquire()
        try:
            lock_key = f"outbox-relay:{self._schema}"
            while not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", lock_key):
                self.healthy = True  # a follower is healthy: another instance relays
                if self._stopping:
                    return  # the leader drains the outbox
                await asyncio.sleep(self._poll_interval_s)
            keep_session_state(conn)  # the lock, the SET and the LISTEN below are the session's
            if self._idle_session_timeout_s:
                # Session-wide (not SET LOCAL): the lock is the session's. The relay speaks at least
                # every poll interval, far below it; the pool's reset on release restores the default.
                ms = int(self._idle_session_timeout_s * 1000)
                await conn.execute(f"SET idle_session_timeout = {ms}")
            await conn.add_listener(channel(self._schema), self._on_notify)
            try:
                self.healthy = True
                while True:
                    self._wake.clear()
                    stopping = self._stopping  # read before the batch: a pass after the stop drains
                    if await self._relay_batch(conn) < self._batch_size:
                        if stopping:
                            break
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._wake.wait(), self._poll_interval_s)
            finally:
                await conn.remove_listener(channel(self._schema), self._on_notify)
                await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", lock_key)
        finally:
            await self._pool.release(conn)

    def _on_notify(self, *_: Any) -> None:
        self._wake.set()

    async def _relay_batch(self, conn: PoolConnectionProxy) -> int:
        # Taken before the query: a process frozen while the rows travel wakes with them in hand.
        asked_at = time.monotonic()
        rows = await conn.fetch(
            "SELECT id, event_id, topic, key, value, headers FROM outbox ORDER BY id LIMIT $1", self._batch_size
        )
        OUTBOX_BACKLOG.set(len(rows))
        if not rows:
            return 0
        await self._fence(conn, asked_at)
        await self._publish(rows)
        if self._published is not None:
            try:
                self._published(rows)
            except Exception:  # an observer (a metric) never stops the relay
                log.exception("observer of published events failed")
        await conn.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])", [r["id"] for r in rows])
        for row in rows:
            OUTBOX_PUBLISHED.labels(row["topic"]).inc()
        return len(rows)

    async def _fence(self, conn: PoolConnectionProxy, asked_at: float) -> None:
        """Still the leader? Asked of PostgreSQL only when time passed since the rows were read.

        Reading and publishing are one event-loop turn apart: a gap of seconds means
        the process was frozen (or starved), and PostgreSQL may have ended the lock's
        session meanwhile (`idle_session_timeout`), so that another relay leads and
        published these rows. Then this query fails and nothing is published.
        """
        if time.monotonic() - asked_at > self._fence_after_s:
            try:
                await conn.fetchval("SELECT 1")
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                log.warning("outbox relay fenced: its lock's session ended while it was frozen; nothing published")
                raise

    async def _publish(self, rows: Sequence[asyncpg.Record]) -> None:
        # send() only appends to the producer's batch; awaiting the futures
        # afterwards lets one round trip carry the whole batch, in order.
        futures: list[asyncio.Future[Any]] = []
        for row in rows:
            stored = json.loads(row["headers"])
            parent = telemetry.extract(stored)
            with tracer.start_as_current_span(
                f"{row['topic']} publish",
                context=parent,
                kind=SpanKind.PRODUCER,
                attributes={
                    "messaging.system": "kafka",
                    "messaging.destination.name": row["topic"],
                    "messaging.message.id": str(row["event_id"]),
                    "palmares.outbox.id": row["id"],
                },
            ):
                headers = {k: v for k, v in stored.items() if k not in ("traceparent", "tracestate")}
                telemetry.inject_current(headers)
                futures.append(
                    await self._producer.send(
                        row["topic"],
                        value=bytes(row["value"]),
                        key=bytes(row["key"]) if row["key"] is not None else None,
                        headers=[(k, v.encode()) for k, v in headers.items()],
                    )
                )
        await asyncio.gather(*futures)

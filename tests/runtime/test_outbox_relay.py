"""The outbox relay at stop: what is committed is published before the relay exits (on the session's PostgreSQL).

An operator who stops a service to rebuild its database from the topics
(docs/operations.md, "Disasters") must find every event it emitted on Kafka.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from palmares_contracts import NotificationKind, NotificationSent
from palmares_eventkit import outbox
from palmares_eventkit.db import create_pool, eventkit_migrations, migrate
from palmares_stack.pytest_plugin import Postgres

from tests.runtime.harness import eventually

pytestmark = [pytest.mark.integration]


class Recording:
    """A producer that keeps what it is asked to send (Kafka acknowledges at once)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None]] = []

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, topic: str, value: bytes | None = None, key: bytes | None = None, headers: Any = None) -> Any:
        self.sent.append((topic, value))
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


@pytest.fixture
async def pool(postgres: Postgres) -> AsyncIterator[asyncpg.Pool]:
    schema = f"relay_{uuid.uuid4().hex[:8]}"
    p = await create_pool(postgres.url, schema)
    try:
        await migrate(p, schema, eventkit_migrations())
        yield p
    finally:
        await p.execute(f"DROP SCHEMA {schema} CASCADE")
        await p.close()


async def test_a_stopped_relay_publishes_what_was_committed_before_it_exits(pool: asyncpg.Pool) -> None:
    producer = Recording()
    schema = await pool.fetchval("SELECT current_schema()")
    # Polls once a minute: only the stop can make it publish within this test.
    relay = outbox.OutboxRelay(pool, producer, schema, poll_interval_s=60)
    relay.start()

    async def leading() -> bool:
        return relay.healthy

    await eventually(leading, 10, "the relay leading")
    await asyncio.sleep(0.2)  # the first (empty) pass done: the relay waits for a wake-up or the next poll
    event = NotificationSent(
        notification_id=uuid.uuid4(), kind=NotificationKind.RECEIPT, collectivite_code="49007", edition=2018,
        to="numerique@mairie-angers.example", message_id="<m@villes-internet.example>",
    )  # fmt: skip
    row = outbox.prepare(event)
    # Committed without the NOTIFY that wakes the relay (a wake-up lost, a notification not yet delivered).
    await pool.execute(
        "INSERT INTO outbox (event_id, topic, key, value, headers) VALUES ($1, $2, $3, $4, $5::jsonb)",
        row.event_id, row.topic, row.key, row.value, row.headers,
    )  # fmt: skip
    await relay.stop()
    assert producer.sent == [(row.topic, row.value)]
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 0

"""The delivery rules of the runtime, written once; `test_delivery_rules.py` runs them in memory and on Kafka.

A service with one subscription (jury decisions on a topic of the test's own)
whose handler records each event it applies, and misbehaves on demand: the
decision's `comment` says how (`boom`: a bug; `disconnect`: its database
connection dies the first time; `deadlock`: contention the first two times;
`deadlock-forever`: contention every time; `emit`: it publishes an event).
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from typing import Any

import asyncpg
import pytest
from palmares_contracts import JURY, JuryDecided, NotificationKind, NotificationSent, encode
from palmares_contracts.deadletters import (
    CONSUMER,
    ERROR,
    ERROR_TYPE,
    SOURCE_OFFSET,
    SOURCE_PARTITION,
    SOURCE_TOPIC,
)
from palmares_eventkit.db import Migration
from palmares_eventkit.runtime import ServiceRuntime, Subscription, Tx

from tests.runtime.harness import Harness, Raw, eventually
from tests.runtime.memory import header

APPLIED = Migration(
    "rules",
    1,
    "0001_applied.sql",
    "CREATE TABLE applied (event_id uuid PRIMARY KEY, comment text NOT NULL, applied_at timestamptz DEFAULT now())",
)


class Handler:
    """The handler under test: applies a jury decision, or fails the way its comment asks."""

    def __init__(self) -> None:
        self.attempts: Counter[uuid.UUID] = Counter()

    async def __call__(self, tx: Tx, event: JuryDecided) -> None:
        self.attempts[event.event_id] += 1
        attempt = self.attempts[event.event_id]
        match event.comment:
            case "boom":
                raise RuntimeError("a bug in the handler")
            case "disconnect" if attempt == 1:
                await tx.conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")
            case "deadlock" if attempt <= 2:
                raise asyncpg.exceptions.DeadlockDetectedError("deadlock detected (injected)")
            case "deadlock-forever":
                raise asyncpg.exceptions.DeadlockDetectedError("deadlock detected (injected)")
        await tx.conn.execute("INSERT INTO applied (event_id, comment) VALUES ($1, $2)", event.event_id, event.comment)
        if event.comment == "emit":
            await tx.publish(notification(event.collectivite_code))


def decision(comment: str = "", code: str = "49007") -> JuryDecided:
    return JuryDecided(
        submission_id=uuid.uuid4(), edition=2017, collectivite_code=code, arobases=4, comment=comment, decided_by="Jury"
    )


def notification(code: str) -> NotificationSent:
    return NotificationSent(
        notification_id=uuid.uuid4(),
        kind=NotificationKind.RECEIPT,
        collectivite_code=code,
        edition=2017,
        to="mairie@example.org",
        message_id=f"<{uuid.uuid4()}@villes-internet.example>",
        submission_id=uuid.uuid4(),
        revision=1,
    )


class DeliveryRules:
    """The rules; a subclass provides the `harness` fixture (started with `start`)."""

    async def start(self, harness: Harness) -> tuple[ServiceRuntime, Handler, Any]:
        handler = Handler()
        topic = harness.topic(JURY)
        runtime = await harness.start([Subscription(topic, handler)], [APPLIED])
        return runtime, handler, topic

    async def applied(self, runtime: ServiceRuntime) -> dict[uuid.UUID, str]:
        rows = await runtime.pool.fetch("SELECT event_id, comment FROM applied")
        return {row["event_id"]: row["comment"] for row in rows}

    async def test_a_poison_record_goes_to_the_dead_letter_topic_with_its_reason_and_original_bytes(
        self, harness: Harness
    ) -> None:
        runtime, _, topic = await self.start(harness)
        good = decision()
        poisons = [
            Raw(b"\xff not json", b"k1", (("trace", b"\x00\x01binary"),)),
            Raw(json.dumps({"event_type": "PalmaresPublished", "edition": 2017}).encode(), b"k2"),
            Raw(encode(decision())[0].replace(b'"arobases":4', b'"arobases":9'), b"k3"),
        ]
        offsets = await harness.feed(topic, [poisons[0], Raw.of(good), poisons[1], poisons[2]])
        await harness.settled(topic, offsets)
        assert await self.applied(runtime) == {good.event_id: ""}
        dead = await harness.sent_until(topic.dlq, lambda found: len(found) >= 3)
        assert [d.value for d in dead] == [p.value for p in poisons]
        assert [d.key for d in dead] == [p.key for p in poisons]
        assert [header(d, ERROR_TYPE) for d in dead] == ["undecodable", "unknown-event-type", "invalid-event"]
        for record, offset in zip(dead, [offsets[0], offsets[2], offsets[3]], strict=True):
            assert header(record, SOURCE_TOPIC) == topic.name
            assert header(record, SOURCE_PARTITION) == "0"
            assert header(record, SOURCE_OFFSET) == str(offset)
            assert header(record, CONSUMER) == f"{harness.service}.{topic.name}"
            assert header(record, ERROR)
        # The original headers travel with the record, bytes untouched.
        assert ("trace", b"\x00\x01binary") in dead[0].headers

    async def test_a_redelivered_event_is_a_no_op(self, harness: Harness) -> None:
        runtime, handler, topic = await self.start(harness)
        code = _new_code()
        event = decision(comment="emit", code=code)
        mark = await harness.mark("notifications.v1")
        first = await harness.feed(topic, [Raw.of(event)])
        # Delivered again: later, and twice within one batch.
        again = await harness.feed(topic, [Raw.of(event), Raw.of(event)])
        await harness.settled(topic, first + again)
        assert await self.applied(runtime) == {event.event_id: "emit"}
        assert handler.attempts[event.event_id] == 1
        redeliveries = await runtime.pool.fetchval("SELECT redeliveries FROM inbox WHERE event_id = $1", event.event_id)
        assert redeliveries == 2
        emitted = await harness.sent_until("notifications.v1", lambda found: _with_code(found, code) >= 1, after=mark)
        assert _with_code(emitted, code) == 1
        assert await harness.sent(topic.dlq) == []

    async def test_a_failing_record_in_a_batch_is_isolated_and_the_others_commit(self, harness: Harness) -> None:
        runtime, handler, topic = await self.start(harness)
        before, failing, after = decision("before"), decision("boom"), decision("after")
        offsets = await harness.feed(topic, [Raw.of(before), Raw.of(failing), Raw.of(after)])
        await harness.settled(topic, offsets)
        assert await self.applied(runtime) == {before.event_id: "before", after.event_id: "after"}
        dead = await harness.sent_until(topic.dlq, lambda found: len(found) >= 1)
        assert len(dead) == 1
        assert header(dead[0], ERROR_TYPE) == "handler:RuntimeError"
        assert header(dead[0], ERROR) == "a bug in the handler"
        assert header(dead[0], SOURCE_OFFSET) == str(offsets[1])
        assert dead[0].value == Raw.of(failing).value
        # The failed record was never claimed: a replay of the dead letter would apply it.
        assert await runtime.pool.fetchval("SELECT count(*) FROM inbox WHERE event_id = $1", failing.event_id) == 0
        assert handler.attempts[failing.event_id] >= 1

    async def test_a_database_that_goes_away_is_waited_for_not_dead_lettered(self, harness: Harness) -> None:
        runtime, handler, topic = await self.start(harness)
        event = decision("disconnect")
        offsets = await harness.feed(topic, [Raw.of(event)])
        await harness.settled(topic, offsets)
        assert await self.applied(runtime) == {event.event_id: "disconnect"}
        assert handler.attempts[event.event_id] == 2
        assert await harness.sent(topic.dlq) == []

    async def test_contention_is_retried_then_dead_lettered_when_it_lasts(self, harness: Harness) -> None:
        runtime, handler, topic = await self.start(harness)
        passing, lasting = decision("deadlock"), decision("deadlock-forever")
        offsets = await harness.feed(topic, [Raw.of(passing), Raw.of(lasting)])
        await harness.settled(topic, offsets)
        assert await self.applied(runtime) == {passing.event_id: "deadlock"}
        dead = await harness.sent_until(topic.dlq, lambda found: len(found) >= 1)
        assert [(header(d, ERROR_TYPE), header(d, SOURCE_OFFSET)) for d in dead] == [
            ("retries-exhausted", str(offsets[1]))
        ]
        assert handler.attempts[lasting.event_id] >= runtime.settings.retry_max_attempts

    async def test_the_outbox_relay_publishes_in_order_and_survives_a_broker_error(self, harness: Harness) -> None:
        runtime, _, _ = await self.start(harness)
        code = _new_code()
        events = [notification(code) for _ in range(12)]
        mark = await harness.mark("notifications.v1")
        harness.faults.failing_sends = 2
        async with runtime.transaction() as tx:
            for event in events[:6]:
                await tx.publish(event)
        async with runtime.transaction() as tx:
            for event in events[6:]:
                await tx.publish(event)
        runtime.wake_relay()
        published = await harness.sent_until(
            "notifications.v1", lambda found: len(_first_seen(found, code)) == len(events), after=mark
        )
        assert _first_seen(published, code) == [str(e.event_id) for e in events]
        assert harness.faults.failed == 2
        # Every record of the collectivité on one partition (its key), in the order written.
        ours = [r for r in published if _code(r) == code]
        assert {(r.partition, r.key) for r in ours} == {(ours[0].partition, code.encode())}

        async def relayed() -> bool:  # rows are deleted once Kafka acked them, just after the send
            return await runtime.pool.fetchval("SELECT count(*) FROM outbox") == 0

        await eventually(relayed, 10, "the outbox emptied")

    async def test_what_waits_for_a_commit_runs_after_it_and_never_after_a_rollback(self, harness: Harness) -> None:
        runtime, _, _ = await self.start(harness)
        in_transaction: list[bool] = []  # for each callback run: whether its connection was still in the transaction
        async with runtime.transaction() as tx:
            tx.after_commit(lambda: in_transaction.append(tx.conn.is_in_transaction()))
            await tx.conn.execute("SELECT 1")
            assert in_transaction == []
        assert in_transaction == [False]
        with pytest.raises(RuntimeError, match="rolled back"):
            async with runtime.transaction() as tx:
                tx.after_commit(lambda: in_transaction.append(True))
                raise RuntimeError("rolled back")
        assert in_transaction == [False]


def _new_code() -> str:
    """A collectivité code (an EPCI SIREN) of this test only: the registry's topics are shared by the session."""
    return f"{uuid.uuid4().int % 10**9:09d}"


def _code(record: Any) -> str | None:
    return json.loads(record.value).get("collectivite_code") if record.value else None


def _with_code(records: list[Any], code: str) -> int:
    return sum(1 for r in records if _code(r) == code)


def _first_seen(records: list[Any], code: str) -> list[str]:
    """Event ids of a collectivité's records in the order they first appear (a redelivery adds nothing)."""
    ordered = sorted((r for r in records if _code(r) == code), key=lambda r: (r.partition, r.offset))
    return list(dict.fromkeys(json.loads(r.value)["event_id"] for r in ordered))

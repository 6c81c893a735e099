"""The delivery policy of a subscription: decode, apply, retry, dead-letter.

A consumer receives records in batches (in partition order) and:
- reads each record under the contracts; what cannot be read (oversized,
  undecodable, unknown event type, future schema version) is dead-lettered
  with its reason, and the consumer goes on;
- applies the readable ones in one database transaction that first claims
  every event in the inbox (one round trip): a redelivered event is a no-op;
- if a handler fails, applies each record again as a batch of its own, so
  that only the failing record is dead-lettered and the others commit;
- when the database is unreachable or restarting, waits and retries without
  limit: the message is not at fault, and dead-lettering it would only make
  an operator replay what the system can finish by itself;
- on contention (deadlock, serialization failure), retries a record a
  bounded number of times, then dead-letters it `retries-exhausted`.

A single record is a batch of one: there is one path for both. Each record
gets its own consumer span, in the trace of the event it carries.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

import asyncpg
from aiokafka.structs import ConsumerRecord
from opentelemetry.trace import Span, SpanKind, Tracer
from palmares_contracts import ContractError, Event, decode
from palmares_eventkit import inbox, telemetry
from palmares_eventkit.deadletter import SourceRecord
from palmares_eventkit.metrics import EVENTS_CONSUMED
from palmares_eventkit.settings import ServiceSettings
from palmares_eventkit.subscription import Subscription
from palmares_eventkit.tx import Tx

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)

# The database is unreachable or restarting: wait, the message is not at fault.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.TooManyConnectionsError,
    # A connection the server terminated mid-operation (PostgreSQL restarting)
    # can surface as asyncpg's "cannot switch to state …" protocol error.
    asyncpg.InternalClientError,
)
# Contention: retried a bounded number of times, then dead-lettered.
CONTENTION: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.LockNotAvailableError,
)

Outcome = Literal["processed", "duplicate"]
Transaction = Callable[[], AbstractAsyncContextManager[Tx]]
DeadLetter = Callable[[SourceRecord, str, str, str], Awaitable[None]]
"""Sends a record to its dead-letter topic: (record, consumer, error type, error)."""


@dataclass(slots=True)
class Item(Generic[E]):
    """One record of a batch: its event, or why it cannot be read."""

    source: SourceRecord
    event: E | None = None
    failure: tuple[str, str] | None = None


class Consumer(Generic[E]):
    """Consumes one topic in one consumer group: `process` takes each batch of records."""

    def __init__(
        self,
        name: str,
        subscription: Subscription[E],
        *,
        transaction: Transaction,
        dead_letter: DeadLetter,
        settings: ServiceSettings,
        tracer: Tracer,
        committed: Callable[[], None] = lambda: None,
    ) -> None:
        self.name = name
        self.topic = subscription.topic
        self._handler = subscription.handler
        self._prepare = subscription.prepare
        self._transaction = transaction
        self._dead_letter = dead_letter
        self._settings = settings
        self._tracer = tracer
        # Called after each commit (the runtime wakes its outbox relay).
        self._committed = committed

    async def process(self, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        """Apply a batch of records; returns once each one is applied or dead-lettered."""
        items = [self.read(record) for record in records]
        readable = [item for item in items if item.event is not None]
        if readable:
            await self._apply(readable)
        for item in items:
            if item.failure is not None:
                await self._set_aside(item, *item.failure)

    def read(self, record: ConsumerRecord[Any, Any]) -> Item[E]:
        """The event of a record, or the permanent reason it cannot be read (pure)."""
        source = SourceRecord(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value,
            headers=tuple(record.headers or ()),
        )
        size = len(record.value or b"")
        if size > self._settings.max_event_bytes:
            return Item(
                source, failure=("oversized", f"record of {size} bytes > limit of {self._settings.max_event_bytes}")
            )
        headers = {k: v.decode("utf-8", "replace") for k, v in source.headers}
        try:
            return Item(source, event=decode(self.topic, record.value, headers))
        except ContractError as exc:
            return Item(source, failure=(exc.error_type, exc.reason))

    async def _apply(self, items: list[Item[E]]) -> None:
        """The events in one transaction, with the retry rules; a failure isolates each record."""
        contention_attempts = 0
        delay = self._settings.retry_base_delay_s
        while True:
            try:
                outcomes = await self._apply_once(items)
            except asyncio.CancelledError:
                raise
            except UNAVAILABLE as exc:
                log.warning("database unavailable; will retry", extra={"consumer": self.name, "error": str(exc)})
            except Exception as exc:
                if len(items) > 1:
                    for item in items:  # each record a batch of its own: the others commit
                        await self._apply([item])
                    return
                if not isinstance(exc, CONTENTION):
                    log.exception("handler failed", extra={"consumer": self.name})
                    await self._set_aside(items[0], f"handler:{type(exc).__name__}", str(exc) or repr(exc))
                    return
                contention_attempts += 1
                if contention_attempts >= self._settings.retry_max_attempts:
                    await self._set_aside(items[0], "retries-exhausted", f"{type(exc).__name__}: {exc}")
                    return
            else:
                for outcome in outcomes:
                    EVENTS_CONSUMED.labels(self.name, outcome).inc()
                self._committed()
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._settings.retry_max_delay_s)

    async def _apply_once(self, items: list[Item[E]]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        async with self._transaction() as tx:
            events = [item.event for item in items if item.event is not None]
            # One round trip claims the whole batch (redeliveries are no-ops below).
            claims = await inbox.claim_many(tx.conn, self.name, [event.event_id for event in events])
            claimed_events = [event for event, claimed in zip(events, claims, strict=True) if claimed]
            # For a single event the handler's own reads cost the same: `prepare` is for batches.
            if self._prepare is not None and len(claimed_events) > 1:
                await self._prepare(tx, claimed_events)
            for item, event, claimed in zip(items, events, claims, strict=True):
                with self._span(item):
                    if claimed:
                        await self._handler(tx, event)
                        _log_handled(self.name, event)
                        outcomes.append("processed")
                    else:
                        outcomes.append("duplicate")
        return outcomes

    async def _set_aside(self, item: Item[E], error_type: str, error: str) -> None:
        with self._span(item) as span:
            EVENTS_CONSUMED.labels(self.name, "dead-lettered").inc()
            span.set_attribute("palmares.dead_letter", error_type)
            await self._dead_letter(item.source, self.name, error_type, error)

    def _span(self, item: Item[E]) -> AbstractContextManager[Span]:
        """The consumer span of one record, in the trace of the event it carries."""
        headers = {k: v.decode("utf-8", "replace") for k, v in item.source.headers}
        attributes: dict[str, Any] = {
            "messaging.system": "kafka",
            "messaging.destination.name": self.topic.name,
            "messaging.kafka.destination.partition": item.source.partition,
            "messaging.kafka.message.offset": item.source.offset,
        }
        if item.event is not None:
            attributes["messaging.message.id"] = str(item.event.event_id)
            if (submission_id := getattr(item.event, "submission_id", None)) is not None:
                # Lets an operator find every span of a dossier (`palmares trace <id>`).
                attributes["palmares.submission_id"] = str(submission_id)
        return self._tracer.start_as_current_span(
            f"{self.topic.name} process",
            context=telemetry.extract(headers),
            kind=SpanKind.CONSUMER,
            attributes=attributes,
        )


def _log_handled(consumer: str, event: Event) -> None:
    """A DEBUG line (`PALMARES_LOG_LEVEL=DEBUG`) inside the event's span, carrying the dossier's trace id.

    An operator goes from a trace to the logs of every service that worked on it.
    """
    if log.isEnabledFor(logging.DEBUG):
        submission_id = getattr(event, "submission_id", None)
        log.debug(
            "event handled",
            extra={
                "consumer": consumer,
                "event_type": event.event_type,
                "event_id": str(event.event_id),
                "submission_id": str(submission_id) if submission_id is not None else None,
            },
        )

"""The composition root every service builds on: broker, pool, inbox, outbox relay, dead letters.

A service creates one `ServiceRuntime`, registers handlers with `subscribe`,
and runs it either as a FastStream ASGI app (`asgi_app`, for the workers) or
from its own ASGI lifespan (`start` / `stop`, for the HTTP submission service).

Delivery (docs/delivery.md):
- consumers have a group id and `AckPolicy.ACK`: the offset is committed only
  after the handler returned, so a crash redelivers (at least once);
- each handler runs in one database transaction that first claims
  `(consumer, event_id)` in the inbox: a redelivery is a no-op;
- events a handler emits go to the outbox in that same transaction;
- an undecodable or invalid record, or a handler that fails for a reason of
  the message's own, is dead-lettered with its reason, and the consumer goes on;
- when the database is unreachable the handler waits and retries without
  limit: the message is not at fault, and dead-lettering it would only force
  an operator to replay what the system can finish by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import uvicorn
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from faststream import AckPolicy
from faststream.asgi import AsgiFastStream, AsgiResponse, get
from faststream.exceptions import NackMessage
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.message import StreamMessage
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from palmares_contracts import ContractError, Event, Topic, decode
from palmares_eventkit import inbox, kafka_security, metrics, outbox, telemetry
from palmares_eventkit.db import Migration, create_pool, eventkit_migrations, migrate
from palmares_eventkit.deadletter import SourceRecord, dead_letter
from palmares_eventkit.logs import setup_logging
from palmares_eventkit.settings import ServiceSettings
from palmares_eventkit.topics_admin import DLQ_MAX_MESSAGE_BYTES, all_topic_names, ensure_topics
from prometheus_client import Counter, make_asgi_app

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)

EVENTS_CONSUMED = Counter("palmares_events_consumed_total", "Records consumed, by outcome", ["consumer", "outcome"])

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


@dataclass(slots=True)
class Tx:
    """A database transaction of a service, able to emit events through the outbox."""

    conn: asyncpg.Connection
    schema: str

    async def publish(self, event: Event) -> None:
        """Emit `event` when (and only if) this transaction commits."""
        await outbox.enqueue(self.conn, event, schema=self.schema)


Handler = Callable[[Tx, E], Awaitable[None]]
Background = Callable[["ServiceRuntime"], Awaitable[None]]


async def tolerant_parser(records: Any, original: Callable[..., Awaitable[Any]]) -> Any:
    """FastStream's parser, made safe for header values that are not UTF-8.

    FastStream decodes every header as UTF-8 before any handler runs; a record
    with binary header bytes would fail there and be acknowledged unseen. Parse
    copies with readable headers instead, and keep the original records (bytes
    untouched) for the handler: it dead-letters what it cannot read.
    """
    try:
        return await original(records)
    except UnicodeDecodeError:
        batch = records if isinstance(records, tuple) else (records,)
        readable = tuple(
            dataclasses.replace(r, headers=[(k, v.decode("utf-8", "replace").encode()) for k, v in r.headers or ()])
            for r in batch
        )
        message = await original(readable if isinstance(records, tuple) else readable[0])
        message.raw_message = records
        return message


@dataclass(slots=True)
class _Item:
    """One record of a batch: its event, or why it cannot be read."""

    source: SourceRecord
    event: Event | None = None
    failure: tuple[str, str] | None = None


class ServiceRuntime:
    """Everything a Palmarès service needs to consume, persist and publish events reliably."""

    def __init__(
        self,
        service: str,
        migrations: list[Migration],
        settings: ServiceSettings | None = None,
    ) -> None:
        self.service = service
        self.schema = service
        self.settings = settings or ServiceSettings()
        setup_logging(service, self.settings.log_level)
        self.tracer_provider = telemetry.setup_tracing(service, self.settings.trace_dir)
        self.tracer = trace.get_tracer(f"palmares.{service}")
        self._migrations = eventkit_migrations() + migrations
        self.broker = KafkaBroker(
            self.settings.kafka_bootstrap_list,
            client_id=f"palmares-{service}",
            middlewares=[
                KafkaTelemetryMiddleware(tracer_provider=self.tracer_provider),
                metrics.broker_middleware(service),
            ],
            # FastStream logs each message at the broker's level: keep that off INFO,
            # and through our JSON handler rather than its own coloured one.
            log_level=logging.DEBUG,
            logger=logging.getLogger("palmares.faststream"),
            graceful_timeout=self.settings.graceful_timeout_s,
            security=kafka_security.broker_security(self.settings),
        )
        self._pool: asyncpg.Pool | None = None
        self._producer: AIOKafkaProducer | None = None
        self._relay: outbox.OutboxRelay | None = None
        self._backgrounds: list[tuple[str, Background]] = []
        self.add_background("consumer-lag", metrics.consumer_lag_loop)
        self._tasks: list[asyncio.Task[None]] = []
        self.started = False
        # Set at shutdown: background loops finish what they are doing and return.
        self.stopping = asyncio.Event()

    # --- wiring -----------------------------------------------------------------

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("runtime not started")
        return self._pool

    @property
    def producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("runtime not started")
        return self._producer

    def subscribe(self, topic: Topic, handler: Handler[Any]) -> None:
        """Consume `topic` in this service's group for it; `handler(tx, event)` runs once per event.

        Records arrive in batches (up to `PALMARES_BATCH_MAX_RECORDS`, in
        partition order): one database transaction applies the whole batch
        and one offset commit follows it. A batch in which a handler fails is
        applied again record by record, so that only the failing record is
        dead-lettered.
        """
        consumer = f"{self.service}.{topic.name}"

        async def raw_bodies(message: StreamMessage[Any]) -> list[bytes]:
            # We decode with the contracts ourselves, to dead-letter what does not decode.
            return [bytes(body) for body in message.body]

        async def on_batch(bodies: list[bytes], message: KafkaMessage) -> None:
            try:
                await self._process_batch(topic, consumer, tuple(message.raw_message), handler)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # A failure outside the handlers (our own code): never let AckPolicy.ACK
                # commit past records that were not dealt with. Rewind and try again.
                log.exception("batch not processed; it will be consumed again", extra={"consumer": consumer})
                await asyncio.sleep(1.0)
                raise NackMessage() from exc

        on_batch.__name__ = f"on_{topic.name.replace('.', '_')}"
        self.broker.subscriber(
            topic.name,
            group_id=consumer,
            ack_policy=AckPolicy.ACK,
            auto_offset_reset="earliest",
            batch=True,
            max_records=self.settings.batch_max_records,
            parser=tolerant_parser,
            decoder=raw_bodies,
            title=f"{consumer}:consume",
            description=f"{self.service} consumes {', '.join(e.__name__ for e in topic.events)}",
        )(on_batch)

    def add_background(self, name: str, loop: Background) -> None:
        """A long-running task started with the service and cancelled at stop (e.g. an email sender)."""
        self._backgrounds.append((name, loop))

    def wake_relay(self) -> None:
        """Publish what was just committed to the outbox without waiting for the next poll."""
        if self._relay is not None:
            self._relay.wake()

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """A transaction on the service's schema whose emitted events go through the outbox."""
        async with self.pool.acquire() as conn, conn.transaction():
            yield Tx(conn, self.schema)

    # --- lifecycle --------------------------------------------------------------

    async def start(self) -> None:
        """Connect, migrate, create topics, start the producer, relay and background tasks."""
        settings = self.settings
        self._pool = await self._connect_db()
        applied = await migrate(self._pool, self.schema, self._migrations)
        if applied:
            log.info("schema migrated", extra={"applied": applied})
        await ensure_topics(
            settings.kafka_bootstrap_servers,
            all_topic_names(),
            partitions=settings.topic_partitions,
            replication_factor=settings.topic_replication_factor,
            min_insync_replicas=settings.topic_min_insync_replicas,
            client_kwargs=kafka_security.client_kwargs(settings),
        )
        self._producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            client_id=f"palmares-{self.service}-relay",
            enable_idempotence=True,
            acks="all",
            linger_ms=2,
            # Room for a dead letter: an oversized record plus its reason headers.
            max_request_size=DLQ_MAX_MESSAGE_BYTES,
            **kafka_security.client_kwargs(settings),
        )
        await self._producer.start()
        self._relay = metrics.MeteredOutboxRelay(self._pool, self._producer, self.schema)
        self._relay.start()
        for name, loop in self._backgrounds:
            self._tasks.append(asyncio.create_task(self._supervise(name, loop), name=name))
        self.started = True
        log.info("service started", extra={"service": self.service})

    async def stop(self) -> None:
        """Stop background work, flush the producer and the spans, close the pool.

        Background tasks are asked to finish their current unit of work
        (`stopping` is set) and get the grace period to do so; then they are
        cancelled.
        """
        self.started = False
        self.stopping.set()
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=self.settings.graceful_timeout_s)
            for task in late:
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._relay is not None:
            await self._relay.stop()
        if self._producer is not None:
            await self._producer.stop()
        if self._pool is not None:
            await self._pool.close()
        self.tracer_provider.force_flush(5_000)
        log.info("service stopped", extra={"service": self.service})

    async def _connect_db(self, timeout_s: float = 60.0) -> asyncpg.Pool:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            try:
                return await create_pool(
                    self.settings.database_url,
                    self.schema,
                    min_size=self.settings.db_pool_min,
                    max_size=self.settings.db_pool_max,
                )
            except UNAVAILABLE as exc:
                if asyncio.get_running_loop().time() > deadline:
                    raise RuntimeError(f"PostgreSQL not reachable: {exc}") from exc
                await asyncio.sleep(0.5)

    async def _supervise(self, name: str, loop: Background) -> None:
        delay = 0.2
        while True:
            try:
                await loop(self)
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                if self.stopping.is_set():
                    return
                log.exception("background task failed; restarting", extra={"task": name})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def ready(self) -> dict[str, bool]:
        """What readiness depends on: database, broker, outbox relay."""
        checks = {"started": self.started, "database": False, "kafka": False, "outbox": False}
        if self._pool is not None:
            try:
                async with asyncio.timeout(2):
                    checks["database"] = await self._pool.fetchval("SELECT true")
            except Exception:
                checks["database"] = False
        with contextlib.suppress(Exception):
            checks["kafka"] = bool(await self.broker.ping(timeout=2))
        checks["outbox"] = bool(self._relay and self._relay.healthy)
        return checks

    # --- consuming --------------------------------------------------------------

    def _read(self, topic: Topic, record: ConsumerRecord[Any, Any]) -> _Item:
        source = SourceRecord(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value,
            headers=tuple(record.headers or ()),
        )
        size = len(record.value or b"")
        if size > self.settings.max_event_bytes:
            return _Item(
                source, failure=("oversized", f"record of {size} bytes > limit of {self.settings.max_event_bytes}")
            )
        headers = {k: v.decode("utf-8", "replace") for k, v in source.headers}
        try:
            return _Item(source, event=decode(topic, record.value, headers))
        except ContractError as exc:
            return _Item(source, failure=(exc.error_type, exc.reason))

    def _record_span(self, topic: Topic, item: _Item) -> Any:
        """The consumer span of one record, in the trace of the event it carries."""
        headers = {k: v.decode("utf-8", "replace") for k, v in item.source.headers}
        attributes: dict[str, Any] = {
            "messaging.system": "kafka",
            "messaging.destination.name": topic.name,
            "messaging.kafka.destination.partition": item.source.partition,
            "messaging.kafka.message.offset": item.source.offset,
        }
        if item.event is not None:
            attributes["messaging.message.id"] = str(item.event.event_id)
            if (submission_id := getattr(item.event, "submission_id", None)) is not None:
                # Lets an operator find every span of a dossier (`palmares trace <id>`).
                attributes["palmares.submission_id"] = str(submission_id)
        return self.tracer.start_as_current_span(
            f"{topic.name} process", context=telemetry.extract(headers), kind=SpanKind.CONSUMER, attributes=attributes
        )

    async def _process_batch(
        self, topic: Topic, consumer: str, records: tuple[ConsumerRecord[Any, Any], ...], handler: Handler[Any]
    ) -> None:
        items = [self._read(topic, record) for record in records]
        readable = [item for item in items if item.event is not None]
        if readable:
            await self._apply_batch(topic, consumer, readable, handler)
        for item in items:
            if item.failure is not None:
                with self._record_span(topic, item):
                    await self._dead_letter(item.source, consumer, *item.failure)

    async def _apply_batch(self, topic: Topic, consumer: str, items: list[_Item], handler: Handler[Any]) -> None:
        """All the batch's events in one transaction; on a handler's failure, one by one instead."""
        delay = self.settings.retry_base_delay_s
        while True:
            try:
                outcomes = []
                async with self.transaction() as tx:
                    # One round trip claims the whole batch (redeliveries are no-ops below).
                    claims = await inbox.claim_many(tx.conn, consumer, [i.event.event_id for i in items if i.event])
                    for item, claimed in zip(items, claims, strict=True):
                        assert item.event is not None
                        with self._record_span(topic, item):
                            if claimed:
                                await handler(tx, item.event)
                                metrics.observe_handled(consumer, item.event)
                                outcomes.append("processed")
                            else:
                                outcomes.append("duplicate")
                for outcome in outcomes:
                    EVENTS_CONSUMED.labels(consumer, outcome).inc()
                self.wake_relay()
                return
            except asyncio.CancelledError:
                raise
            except UNAVAILABLE as exc:
                log.warning("database unavailable; will retry", extra={"consumer": consumer, "error": str(exc)})
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.settings.retry_max_delay_s)
            except Exception:
                if len(items) == 1:
                    await self._apply_one(topic, consumer, items[0], handler)
                    return
                for item in items:  # isolate the failing record(s); the others commit
                    await self._apply_one(topic, consumer, item, handler)
                return

    async def _apply_one(self, topic: Topic, consumer: str, item: _Item, handler: Handler[Any]) -> None:
        """One event in its own transaction, with the retry and dead-letter rules."""
        event = item.event
        assert event is not None
        contention_attempts = 0
        delay = self.settings.retry_base_delay_s
        with self._record_span(topic, item):
            while True:
                try:
                    async with self.transaction() as tx:
                        if await inbox.claim(tx.conn, consumer, event.event_id):
                            await handler(tx, event)
                            metrics.observe_handled(consumer, event)
                            outcome = "processed"
                        else:
                            outcome = "duplicate"
                    EVENTS_CONSUMED.labels(consumer, outcome).inc()
                    self.wake_relay()
                    return
                except asyncio.CancelledError:
                    raise
                except UNAVAILABLE as exc:
                    log.warning("database unavailable; will retry", extra={"consumer": consumer, "error": str(exc)})
                except CONTENTION as exc:
                    contention_attempts += 1
                    if contention_attempts >= self.settings.retry_max_attempts:
                        await self._dead_letter(
                            item.source, consumer, "retries-exhausted", f"{type(exc).__name__}: {exc}"
                        )
                        return
                except Exception as exc:
                    log.exception("handler failed", extra={"consumer": consumer})
                    await self._dead_letter(
                        item.source, consumer, f"handler:{type(exc).__name__}", str(exc) or repr(exc)
                    )
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.settings.retry_max_delay_s)

    async def _dead_letter(self, source: SourceRecord, consumer: str, error_type: str, error: str) -> None:
        EVENTS_CONSUMED.labels(consumer, "dead-lettered").inc()
        trace.get_current_span().set_attribute("palmares.dead_letter", error_type)
        await dead_letter(self.producer, source, consumer=consumer, error_type=error_type, error=error)

    # --- running as a worker ------------------------------------------------------

    def asgi_app(self) -> AsgiFastStream:
        """The worker process: FastStream app with `/health`, `/ready` and `/metrics`."""
        runtime = self

        @get(include_in_schema=False)
        async def health(scope: Any) -> AsgiResponse:
            return AsgiResponse(b'{"status":"ok"}', status_code=200, headers={"content-type": "application/json"})

        @get(include_in_schema=False)
        async def ready(scope: Any) -> AsgiResponse:
            checks = await runtime.ready()
            body = json.dumps({"ready": all(checks.values()), "checks": checks}).encode()
            return AsgiResponse(
                body, status_code=200 if all(checks.values()) else 503, headers={"content-type": "application/json"}
            )

        return AsgiFastStream(
            self.broker,
            asgi_routes=[("/health", health), ("/ready", ready), ("/metrics", make_asgi_app())],
            logger=logging.getLogger("palmares.faststream"),
            on_startup=[self.start],
            after_shutdown=[self.stop],
        )


def run_worker(app: AsgiFastStream, settings: ServiceSettings, port_file: str | None = None) -> None:
    """Serve a worker app with uvicorn on the configured host and port (0 = a free port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.http_host, settings.http_port))
    if port_file:
        Path(port_file).write_text(str(sock.getsockname()[1]))
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=int(settings.graceful_timeout_s),
    )
    uvicorn.Server(config).run(sockets=[sock])

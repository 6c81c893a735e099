"""The composition root every service builds on: what starts and stops with it.

A service creates one `ServiceRuntime` with its migrations and subscriptions,
and runs it either as a worker (`asgi_app`, served by `worker.run_worker`) or
from its own ASGI lifespan (`start` / `stop`, for the HTTP submission
service). `start` connects to PostgreSQL, migrates the schema, creates the
topics, starts the producer, the outbox relay and the background tasks; the
delivery rules of each subscription are the `Consumer`'s.

Nothing here touches the process's logging or tracing set-up: the service's
entrypoint calls `bootstrap` first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, TypeVar

import asyncpg
from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from opentelemetry import trace
from palmares_contracts import ALL_TOPICS, Event, Topic
from palmares_eventkit import kafka_security, lag, metrics, outbox
from palmares_eventkit.cluster import Cluster, KafkaCluster
from palmares_eventkit.consumer import UNAVAILABLE, Consumer
from palmares_eventkit.db import Migration, create_pool, eventkit_migrations, migrate
from palmares_eventkit.deadletter import SourceRecord, dead_letter
from palmares_eventkit.producer import Producer
from palmares_eventkit.published import Observer, PublishedEvents
from palmares_eventkit.settings import ServiceSettings
from palmares_eventkit.subscriber import bind
from palmares_eventkit.subscription import Handler, Prepare, Subscription
from palmares_eventkit.tx import Tx
from palmares_eventkit.worker import worker_app

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)

Background = Callable[["ServiceRuntime"], Awaitable[None]]


class ServiceRuntime:
    """Everything a Palmarès service needs to consume, persist and publish events reliably."""

    def __init__(
        self,
        service: str,
        migrations: list[Migration],
        settings: ServiceSettings | None = None,
        *,
        subscriptions: Iterable[Subscription[Any]] = (),
        cluster: Cluster | None = None,
    ) -> None:
        self.service = service
        self.schema = service
        self.settings = settings or ServiceSettings()
        self.tracer = trace.get_tracer(f"palmares.{service}")
        self._migrations = eventkit_migrations() + migrations
        self.broker = KafkaBroker(
            self.settings.kafka_bootstrap_list,
            client_id=f"palmares-{service}",
            middlewares=[
                # The process's tracer provider (set by `bootstrap`), looked up when spans start.
                KafkaTelemetryMiddleware(),
                metrics.broker_middleware(service),
            ],
            # FastStream logs each message at the broker's level: keep that off INFO,
            # and through our JSON handler rather than its own coloured one.
            log_level=logging.DEBUG,
            logger=logging.getLogger("palmares.faststream"),
            graceful_timeout=self.settings.graceful_timeout_s,
            security=kafka_security.broker_security(self.settings),
        )
        self._cluster = cluster if cluster is not None else KafkaCluster(self.settings)
        self._published = PublishedEvents()
        self._topics: dict[str, Topic[Any]] = {t.name: t for t in ALL_TOPICS}
        self._pool: asyncpg.Pool | None = None
        self._producer: Producer | None = None
        self._relay: outbox.OutboxRelay | None = None
        self._subscriptions: list[Subscription[Any]] = []
        self._backgrounds: list[tuple[str, Background]] = []
        self.add_background("consumer-lag", ServiceRuntime._watch_lag)
        self._tasks: list[asyncio.Task[None]] = []
        self.started = False
        # Set at shutdown: background loops finish what they are doing and return.
        self.stopping = asyncio.Event()
        for subscription in subscriptions:
            self.subscribe(subscription.topic, subscription.handler, prepare=subscription.prepare)

    # --- wiring -----------------------------------------------------------------

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("runtime not started")
        return self._pool

    @property
    def producer(self) -> Producer:
        if self._producer is None:
            raise RuntimeError("runtime not started")
        return self._producer

    @property
    def tracer_provider(self) -> trace.TracerProvider:
        """The process's tracer provider (for instrumentations that take one, e.g. FastAPI's)."""
        return trace.get_tracer_provider()

    def subscribe(self, topic: Topic[E], handler: Handler[E], *, prepare: Prepare[E] | None = None) -> None:
        """Consume `topic` in this service's group for it; `handler(tx, event)` runs once per event.

        `prepare(tx, events)`, if given, runs first with each batch's new events (see `Subscription`).
        The delivery rules (batches, inbox, retries, dead letters) are `Consumer`'s.
        """
        subscription = Subscription(topic, handler, prepare)
        consumer = Consumer(
            f"{self.service}.{topic.name}",
            subscription,
            # A batch's outbox rows and status-view writes go in one statement each.
            transaction=lambda: self.transaction(deferred=True),
            dead_letter=self._dead_letter,
            settings=self.settings,
            tracer=self.tracer,
            committed=self.wake_relay,
        )
        self._subscriptions.append(subscription)
        self._topics.setdefault(topic.name, topic)
        bind(self.broker, consumer, settings=self.settings, service=self.service)

    @property
    def subscriptions(self) -> tuple[Subscription[Any], ...]:
        """What this runtime consumes, in the order subscribed (each topic in the group `<service>.<topic>`)."""
        return tuple(self._subscriptions)

    def on_published(self, event_class: type[E], observer: Observer[E]) -> None:
        """Call `observer(event)` for each `event_class` event this service published, once Kafka acked it.

        Where a service counts its business facts: a rolled-back transaction counts nothing.
        """
        self._published.observe(event_class, observer)

    def add_background(self, name: str, loop: Background) -> None:
        """A long-running task started with the service and cancelled at stop (e.g. an email sender)."""
        self._backgrounds.append((name, loop))

    def wake_relay(self) -> None:
        """Publish what was just committed to the outbox without waiting for the next poll."""
        if self._relay is not None:
            self._relay.wake()

    @contextlib.asynccontextmanager
    async def transaction(self, *, deferred: bool = False) -> AsyncIterator[Tx]:
        """A transaction on the service's schema whose emitted events go through the outbox.

        `deferred`: its outbox rows and `Tx.write`s are sent together just before the commit.
        The `Tx.after_commit` callbacks run once it has committed.
        """
        async with self.pool.acquire() as conn:
            async with conn.transaction():
                tx = Tx(conn, self.schema, deferred)
                yield tx
                await tx.flush()
            tx.committed()

    async def _dead_letter(self, source: SourceRecord, consumer: str, error_type: str, error: str) -> None:
        await dead_letter(self.producer, source, consumer=consumer, error_type=error_type, error=error)

    # --- lifecycle --------------------------------------------------------------

    async def start(self) -> None:
        """Connect, migrate, create topics, start the producer, relay and background tasks."""
        self._pool = await self._connect_db()
        applied = await migrate(self._pool, self.schema, self._migrations)
        if applied:
            log.info("schema migrated", extra={"applied": applied})
        await self._cluster.ensure_topics([name for t in self._topics.values() for name in (t.name, t.dlq)])
        self._producer = self._cluster.producer(f"palmares-{self.service}-relay")
        await self._producer.start()
        self._relay = outbox.OutboxRelay(
            self._pool,
            self._producer,
            self.schema,
            published=self._published,
            idle_session_timeout_s=self.settings.db_idle_in_transaction_timeout_s,
        )
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
        provider = trace.get_tracer_provider()
        flush = getattr(provider, "force_flush", None)
        if flush is not None:  # the SDK's provider (set by `bootstrap`); the API's default has nothing to flush
            flush(5_000)
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
                    idle_in_transaction_timeout_s=self.settings.db_idle_in_transaction_timeout_s,
                )
            except UNAVAILABLE as exc:
                if asyncio.get_running_loop().time() > deadline:
                    raise RuntimeError(f"PostgreSQL not reachable: {exc}") from exc
                await asyncio.sleep(0.5)

    async def _watch_lag(self) -> None:
        await self._cluster.watch_lag(lag.consumer_groups(self.broker), self.stopping)

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
                    checks["database"] = bool(await self._pool.fetchval("SELECT true"))
            except Exception:
                checks["database"] = False
        with contextlib.suppress(Exception):
            checks["kafka"] = bool(await self.broker.ping(timeout=2))
        checks["outbox"] = bool(self._relay and self._relay.healthy)
        return checks

    def asgi_app(self) -> AsgiFastStream:
        """The worker process: the broker with `/health`, `/ready` and `/metrics`, the runtime started with it."""
        return worker_app(self.broker, self.ready, on_startup=[self.start], after_shutdown=[self.stop])

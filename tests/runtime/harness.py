"""Two ways to run the runtime in the test process: on FastStream's test broker, or on the real Kafka.

Both start a `ServiceRuntime` on its own PostgreSQL schema (real, one per
test) with the subscriptions under test, feed it records, and read what it
sent. The delivery rules (`rules.py`) are written once against `Harness`.

What each run can assert: `TestKafkaBroker` hands a batch to the subscriber
in process and returns when it is dealt with, but its consumer's commit and
seek do nothing; offsets and commits are asserted by the real-Kafka run only
(`settled` waits for the group's committed offsets there).
"""

from __future__ import annotations

import abc
import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord
from faststream.kafka import TestKafkaBroker
from palmares_contracts import Event, Topic, encode, topic_of
from palmares_eventkit.cluster import Cluster, KafkaCluster
from palmares_eventkit.db import Migration
from palmares_eventkit.lag import partitions_of
from palmares_eventkit.producer import Headers, Producer
from palmares_eventkit.runtime import ServiceRuntime, Subscription
from palmares_eventkit.settings import ServiceSettings

from tests.runtime.memory import Faults, MemoryCluster, Sent


@dataclass(frozen=True, slots=True)
class Raw:
    """A record to feed: bytes as a producer would send them."""

    value: bytes | None
    key: bytes | None = None
    headers: tuple[tuple[str, bytes], ...] = ()

    @classmethod
    def of(cls, event: Event) -> Raw:
        """An event as its producer sends it: encoded, keyed by its aggregate, with its headers."""
        value, headers = encode(event)
        return cls(value, topic_of(event).key_of(event), tuple((k, v.encode()) for k, v in headers.items()))


async def eventually(check: Callable[[], Awaitable[bool]], within_s: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + within_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within_s} s: {what}")
        await asyncio.sleep(0.05)


def settings_for(database_url: str, kafka_bootstrap: str = "127.0.0.1:9") -> ServiceSettings:
    """Quick retries; small pool; everything else as in production."""
    return ServiceSettings(
        DATABASE_URL=database_url,
        KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
        PALMARES_RETRY_BASE_DELAY_S=0.01,
        PALMARES_RETRY_MAX_DELAY_S=0.05,
        PALMARES_RETRY_MAX_ATTEMPTS=3,
        PALMARES_DB_POOL_MAX=4,
        PALMARES_TOPIC_PARTITIONS=1,
    )


class FlakyProducer:
    """A producer failing the sends that `faults` asks it to fail, then sending through `inner`."""

    def __init__(self, inner: Producer, faults: Faults) -> None:
        self._inner = inner
        self._faults = faults

    async def start(self) -> None:
        await self._inner.start()

    async def stop(self) -> None:
        await self._inner.stop()

    async def send(
        self, topic: str, value: bytes | None = None, key: bytes | None = None, headers: Headers | None = None
    ) -> asyncio.Future[Any]:
        self._faults.check()
        return await self._inner.send(topic, value=value, key=key, headers=headers)

    async def send_and_wait(
        self, topic: str, value: bytes | None = None, key: bytes | None = None, headers: Headers | None = None
    ) -> Any:
        return await (await self.send(topic, value, key, headers))


class Harness(abc.ABC):
    """A runtime under test, the records fed to it and the records it sent."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.service = f"rt_{uuid.uuid4().hex[:10]}"
        self.faults = Faults()
        self.runtime: ServiceRuntime | None = None

    def topic(self, like: Topic[Any]) -> Topic[Any]:
        """A topic of this test only, carrying the events of `like` (topics are shared by the whole session)."""
        return Topic(f"{self.service}.{like.name}", like.key, like.events, like.aggregate_id)

    @abc.abstractmethod
    def cluster(self, settings: ServiceSettings) -> Cluster: ...

    @abc.abstractmethod
    def settings(self) -> ServiceSettings: ...

    async def start(self, subscriptions: Sequence[Subscription[Any]], migrations: list[Migration]) -> ServiceRuntime:
        """A runtime of the test's own, on its own schema."""
        return await self.run(
            lambda settings, cluster: ServiceRuntime(
                self.service, migrations, settings, subscriptions=subscriptions, cluster=cluster
            )
        )

    async def run(self, build: Callable[[ServiceSettings, Cluster], ServiceRuntime]) -> ServiceRuntime:
        """Start the runtime `build(settings, cluster)` returns (a service's own `create_runtime`)."""
        settings = self.settings()
        self.runtime = build(settings, self.cluster(settings))
        await self.runtime.start()
        await self._start_broker(self.runtime)
        return self.runtime

    async def stop(self) -> None:
        if self.runtime is None:
            return
        await self._stop_broker(self.runtime)
        await self.runtime.stop()
        conn = await asyncpg.connect(self.database_url)
        try:
            await conn.execute(f"DROP SCHEMA IF EXISTS {self.runtime.schema} CASCADE")
        finally:
            await conn.close()

    @abc.abstractmethod
    async def _start_broker(self, runtime: ServiceRuntime) -> None: ...

    @abc.abstractmethod
    async def _stop_broker(self, runtime: ServiceRuntime) -> None: ...

    @abc.abstractmethod
    async def feed(self, topic: Topic[Any], records: Sequence[Raw]) -> list[int]:
        """Hand `records` to the runtime's consumer of `topic` (one batch where the transport allows); their offsets."""

    @abc.abstractmethod
    async def settled(self, topic: Topic[Any], offsets: Sequence[int]) -> None:
        """Return once the runtime is done with the records at `offsets` (committed them, on Kafka)."""

    @abc.abstractmethod
    async def mark(self, topic: str) -> Any:
        """Where `topic` ends now: `sent(topic, after=mark)` reads only what comes later."""

    @abc.abstractmethod
    async def sent(self, topic: str, *, after: Any = None) -> list[Sent]:
        """The records on `topic` (after `mark`), in order."""

    async def feed_events(self, *events: Event) -> None:
        """Hand each event to the runtime's consumer of its topic, as its producer sends it, one at a time."""
        for event in events:
            await self.feed(topic_of(event), [Raw.of(event)])

    async def sent_until(
        self, topic: str, enough: Callable[[list[Sent]], bool], *, after: Any = None, within_s: float = 30.0
    ) -> list[Sent]:
        found: list[Sent] = []

        async def check() -> bool:
            nonlocal found
            found = await self.sent(topic, after=after)
            return enough(found)

        await eventually(check, within_s, f"records on {topic}")
        return found


class InMemory(Harness):
    """FastStream's `TestKafkaBroker` for consuming, a `MemoryCluster` for sending."""

    def __init__(self, database_url: str) -> None:
        super().__init__(database_url)
        self.memory = MemoryCluster()
        self.memory.faults = self.faults
        self._test_broker: TestKafkaBroker | None = None

    def settings(self) -> ServiceSettings:
        return settings_for(self.database_url)

    def cluster(self, settings: ServiceSettings) -> Cluster:
        return self.memory

    async def _start_broker(self, runtime: ServiceRuntime) -> None:
        self._test_broker = TestKafkaBroker(runtime.broker)
        await self._test_broker.__aenter__()

    async def _stop_broker(self, runtime: ServiceRuntime) -> None:
        if self._test_broker is not None:
            await self._test_broker.__aexit__(None, None, None)

    async def feed(self, topic: Topic[Any], records: Sequence[Raw]) -> list[int]:
        assert self.runtime is not None
        subscriber = next(s for s in self.runtime.broker.subscribers if topic.name in s.topic_names)
        first = len(self.memory.log.topics.get(topic.name, []))
        batch = []
        for i, raw in enumerate(records):
            self.memory.log.append(topic.name, raw.key, raw.value, raw.headers)
            batch.append(
                ConsumerRecord(
                    topic=topic.name,
                    partition=0,
                    offset=first + i,
                    timestamp=int(time.time() * 1000),
                    timestamp_type=0,
                    key=raw.key,
                    value=raw.value,
                    checksum=None,
                    serialized_key_size=len(raw.key or b""),
                    serialized_value_size=len(raw.value or b""),
                    headers=list(raw.headers),
                )
            )
        # What the test broker does with a batch it publishes, with our offsets and raw headers.
        await subscriber.process_message(batch)
        return [first + i for i in range(len(records))]

    async def settled(self, topic: Topic[Any], offsets: Sequence[int]) -> None:
        return None  # `feed` returned: the batch was dealt with (the test broker commits nothing)

    async def mark(self, topic: str) -> int:
        return len(self.memory.log.topics.get(topic, []))

    async def sent(self, topic: str, *, after: Any = None) -> list[Sent]:
        return list(self.memory.log.topics.get(topic, [])[after or 0 :])


class _FaultyKafka:
    """The real Kafka cluster, its producers failing on demand."""

    def __init__(self, inner: KafkaCluster, faults: Faults) -> None:
        self._inner = inner
        self._faults = faults

    async def ensure_topics(self, names: Sequence[str]) -> None:
        await self._inner.ensure_topics(names)

    def producer(self, client_id: str) -> Producer:
        return FlakyProducer(self._inner.producer(client_id), self._faults)

    async def watch_lag(self, groups: Mapping[str, Sequence[str]], stopping: asyncio.Event) -> None:
        await self._inner.watch_lag(groups, stopping)


class OnKafka(Harness):
    """The runtime's own FastStream broker and producer on the session's Kafka."""

    def __init__(self, database_url: str, bootstrap: str) -> None:
        super().__init__(database_url)
        self.bootstrap = bootstrap

    def settings(self) -> ServiceSettings:
        return settings_for(self.database_url, self.bootstrap)

    def cluster(self, settings: ServiceSettings) -> Cluster:
        return _FaultyKafka(KafkaCluster(settings), self.faults)

    async def _start_broker(self, runtime: ServiceRuntime) -> None:
        await runtime.broker.start()

    async def _stop_broker(self, runtime: ServiceRuntime) -> None:
        await runtime.broker.stop()

    async def feed(self, topic: Topic[Any], records: Sequence[Raw]) -> list[int]:
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, linger_ms=50)
        await producer.start()
        try:
            # Sent together: the consumer usually gets them as one batch.
            futures = [
                await producer.send(topic.name, value=r.value, key=r.key, headers=list(r.headers), partition=0)
                for r in records
            ]
            return [(await f).offset for f in futures]
        finally:
            await producer.stop()

    async def settled(self, topic: Topic[Any], offsets: Sequence[int]) -> None:
        group = f"{self.service}.{topic.name}"
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:

            async def committed() -> bool:
                offsets_now = await admin.list_consumer_group_offsets(group)
                position = offsets_now.get(TopicPartition(topic.name, 0))
                return position is not None and position.offset > max(offsets)

            await eventually(committed, 30, f"{group} committed past offset {max(offsets)}")
        finally:
            await admin.close()

    async def _partitions(self, topic: str) -> list[TopicPartition]:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            found = partitions_of(await admin.describe_topics([topic]))
        finally:
            await admin.close()
        return [TopicPartition(topic, p) for p in found.get(topic, [])]

    async def mark(self, topic: str) -> dict[TopicPartition, int]:
        partitions = await self._partitions(topic)
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap)
        await consumer.start()
        try:
            ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
            return ends
        finally:
            await consumer.stop()

    async def sent(self, topic: str, *, after: Any = None) -> list[Sent]:
        partitions = await self._partitions(topic)
        assert partitions, f"no topic {topic}"
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            consumer.assign(partitions)
            ends = await consumer.end_offsets(partitions)
            found: list[Sent] = []
            for tp in partitions:
                start = (after or {}).get(tp, 0)
                if ends[tp] <= start:
                    continue
                consumer.seek(tp, start)
                while (await consumer.position(tp)) < ends[tp]:
                    batch = await consumer.getmany(tp, timeout_ms=1000)
                    for record in batch.get(tp, []):
                        if record.offset < ends[tp]:
                            found.append(
                                Sent(
                                    record.topic,
                                    record.partition,
                                    record.offset,
                                    record.key,
                                    record.value,
                                    tuple(record.headers or ()),
                                )
                            )
            return found
        finally:
            await consumer.stop()

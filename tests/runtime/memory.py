"""An in-memory Kafka for the runtime: the log its producer writes, topics that need no creating, no lag to measure.

The runtime's consumers run on FastStream's `TestKafkaBroker` (records are
handed to the subscriber in process); what the runtime *sends* (outbox relay,
dead letters) goes through its `Cluster`, which the runtime takes as an
argument: this one appends to per-topic lists, with offsets, and fails on
demand like a broker that stops answering.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka.errors import KafkaConnectionError
from palmares_eventkit.deadletter import SourceRecord

Headers = Sequence[tuple[str, bytes]]


# A record as the broker holds it: the same fields as the source of a dead letter.
Sent = SourceRecord


def header(record: Sent, name: str) -> str | None:
    """The value of a record's header, as text."""
    return next((v.decode() for k, v in record.headers if k == name), None)


@dataclass
class Faults:
    """Sends to fail, as a broker that does not answer would (shared by every producer of a test)."""

    failing_sends: int = 0
    failed: int = 0

    def check(self) -> None:
        if self.failing_sends > 0:
            self.failing_sends -= 1
            self.failed += 1
            raise KafkaConnectionError("injected: broker not reachable")


@dataclass
class MemoryLog:
    """Every record sent, by topic, in order (one partition per topic)."""

    topics: dict[str, list[Sent]] = field(default_factory=dict)

    def append(self, topic: str, key: bytes | None, value: bytes | None, headers: Headers | None) -> Sent:
        records = self.topics.setdefault(topic, [])
        record = Sent(topic, 0, len(records), key, value, tuple(headers or ()))
        records.append(record)
        return record


class MemoryProducer:
    """The `Producer` the runtime sends with, writing to a `MemoryLog`."""

    def __init__(self, log: MemoryLog, faults: Faults) -> None:
        self._log = log
        self._faults = faults

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(
        self, topic: str, value: bytes | None = None, key: bytes | None = None, headers: Headers | None = None
    ) -> asyncio.Future[Any]:
        self._faults.check()
        acked: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        acked.set_result(self._log.append(topic, key, value, headers))
        return acked

    async def send_and_wait(
        self, topic: str, value: bytes | None = None, key: bytes | None = None, headers: Headers | None = None
    ) -> Any:
        return await (await self.send(topic, value, key, headers))


class MemoryCluster:
    """The runtime's `Cluster` in memory."""

    def __init__(self) -> None:
        self.log = MemoryLog()
        self.faults = Faults()
        self.topics: set[str] = set()

    async def ensure_topics(self, names: Sequence[str]) -> None:
        self.topics.update(names)

    def producer(self, client_id: str) -> MemoryProducer:
        return MemoryProducer(self.log, self.faults)

    async def watch_lag(self, groups: Mapping[str, Sequence[str]], stopping: asyncio.Event) -> None:
        return None

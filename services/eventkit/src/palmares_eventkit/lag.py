"""Consumer lag of a service's groups, measured by a background task.

`palmares_consumer_lag{group,topic,partition}` (end offset − committed offset),
`palmares_consumer_committed_offset` and `palmares_consumer_end_offset`,
refreshed every `PALMARES_LAG_INTERVAL_S` seconds (default 5). Offsets come
from Kafka's public APIs only: the admin client (partitions, committed offsets
of each group) and a group-less consumer (end offsets).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka import KafkaBroker
from palmares_eventkit import kafka_security
from palmares_eventkit.settings import ServiceSettings
from prometheus_client import Gauge

log = logging.getLogger(__name__)

LAG_INTERVAL_ENV = "PALMARES_LAG_INTERVAL_S"
DEFAULT_LAG_INTERVAL_S = 5.0

CONSUMER_LAG = Gauge(
    "palmares_consumer_lag",
    "Records not yet committed by the consumer group: end offset minus committed offset",
    ["group", "topic", "partition"],
)
COMMITTED_OFFSET = Gauge(
    "palmares_consumer_committed_offset", "Last committed offset of the group", ["group", "topic", "partition"]
)
END_OFFSET = Gauge("palmares_consumer_end_offset", "End offset (next offset written)", ["group", "topic", "partition"])
LAG_LAST_SUCCESS = Gauge("palmares_consumer_lag_last_success_seconds", "Unix time of the last lag measurement")


@dataclass(frozen=True, slots=True)
class PartitionLag:
    """One partition of one consumer group."""

    group: str
    topic: str
    partition: int
    committed: int | None
    end: int

    @property
    def lag(self) -> int:
        # Never committed: everything from the start of the log is behind (a new group reads from `earliest`).
        return max(0, self.end - (self.committed if self.committed is not None else 0))


def consumer_groups(broker: KafkaBroker) -> dict[str, list[str]]:
    """`group_id -> topics` of a FastStream broker's subscribers (those with a group)."""
    groups: dict[str, list[str]] = {}
    for subscriber in broker.subscribers:
        group = getattr(subscriber, "group_id", None)
        if group:
            groups.setdefault(group, []).extend(getattr(subscriber, "topic_names", ()))
    return groups


def compute_lag(
    groups: Mapping[str, Sequence[str]],
    partitions: Mapping[str, Sequence[int]],
    committed: Mapping[str, Mapping[TopicPartition, int]],
    ends: Mapping[TopicPartition, int],
) -> list[PartitionLag]:
    """Lag of every (group, partition) of the topics each group reads (pure: tested without Kafka)."""
    found = []
    for group, topics in groups.items():
        offsets = committed.get(group, {})
        for topic in topics:
            for partition in partitions.get(topic, ()):
                tp = TopicPartition(topic, partition)
                if tp not in ends:
                    continue
                position = offsets.get(tp)
                found.append(
                    PartitionLag(
                        group, topic, partition, position if position is not None and position >= 0 else None, ends[tp]
                    )
                )
    return found


def publish_lag(lags: Iterable[PartitionLag]) -> None:
    for item in lags:
        labels = (item.group, item.topic, str(item.partition))
        CONSUMER_LAG.labels(*labels).set(item.lag)
        END_OFFSET.labels(*labels).set(item.end)
        COMMITTED_OFFSET.labels(*labels).set(item.committed if item.committed is not None else -1)


def partitions_of(described: Iterable[Mapping[str, Any]]) -> dict[str, list[int]]:
    """`topic -> partitions` from the admin client's `describe_topics` (topics in error left out)."""
    return {
        t["topic"]: sorted(p["partition"] for p in t["partitions"])
        for t in described
        if t["error_code"] == 0 and t["partitions"]
    }


class LagProbe:
    """Reads committed and end offsets of a set of consumer groups (an admin client and a group-less consumer)."""

    def __init__(self, bootstrap_servers: str, client_kwargs: Mapping[str, Any] | None = None) -> None:
        kwargs = dict(client_kwargs or {})
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="palmares-lag", **kwargs)
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers, client_id="palmares-lag", enable_auto_commit=False, **kwargs
        )

    async def start(self) -> None:
        await self._admin.start()
        await self._consumer.start()

    async def stop(self) -> None:
        try:
            await self._consumer.stop()
        finally:
            await self._admin.close()

    async def measure(self, groups: Mapping[str, Sequence[str]]) -> list[PartitionLag]:
        topics = sorted({t for ts in groups.values() for t in ts})
        partitions = partitions_of(await self._admin.describe_topics(topics)) if topics else {}
        every = [TopicPartition(t, p) for t, ps in partitions.items() for p in ps]
        ends: dict[TopicPartition, int] = await self._consumer.end_offsets(every) if every else {}
        committed: dict[str, dict[TopicPartition, int]] = {}
        for group in groups:
            offsets = await self._admin.list_consumer_group_offsets(group)
            committed[group] = {tp: meta.offset for tp, meta in offsets.items()}
        return compute_lag(groups, partitions, committed, ends)


def lag_interval_s() -> float:
    try:
        value = float(os.environ.get(LAG_INTERVAL_ENV, DEFAULT_LAG_INTERVAL_S))
    except ValueError:
        return DEFAULT_LAG_INTERVAL_S
    return value if value > 0 else DEFAULT_LAG_INTERVAL_S


async def consumer_lag_loop(
    groups: Mapping[str, Sequence[str]], settings: ServiceSettings, stopping: asyncio.Event
) -> None:
    """Measure the lag of `groups` every `PALMARES_LAG_INTERVAL_S` seconds, until `stopping`."""
    if not groups:
        return
    interval = lag_interval_s()
    probe = LagProbe(settings.kafka_bootstrap_servers, kafka_security.client_kwargs(settings))
    await probe.start()
    try:
        while not stopping.is_set():
            try:
                publish_lag(await probe.measure(groups))
                LAG_LAST_SUCCESS.set(time.time())
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("consumer lag not measured", extra={"error": str(exc)})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), interval)
    finally:
        await probe.stop()

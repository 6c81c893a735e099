"""What the runtime asks of Kafka besides consuming (FastStream's broker consumes).

Topics created at start-up, the producer of the outbox relay and the dead
letters, and the measure of the consumer lag. `ServiceRuntime` takes a
`Cluster` as an argument: `KafkaCluster` in a service, another one in tests
that run the runtime in process without a broker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Protocol

from palmares_eventkit import kafka_security, lag
from palmares_eventkit.producer import Producer, kafka_producer
from palmares_eventkit.settings import ServiceSettings
from palmares_eventkit.topics_admin import ensure_topics


class Cluster(Protocol):
    async def ensure_topics(self, names: Sequence[str]) -> None:
        """Create the topics (and their partitions) that do not exist yet."""

    def producer(self, client_id: str) -> Producer:
        """A producer, not started."""

    async def watch_lag(self, groups: Mapping[str, Sequence[str]], stopping: asyncio.Event) -> None:
        """Measure the lag of `groups` (`group -> topics`) until `stopping` is set."""


class KafkaCluster:
    """The Kafka cluster of `KAFKA_BOOTSTRAP_SERVERS`, with the service's transport security."""

    def __init__(self, settings: ServiceSettings) -> None:
        self._settings = settings

    async def ensure_topics(self, names: Sequence[str]) -> None:
        settings = self._settings
        await ensure_topics(
            settings.kafka_bootstrap_servers,
            names,
            partitions=settings.topic_partitions,
            replication_factor=settings.topic_replication_factor,
            min_insync_replicas=settings.topic_min_insync_replicas,
            client_kwargs=kafka_security.client_kwargs(settings),
        )

    def producer(self, client_id: str) -> Producer:
        return kafka_producer(self._settings, client_id)

    async def watch_lag(self, groups: Mapping[str, Sequence[str]], stopping: asyncio.Event) -> None:
        await lag.consumer_lag_loop(groups, self._settings, stopping)

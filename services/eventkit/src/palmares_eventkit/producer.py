"""The Kafka producer of a service: what the outbox relay and the dead letters are sent with.

`Producer` is the part of aiokafka's producer the runtime uses, so that the
in-process tests can hand the runtime a producer of their own (a broker that
fails on demand, an in-memory log) by passing it, not by patching.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from palmares_eventkit import kafka_security
from palmares_eventkit.settings import ServiceSettings
from palmares_eventkit.topics_admin import DLQ_MAX_MESSAGE_BYTES

Headers = Sequence[tuple[str, bytes]]


class Producer(Protocol):
    """Sends records to Kafka; `send` returns once the record is queued, its result once Kafka acked it."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(
        self, topic: str, value: bytes | None = None, key: bytes | None = None, headers: Headers | None = None
    ) -> asyncio.Future[Any]: ...

    async def send_and_wait(
        self, topic: str, value: bytes | None = None, key: bytes | None = None, headers: Headers | None = None
    ) -> Any: ...


def kafka_producer(settings: ServiceSettings, client_id: str) -> Producer:
    """The idempotent producer of a service (`acks=all`): per-key order kept, no duplicate on retry."""
    producer: Producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=2,
        # Room for a dead letter: an oversized record plus its reason headers.
        max_request_size=DLQ_MAX_MESSAGE_BYTES,
        **kafka_security.client_kwargs(settings),
    )
    return producer

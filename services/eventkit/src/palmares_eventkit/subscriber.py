"""A `Consumer` bound to FastStream's Kafka broker: batches, at-least-once acknowledgement.

The subscriber has the consumer's group id and `AckPolicy.ACK`: the offsets
of a batch are committed after `Consumer.process` returned, never before
(FastStream's Kafka default, `ACK_FIRST`, would be at most once).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from faststream import AckPolicy
from faststream.exceptions import NackMessage
from faststream.kafka import KafkaBroker
from faststream.message import StreamMessage
from palmares_contracts import Topic
from palmares_eventkit.consumer import Consumer
from palmares_eventkit.settings import ServiceSettings

log = logging.getLogger(__name__)


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


async def _records(message: StreamMessage[Any]) -> tuple[Any, ...]:
    # The batch's records themselves: the consumer decodes them with the contracts (and
    # dead-letters what does not decode). Handed as the body, not asked for as a
    # `KafkaMessage` parameter: FastStream resolves that one (a context field) in a worker
    # thread, a thread hop per batch.
    raw = message.raw_message
    return tuple(raw) if isinstance(raw, tuple | list) else (raw,)


def fetch_policy(topic: Topic[Any], settings: ServiceSettings) -> tuple[int, int]:
    """(fetch_min_bytes, fetch_max_wait_ms) of a consumer of `topic`.

    A topic keyed by collectivité carries an event per dossier (thousands per
    campaign, in bursts): its fetches wait for a batch (`PALMARES_FETCH_MIN_BYTES`,
    at most `PALMARES_FETCH_MAX_WAIT_MS`). A topic keyed by edition carries a few
    events a year: its fetches return at the first byte and long-poll 500 ms
    (aiokafka's defaults), so that idle consumers cost the broker little.
    """
    if topic.key == "edition":
        return 1, 500
    return settings.fetch_min_bytes, settings.fetch_max_wait_ms


def bind(broker: KafkaBroker, consumer: Consumer[Any], *, settings: ServiceSettings, service: str) -> None:
    """Subscribe `consumer` to its topic on `broker`, in its own consumer group (named after it)."""

    async def on_batch(records: Any) -> None:
        try:
            await consumer.process(records)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # A failure outside the handlers (our own code): never let AckPolicy.ACK
            # commit past records that were not dealt with. Rewind and try again.
            log.exception("batch not processed; it will be consumed again", extra={"consumer": consumer.name})
            await asyncio.sleep(1.0)
            raise NackMessage() from exc

    topic = consumer.topic
    min_bytes, max_wait_ms = fetch_policy(topic, settings)
    on_batch.__name__ = f"on_{topic.name.replace('.', '_')}"
    broker.subscriber(
        topic.name,
        group_id=consumer.name,
        ack_policy=AckPolicy.ACK,
        auto_offset_reset="earliest",
        batch=True,
        max_records=settings.batch_max_records,
        fetch_min_bytes=min_bytes,
        fetch_max_wait_ms=max_wait_ms,
        parser=tolerant_parser,
        decoder=_records,
        title=f"{consumer.name}:consume",
        description=f"{service} consumes {', '.join(e.__name__ for e in topic.events)}",
    )(on_batch)

"""Dead letters: a record that cannot be processed goes to `<topic>.dlq`, never silently away.

The original key, value and headers are kept byte for byte; the reason is added
as headers (docs/delivery.md): `x-error`, `x-error-type`, `x-source-topic`,
`x-source-partition`, `x-source-offset`, `x-consumer`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from palmares_contracts.deadletters import (
    CONSUMER,
    ERROR,
    ERROR_TYPE,
    REASON_HEADERS,
    SOURCE_OFFSET,
    SOURCE_PARTITION,
    SOURCE_TOPIC,
)
from palmares_contracts.topics import DLQ_SUFFIX
from prometheus_client import Counter

log = logging.getLogger(__name__)

DEAD_LETTERS = Counter(
    "palmares_dead_letters_total", "Records set aside on a dead-letter topic", ["topic", "error_type"]
)


# Kafka headers have no size limit of their own, but the whole record must fit.
_MAX_ERROR_CHARS = 2_000


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """Where a dead letter came from, byte for byte."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]


async def dead_letter(
    producer: AIOKafkaProducer,
    record: SourceRecord,
    *,
    consumer: str,
    error_type: str,
    error: str,
    max_backoff_s: float = 5.0,
) -> None:
    """Publish `record` to its dead-letter topic; retries until Kafka acks (never drops)."""
    headers = [(k, v) for k, v in record.headers if k not in REASON_HEADERS] + [
        (ERROR, error[:_MAX_ERROR_CHARS].encode()),
        (ERROR_TYPE, error_type.encode()),
        (SOURCE_TOPIC, record.topic.encode()),
        (SOURCE_PARTITION, str(record.partition).encode()),
        (SOURCE_OFFSET, str(record.offset).encode()),
        (CONSUMER, consumer.encode()),
    ]
    delay = 0.2
    while True:
        try:
            await producer.send_and_wait(record.topic + DLQ_SUFFIX, value=record.value, key=record.key, headers=headers)
            break
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("cannot publish dead letter yet; retrying", extra={"topic": record.topic})
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_backoff_s)
    DEAD_LETTERS.labels(record.topic, error_type).inc()
    log.warning(
        "record dead-lettered",
        extra={
            "source_topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "error_type": error_type,
            "error": error[:500],
            "consumer": consumer,
        },
    )

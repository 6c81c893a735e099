"""Kafka side of `palmares dlq`: read dead-letter topics, republish dead letters.

Reading uses no consumer group and commits nothing: the partitions are
assigned by hand and read from their beginning up to the end offsets taken at
the start, so listing never moves anyone's position and always terminates.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError

from palmares_cli.dlq import DeadLetter
from palmares_cli.errors import OperationFailed, Unreachable

_REQUEST_TIMEOUT_MS = 15_000

# aiokafka logs connection failures itself; the CLI reports them once, as an exit code and a sentence.
logging.getLogger("aiokafka").addHandler(logging.NullHandler())
logging.getLogger("aiokafka").propagate = False


@dataclass(frozen=True, slots=True)
class TopicContent:
    """The dead letters of one DLQ topic; `exists` is False when the broker has no such topic."""

    topic: str
    exists: bool
    letters: list[DeadLetter]


def _unreachable(bootstrap: str, exc: BaseException) -> Unreachable:
    return Unreachable(f"cannot reach Kafka at {bootstrap}: {exc}")


async def _start(bootstrap: str, start: Callable[[], Awaitable[None]], close: Callable[[], Awaitable[None]]) -> None:
    """Start a Kafka client; a broker out of reach becomes `Unreachable`, the client closed."""
    try:
        await start()
    except (KafkaConnectionError, KafkaTimeoutError, OSError) as exc:
        await close()
        raise _unreachable(bootstrap, exc) from exc


async def read_topics(bootstrap: str, topics: Sequence[str], *, timeout_s: float = 60.0) -> list[TopicContent]:
    """Every record of each topic, from the beginning to the end offsets seen at the start."""
    try:
        return await asyncio.wait_for(_read_topics(bootstrap, topics), timeout_s)
    except TimeoutError as exc:
        raise OperationFailed(f"reading the dead-letter topics took more than {timeout_s:.0f} s") from exc
    except (KafkaConnectionError, OSError) as exc:
        raise _unreachable(bootstrap, exc) from exc
    except KafkaError as exc:
        raise OperationFailed(f"Kafka error while reading dead letters: {exc}") from exc


async def partitions_of(bootstrap: str, topics: Sequence[str]) -> dict[str, list[int]]:
    """The partitions of each topic that exists (absent topics are left out, never created)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=_REQUEST_TIMEOUT_MS)
    await _start(bootstrap, admin.start, admin.close)
    try:
        existing = set(await admin.list_topics())
        wanted = [t for t in topics if t in existing]
        if not wanted:
            return {}
        # The consumer's own metadata only covers subscribed topics, hence the admin client.
        described = await admin.describe_topics(wanted)
    finally:
        await admin.close()
    return {
        d["topic"]: sorted(p["partition"] for p in d.get("partitions", []))
        for d in described
        if d.get("error_code") == 0
    }


async def _read_topics(bootstrap: str, topics: Sequence[str]) -> list[TopicContent]:
    partitions = await partitions_of(bootstrap, topics)
    every = [TopicPartition(t, p) for t, ps in partitions.items() for p in ps]
    letters: dict[str, list[DeadLetter]] = {topic: [] for topic in partitions}
    if every:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=None,  # no group: nothing joins, nothing is committed
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            request_timeout_ms=_REQUEST_TIMEOUT_MS,
        )
        await _start(bootstrap, consumer.start, consumer.stop)
        try:
            await _drain(consumer, every, letters)
        finally:
            await consumer.stop()
    for group in letters.values():
        group.sort(key=lambda d: (d.timestamp_ms or 0, d.partition, d.offset))
    return [TopicContent(topic, topic in partitions, letters.get(topic, [])) for topic in topics]


async def _drain(consumer: AIOKafkaConsumer, every: list[TopicPartition], letters: dict[str, list[DeadLetter]]) -> None:
    """Read each partition from its beginning up to the end offset it had when we looked."""
    begin = await consumer.beginning_offsets(every)
    end = await consumer.end_offsets(every)
    todo = {tp: end[tp] for tp in every if end[tp] > begin[tp]}
    if not todo:
        return
    consumer.assign(list(todo))
    for tp in todo:
        consumer.seek(tp, begin[tp])
    while todo:
        batch = await consumer.getmany(*todo, timeout_ms=500)
        for tp, records in batch.items():
            for r in records:
                if r.offset < end[tp]:
                    letters[tp.topic].append(
                        DeadLetter(
                            topic=r.topic,
                            partition=r.partition,
                            offset=r.offset,
                            key=r.key,
                            value=r.value,
                            headers=tuple((k, bytes(v)) for k, v in (r.headers or ())),
                            timestamp_ms=r.timestamp,
                        )
                    )
        for tp in list(todo):
            if await consumer.position(tp) >= todo[tp]:
                del todo[tp]


@dataclass(frozen=True, slots=True)
class Replayed:
    """A dead letter sent back to its source topic, and where it landed."""

    letter: DeadLetter
    topic: str
    partition: int
    offset: int


async def replay(
    bootstrap: str, letters: Sequence[DeadLetter], on_sent: Callable[[Replayed], None] | None = None
) -> list[Replayed]:
    """Republish each dead letter to its source topic, in order, with an idempotent producer.

    Idempotence (`acks=all`) means a retried send after a lost ack does not
    write the record twice; the consumers' inbox covers the rest (a replay of
    an event already processed is a no-op, keyed on the same `event_id`).
    """
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=True,
        acks="all",
        request_timeout_ms=_REQUEST_TIMEOUT_MS,
    )
    await _start(bootstrap, producer.start, producer.stop)
    done: list[Replayed] = []
    try:
        for letter in letters:
            started = time.monotonic()
            try:
                meta = await producer.send_and_wait(
                    letter.source_topic, value=letter.value, key=letter.key, headers=letter.replay_headers
                )
            except KafkaError as exc:
                sent = ", ".join(d.letter.position for d in done) or "none"
                raise OperationFailed(
                    f"replay of {letter.topic} {letter.position} to {letter.source_topic} failed after "
                    f"{time.monotonic() - started:.1f} s: {exc} (already replayed: {sent})"
                ) from exc
            done.append(Replayed(letter, meta.topic, meta.partition, meta.offset))
            if on_sent is not None:
                on_sent(done[-1])
    finally:
        await producer.stop()
    return done

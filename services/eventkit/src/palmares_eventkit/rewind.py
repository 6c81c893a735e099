"""Consumer groups sent back to the beginning of their topics: a service's state rebuilt from the log.

Used when a service's database is lost (docs/operations.md, "Disasters"): its
schema is created again, empty, and its consumer groups read every topic from
the first record, as a new group would. Kafka refuses to move the offsets of a
group that has members, and so does `rewind`: every instance of the service
must be stopped first.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import CommitFailedError, IllegalGenerationError, RebalanceInProgressError, UnknownMemberIdError
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata
from palmares_eventkit import kafka_security
from palmares_eventkit.lag import partitions_of
from palmares_eventkit.settings import ServiceSettings


class GroupActive(RuntimeError):
    """A consumer group still has members: the service is running somewhere."""


@dataclass(frozen=True, slots=True)
class Rewound:
    """One partition of one group: where it was (None: never committed) and where it now starts."""

    group: str
    topic: str
    partition: int
    was: int | None
    now: int


def _admin(settings: ServiceSettings) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id="palmares-rebuild",
        **kafka_security.client_kwargs(settings),
    )


async def _commit(settings: ServiceSettings, group: str, offsets: Mapping[TopicPartition, int]) -> None:
    """Commit `offsets` for `group` outside of it (no generation): Kafka accepts it only while the group is empty."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group,
        client_id="palmares-rebuild",
        enable_auto_commit=False,
        **kafka_security.client_kwargs(settings),
    )
    await consumer.start()
    try:
        consumer.assign(list(offsets))  # by hand: the group is not joined
        # The commit's metadata is a string in Kafka's protocol: "" (as a new group's), never None.
        await consumer.commit({tp: OffsetAndMetadata(offset, "") for tp, offset in offsets.items()})
    except (CommitFailedError, UnknownMemberIdError, IllegalGenerationError, RebalanceInProgressError) as exc:
        raise GroupActive(
            f"consumer group {group} still has members: stop every instance of the service first "
            f"(a crashed one leaves the group when its session times out) ({exc})"
        ) from exc
    finally:
        await consumer.stop()


async def ensure_idle(settings: ServiceSettings, groups: Sequence[str]) -> None:
    """Raise `GroupActive` when one of the groups has members (an instance of the service still runs).

    The proof is Kafka's own: each group's committed offsets are committed
    again, unchanged, from outside the group, which the group coordinator
    refuses while the group has members.
    """
    admin = _admin(settings)
    await admin.start()
    try:
        committed = {g: await admin.list_consumer_group_offsets(g) for g in groups}
    finally:
        await admin.close()
    for group, offsets in committed.items():
        if offsets:
            await _commit(settings, group, {tp: meta.offset for tp, meta in offsets.items()})


async def rewind(settings: ServiceSettings, groups: Mapping[str, Sequence[str]]) -> list[Rewound]:
    """Commit, for each group, the first offset of every partition of its topics.

    Raises `GroupActive` (and moves nothing) when a group has members.
    """
    await ensure_idle(settings, list(groups))
    admin = _admin(settings)
    await admin.start()
    try:
        topics = sorted({t for ts in groups.values() for t in ts})
        partitions = partitions_of(await admin.describe_topics(topics))
        committed = {g: await admin.list_consumer_group_offsets(g) for g in groups}
    finally:
        await admin.close()
    done: list[Rewound] = []
    for group, group_topics in groups.items():
        tps = [TopicPartition(t, p) for t in group_topics for p in partitions.get(t, ())]
        if not tps:
            continue
        firsts = await _first_offsets(settings, tps)
        await _commit(settings, group, firsts)
        for tp in tps:
            was = committed[group].get(tp)
            done.append(Rewound(group, tp.topic, tp.partition, was.offset if was is not None else None, firsts[tp]))
    return done


async def _first_offsets(settings: ServiceSettings, tps: Sequence[TopicPartition]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id="palmares-rebuild",
        enable_auto_commit=False,
        **kafka_security.client_kwargs(settings),
    )
    await consumer.start()
    try:
        firsts: dict[TopicPartition, int] = await consumer.beginning_offsets(list(tps))
        return firsts
    finally:
        await consumer.stop()


async def read_topic(
    settings: ServiceSettings, topic: str, *, batch: int = 2000
) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
    """Every record of `topic`, partition by partition in offset order, up to the end offsets seen at the start.

    No consumer group, nothing committed: reading moves nobody's position.
    """
    bootstrap = settings.kafka_bootstrap_servers
    kwargs = kafka_security.client_kwargs(settings)
    admin = _admin(settings)
    await admin.start()
    try:
        partitions = partitions_of(await admin.describe_topics([topic])).get(topic, [])
    finally:
        await admin.close()
    if not partitions:
        return
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, client_id="palmares-rebuild", enable_auto_commit=False, **kwargs
    )
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        remaining = {tp for tp in tps if ends[tp] > await consumer.position(tp)}
        while remaining:
            fetched = await consumer.getmany(*remaining, timeout_ms=1000, max_records=batch)
            for tp, records in fetched.items():
                for record in records:
                    if record.offset < ends[tp]:
                        yield record
            for tp in list(remaining):
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()

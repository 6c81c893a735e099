"""Single-node Kafka from the session ``infra`` fixture: real produce and consume."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from palmares_stack.kafka_probe import describe_cluster
from palmares_stack.pytest_plugin import Infra


async def _create_topic(bootstrap: str, name: str, partitions: int, replication: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, replication)])
    finally:
        await admin.close()


async def _consume(bootstrap: str, topic: str, count: int) -> list[tuple[bytes, bytes]]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"g-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    received: list[tuple[bytes, bytes]] = []
    try:
        while len(received) < count:
            batches = await consumer.getmany(timeout_ms=10_000)
            if not batches:
                break
            for records in batches.values():
                received += [(r.key or b"", r.value or b"") for r in records]
        await consumer.commit()
    finally:
        await consumer.stop()
    return received


@pytest.mark.asyncio
async def test_idempotent_produce_then_consume(infra: Infra) -> None:
    topic = f"infra-single-{uuid.uuid4().hex[:8]}"
    await _create_topic(infra.kafka_bootstrap, topic, partitions=3, replication=1)

    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        sent = [(b"69123", f"dossier-{i}".encode()) for i in range(20)]
        for key, value in sent:
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()

    received = await _consume(infra.kafka_bootstrap, topic, len(sent))
    # One key -> one partition -> order kept.
    assert received == sent


def test_metadata_lists_the_single_broker(infra: Infra) -> None:
    host, port = infra.kafka_bootstrap.split(",")[0].rsplit(":", 1)
    cluster = describe_cluster(host, int(port))
    assert cluster.broker_ids == {0}
    assert cluster.cluster_id


@pytest.mark.asyncio
async def test_restart_broker_keeps_data_and_port(infra: Infra) -> None:
    if infra.kafka is None:
        pytest.skip("fault injection needs TEST_INFRA=local")
    topic = f"infra-restart-{uuid.uuid4().hex[:8]}"
    await _create_topic(infra.kafka_bootstrap, topic, partitions=1, replication=1)
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"before-crash", key=b"k")
    finally:
        await producer.stop()

    bootstrap_before, pid_before = infra.kafka_bootstrap, infra.kafka.pids[0]
    infra.kafka.kill_broker(0)
    assert infra.kafka.pids == [None]
    infra.kafka.restart_broker(0)
    assert infra.kafka.bootstrap_servers == bootstrap_before
    assert infra.kafka.pids[0] not in (None, pid_before)

    assert await _consume(infra.kafka_bootstrap, topic, 1) == [(b"k", b"before-crash")]

"""Three-node KRaft cluster: RF 3, min.insync.replicas 2, survive one broker crash."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from palmares_stack.kafka import KafkaCluster
from palmares_stack.kafka_probe import describe_cluster

pytestmark = pytest.mark.cluster


def test_all_three_brokers_registered(kafka_cluster3: KafkaCluster) -> None:
    assert len(kafka_cluster3.bootstrap_servers.split(",")) == 3
    assert all(pid is not None for pid in kafka_cluster3.pids)
    for node in kafka_cluster3.nodes:
        assert describe_cluster("127.0.0.1", node.broker_port).broker_ids == {0, 1, 2}


@pytest.mark.asyncio
async def test_produce_with_acks_all_while_one_broker_is_down(
    kafka_cluster3: KafkaCluster,
) -> None:
    bootstrap = kafka_cluster3.bootstrap_servers
    topic = f"infra-rf3-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 3, 3)])
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    assert all(len(p["replicas"]) == 3 for p in described[0]["partitions"])

    victim = 1
    kafka_cluster3.kill_broker(victim)
    assert kafka_cluster3.pids[victim] is None
    try:
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            enable_idempotence=True,
            acks="all",
            request_timeout_ms=30_000,
        )
        await producer.start()
        try:
            # Two of three replicas stay in sync >= min.insync.replicas: acks=all succeeds
            # (after the controller fences the dead broker and moves its leaderships).
            await asyncio.wait_for(
                asyncio.gather(
                    *[producer.send_and_wait(topic, f"v{i}".encode(), key=f"k{i % 5}".encode()) for i in range(30)]
                ),
                timeout=60,
            )
        finally:
            await producer.stop()
    finally:
        kafka_cluster3.restart_broker(victim)
    assert all(pid is not None for pid in kafka_cluster3.pids)

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"g-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    values: set[bytes] = set()
    try:
        while len(values) < 30:
            batches = await consumer.getmany(timeout_ms=15_000)
            if not batches:
                break
            values |= {r.value or b"" for records in batches.values() for r in records}
    finally:
        await consumer.stop()
    assert values == {f"v{i}".encode() for i in range(30)}

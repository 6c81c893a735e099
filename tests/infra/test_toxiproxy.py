"""Toxiproxy in front of the session's Kafka, PostgreSQL and SMTP: every connection of a service goes through it."""

from __future__ import annotations

import asyncio
import time
import uuid

import aiosmtplib
import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from palmares_stack.pytest_plugin import Infra
from palmares_stack.toxiproxy import Toxiproxy

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def proxy_of(infra: Infra) -> Toxiproxy:
    if infra.toxiproxy is None:
        pytest.fail("Toxiproxy is not running: build it with `make toxiproxy` (TEST_INFRA=local)")
    return infra.toxiproxy


async def test_kafka_clients_reach_every_broker_through_the_proxy(infra: Infra) -> None:
    proxy = proxy_of(infra)
    bootstrap = infra.env()["KAFKA_BOOTSTRAP_SERVERS"]
    assert bootstrap != infra.kafka_bootstrap
    topic = f"toxiproxy-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        # The metadata names the proxy's address: the broker advertises it on its PROXIED listener.
        advertised = {f"{b.host}:{b.port}" for b in producer.client.cluster.brokers()}
        assert advertised == set(bootstrap.split(","))
        await producer.send_and_wait(topic, b"before")
        # A disabled proxy cuts every connection: a client that had bypassed it would not notice.
        proxy.set_enabled("kafka-0", False)
        try:
            with pytest.raises(Exception):  # noqa: B017 - any failure: the request went through the proxy
                await asyncio.wait_for(producer.send_and_wait(topic, b"during"), 5)
        finally:
            proxy.set_enabled("kafka-0", True)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        records = await consumer.getmany(timeout_ms=10_000)
        values = [r.value for batch in records.values() for r in batch]
        assert values[:1] == [b"before"]
    finally:
        await consumer.stop()


async def test_latency_and_black_hole_on_postgres_reach_the_proxied_client_only(infra: Infra) -> None:
    proxy = proxy_of(infra)
    through = await asyncpg.connect(infra.env()["DATABASE_URL"])
    direct = await asyncpg.connect(infra.database_url)
    try:
        with proxy.toxic(["postgres"], "latency", {"latency": 300, "jitter": 50}):
            began = time.monotonic()
            assert await through.fetchval("SELECT 1") == 1
            slow = time.monotonic() - began
            began = time.monotonic()
            assert await direct.fetchval("SELECT 1") == 1
            fast = time.monotonic() - began
        assert slow >= 0.25 > fast
        # The timeout toxic: bytes go nowhere, nothing is refused; the client waits.
        with proxy.toxic(["postgres"], "timeout", {"timeout": 0}), pytest.raises(TimeoutError):
            await through.fetchval("SELECT 1", timeout=2)
    finally:
        through.terminate()
        await direct.close()


async def test_smtp_reset_through_the_proxy(infra: Infra) -> None:
    proxy = proxy_of(infra)
    port = int(infra.env()["SMTP_PORT"])
    with (
        proxy.toxic(["smtp"], "reset_peer", {"timeout": 0}, streams=("upstream",)),
        pytest.raises((aiosmtplib.SMTPException, OSError)),
    ):
        smtp = aiosmtplib.SMTP(hostname=infra.smtp_host, port=port, timeout=5)
        await smtp.connect()
        await smtp.noop()
    smtp = aiosmtplib.SMTP(hostname=infra.smtp_host, port=port, timeout=5)
    await smtp.connect()
    code, _ = await smtp.noop()
    assert code == 250
    await smtp.quit()

"""The runtime's delivery rules (`rules.py`), in process: on FastStream's test broker, then on the real Kafka.

The in-memory run needs PostgreSQL only and takes seconds; the Kafka run
adds what the test broker cannot show: offsets committed past every record,
dead-lettered or not, and the real producer's keys and partitions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from palmares_stack.pytest_plugin import Infra

from tests.runtime.harness import Harness, InMemory, OnKafka
from tests.runtime.rules import DeliveryRules


class TestInMemory(DeliveryRules):
    @pytest.fixture
    def harness(self, in_memory: InMemory) -> Harness:
        return in_memory


@pytest.mark.integration
class TestOnKafka(DeliveryRules):
    @pytest.fixture
    async def harness(self, infra: Infra) -> AsyncIterator[Harness]:
        harness = OnKafka(infra.database_url, infra.kafka_bootstrap)
        try:
            yield harness
        finally:
            await harness.stop()

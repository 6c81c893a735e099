"""PostgreSQL for the in-process runtime tests: the session's, started once (Kafka only for the real-Kafka run)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from palmares_stack.pytest_plugin import Postgres

from tests.runtime.harness import InMemory


@pytest.fixture
async def in_memory(postgres: Postgres) -> AsyncIterator[InMemory]:
    harness = InMemory(postgres.url)
    try:
        yield harness
    finally:
        await harness.stop()

"""PostgreSQL for the in-process runtime tests: the session's, started once (Kafka only for the real-Kafka run)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
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


@pytest.fixture
async def database(postgres: Postgres) -> AsyncIterator[str]:
    """A database of the test's own: the services' schemas are named after them, as in the stack other tests run."""
    name = f"rt_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(postgres.url)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        yield urlunsplit(urlsplit(postgres.url)._replace(path=f"/{name}"))
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()

"""Fixtures of the integration tests that need no service running, only a server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from palmares_stack.pytest_plugin import Postgres

from tests.integration.published_edition import schema_pool


@pytest.fixture
async def pool(postgres: Postgres) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a fresh schema of the submission service's tables, dropped after the test."""
    async for p in schema_pool(postgres.url):
        yield p

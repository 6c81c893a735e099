"""Session fixtures of the integration and reliability suites: one stack of real services, shared by all tests.

Nothing starts unless a test asks for a fixture: the unit tests never start a server.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator

import pytest
from palmares_stack.ports import LOCALHOST, free_port
from palmares_stack.pytest_plugin import Infra

from tests.integration.harness import QUICK_RETRIES, Api, Codes, Stack, next_edition


@pytest.fixture(scope="session")
def stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The four services as processes, started once per session on free ports."""
    # The submission service's port is chosen first: notify writes it into the links of its emails.
    api_port = free_port()
    env = {
        "PALMARES_PUBLIC_URL": f"http://{LOCALHOST}:{api_port}",
        "PALMARES_SIGNING_KEY": secrets.token_urlsafe(32),
        **QUICK_RETRIES,
        # Short enough for the paused-process campaign (a frozen process's transactions end after
        # 10 s; a frozen sender's email after 4 × 5 + 10 s), long enough for any honest transaction.
        "PALMARES_DB_IDLE_TIMEOUT_S": "10",
        "SMTP_TIMEOUT_S": "5",
        # Re-evaluations in many small chunks: a test kills scoring between two of them.
        "PALMARES_REEVALUATION_CHUNK": "25",
    }
    s = Stack.on(infra, tmp_path_factory.mktemp("services"), env, ports={"submission": api_port})
    s.start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="session")
def codes() -> Codes:
    return Codes()


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[Api]:
    async with stack.api() as client:
        yield client


@pytest.fixture
def edition() -> int:
    return next_edition()

"""The publication's answer waits for the catalogue build, but not longer than HTTP clients wait."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from palmares_eventkit.runtime import Tx
from palmares_submission import api


async def test_a_build_done_within_the_wait_is_answered_built() -> None:
    async def quick() -> bool:
        await asyncio.sleep(0)
        return True

    assert await api.finish_within(quick(), 5.0) is True


async def test_a_longer_build_goes_on_after_the_answer() -> None:
    release, finished = asyncio.Event(), asyncio.Event()

    async def slow() -> bool:
        await release.wait()
        finished.set()
        return True

    assert await api.finish_within(slow(), 0.05) is False, "answered at the end of the wait, not built"
    assert not finished.is_set()
    release.set()
    await asyncio.wait_for(finished.wait(), 5.0)  # not cancelled with the answer's wait


async def test_a_failed_build_is_logged_and_answered_not_built(caplog: pytest.LogCaptureFixture) -> None:
    @asynccontextmanager
    async def broken() -> AsyncIterator[Tx]:
        raise ConnectionError("database gone")
        yield  # pragma: no cover  # makes it a generator

    with caplog.at_level(logging.ERROR, logger=api.log.name):
        assert await api.finish_within(api._build_catalogue(broken, 2017), 5.0) is False
    assert "catalogue build failed, left to the background loop" in caplog.text

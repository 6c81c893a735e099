"""The publication's answer waits for the catalogue build, but not longer than HTTP clients wait."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from palmares_eventkit.runtime import Tx
from palmares_submission import api
from palmares_submission.service import commands


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


async def test_builds_of_editions_published_one_after_the_other_run_one_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Three publications, each answered before its build's end: their builds must not hold a transaction
    # (and a chunk of the edition in memory) at the same time.
    open_now, most_open, built = 0, 0, []

    @asynccontextmanager
    async def transaction() -> AsyncIterator[Tx]:
        nonlocal open_now, most_open
        open_now += 1
        most_open = max(most_open, open_now)
        try:
            yield Tx.__new__(Tx)
        finally:
            open_now -= 1

    async def build_catalogue(tx: Tx, edition: int) -> commands.CatalogueBuilt:
        await asyncio.sleep(0.02)
        built.append(edition)
        return commands.CatalogueBuilt(actions=1)

    monkeypatch.setattr(commands, "build_catalogue", build_catalogue)
    answers = [await api.finish_within(api._build_catalogue(transaction, e), 0.001) for e in (2016, 2017, 2018)]
    assert answers == [False, False, False], "each answered before its build's end"
    await asyncio.wait_for(asyncio.gather(*api._BUILDS), 5.0)
    assert sorted(built) == [2016, 2017, 2018]
    assert most_open == 1, f"{most_open} builds at once"

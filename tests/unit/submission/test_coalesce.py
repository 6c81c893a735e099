"""The public palmarès's builds: shared by the requests that wait, never older than a request, one at a time."""

from __future__ import annotations

import asyncio

import pytest
from palmares_submission.coalesce import Coalescer


class Build:
    """A slow computation that returns the version of the data it started from, and counts who runs at once."""

    def __init__(self) -> None:
        self.version = 0  # bumped by "a jury decision"
        self.running = 0
        self.most_running = 0
        self.release = asyncio.Event()

    async def __call__(self) -> int:
        seen = self.version
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            await self.release.wait()
            return seen
        finally:
            self.running -= 1


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_requests_during_a_build_share_the_next_one_which_starts_after_them() -> None:
    coalescer: Coalescer[int] = Coalescer()
    build = Build()
    first = asyncio.ensure_future(coalescer.ask("page", build))
    await settle()
    build.version = 1  # a decision recorded after the first build started: the later requests must see it
    later = [asyncio.ensure_future(coalescer.ask("page", build)) for _ in range(5)]
    await settle()
    assert build.running == 1, "the later requests wait; they do not build beside the first"
    build.release.set()
    assert await first == 0
    assert await asyncio.gather(*later) == [1] * 5, "each answer computed after its request arrived"
    assert coalescer.computed == 2, "six requests, two builds"
    assert coalescer._keys == {}, "nothing kept once answered"


async def test_builds_of_different_keys_run_one_at_a_time() -> None:
    coalescer: Coalescer[int] = Coalescer()
    build = Build()
    asks = [asyncio.ensure_future(coalescer.ask(("page", e), build)) for e in (2016, 2017, 2018)]
    await settle()
    build.release.set()
    await asyncio.gather(*asks)
    assert build.most_running == 1
    assert coalescer.computed == 3


async def test_a_failed_build_fails_its_requests_and_the_next_request_builds_again() -> None:
    coalescer: Coalescer[int] = Coalescer()
    calls = 0

    async def flaky() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.01)
        if calls == 1:
            raise ConnectionError("database gone")
        return calls

    both = [asyncio.ensure_future(coalescer.ask("view", flaky)) for _ in range(2)]
    results = await asyncio.gather(*both, return_exceptions=True)
    assert isinstance(results[0], ConnectionError) and results[1] == 2
    assert await coalescer.ask("view", flaky) == 3


async def test_a_request_that_goes_away_does_not_cancel_the_build_others_wait_for() -> None:
    coalescer: Coalescer[int] = Coalescer()
    build = Build()
    leaving = asyncio.ensure_future(coalescer.ask("page", build))
    staying = asyncio.ensure_future(coalescer.ask("page", build))
    await settle()
    leaving.cancel()
    await settle()
    build.release.set()
    assert await staying == 0
    with pytest.raises(asyncio.CancelledError):
        await leaving


async def test_after_each_computation_ends_the_hook_runs_once_even_when_it_failed() -> None:
    ended: list[int] = []
    coalescer: Coalescer[int] = Coalescer(after_each=lambda: ended.append(coalescer.computed))
    build = Build()
    first = asyncio.ensure_future(coalescer.ask("page", build))
    await settle()
    waiting = [asyncio.ensure_future(coalescer.ask("page", build)) for _ in range(3)]
    await settle()
    assert ended == [], "not before the build ends"
    build.release.set()
    await asyncio.gather(first, *waiting)
    assert ended == [1, 2], "one call per computation, not per request"

    async def broken() -> int:
        raise RuntimeError("the database went away")

    with pytest.raises(RuntimeError):
        await coalescer.ask("json", broken)
    assert ended == [1, 2, 3]

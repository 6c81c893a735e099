"""Concurrent requests for one large answer share one computation, and such computations run one at a time.

The public palmarès of a national edition is one page built from every dossier
of the edition: tens of megabytes and seconds of CPU per build. On
the day of the publication many visitors ask for it at once; each building its
own would multiply that memory by the visitors. Here, the requests that arrive
while a build of the same key runs wait for the *next* build, which starts once
the running one ends and serves all of them: every answer is computed after its
request arrived (never a stale page), the builds of one process run one at a
time whatever the key (memory bounded by one build), and N waiting visitors
cost one build, not N. (asyncio has no such primitive; the libraries that
coalesce calls, such as aiocache's `cached` with a lock, serve a result computed
before the request arrived, which a jury decision just recorded would not be in.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

V = TypeVar("V")


@dataclass
class _Key(Generic[V]):
    running: asyncio.Task[V] | None = None
    next: asyncio.Task[V] | None = None  # waits for `running`, then computes for everyone who joined it


class Coalescer(Generic[V]):
    """`ask(key, compute)`: `compute()`'s result, from a computation started after the call; one at a time."""

    def __init__(self, after_each: Callable[[], object] | None = None) -> None:
        self._keys: dict[Hashable, _Key[V]] = {}
        self._slot: asyncio.Lock | None = None  # created on first use, in the running event loop
        self._after_each = after_each  # called once each computation ended (`memory.give_back`)
        self.computed = 0  # computations run (for tests and logs)

    async def ask(self, key: Hashable, compute: Callable[[], Awaitable[V]]) -> V:
        state = self._keys.setdefault(key, _Key())
        if state.running is None:
            task = state.running = self._start(self._compute(key, state, compute))
        else:
            if state.next is None:
                state.next = self._start(self._after(state.running, key, state, compute))
            task = state.next
        # A request that goes away (its client disconnected) does not cancel what others wait for.
        return await asyncio.shield(task)

    def _start(self, work: Awaitable[V]) -> asyncio.Task[V]:
        task = asyncio.ensure_future(work)
        # Read the outcome even if every asker went away: no "exception was never retrieved".
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        return task

    async def _after(
        self, previous: asyncio.Task[V], key: Hashable, state: _Key[V], compute: Callable[[], Awaitable[V]]
    ) -> V:
        await asyncio.wait([previous])  # its outcome is its askers'
        # From here on, a new request waits for the build after this one: this one has started.
        state.running, state.next = state.next, None
        return await self._compute(key, state, compute)

    async def _compute(self, key: Hashable, state: _Key[V], compute: Callable[[], Awaitable[V]]) -> V:
        if self._slot is None:
            self._slot = asyncio.Lock()
        try:
            async with self._slot:
                self.computed += 1
                try:
                    return await compute()
                finally:
                    if self._after_each is not None:
                        self._after_each()
        finally:
            if state.next is None:
                state.running = None
                if self._keys.get(key) is state:
                    del self._keys[key]

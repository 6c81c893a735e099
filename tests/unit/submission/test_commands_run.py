"""`commands.run`: a command's events are published in its transaction, and none when it is refused (no server)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from palmares_contracts import Event, GrillePublished
from palmares_submission.domain.errors import Conflict
from palmares_submission.service import commands

from tests.factories import grille


class FakeTx:
    """What a command's transaction records: the events emitted, whether it committed."""

    def __init__(self) -> None:
        self.published: list[Event] = []
        self.committed = False

    async def publish(self, event: Event) -> None:
        assert not self.committed, "an event emitted after the commit would not leave with it"
        self.published.append(event)


class FakeRuntime:
    def __init__(self) -> None:
        self.transactions: list[FakeTx] = []

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        tx = FakeTx()
        self.transactions.append(tx)
        yield tx  # an exception leaves without committing, as a database transaction rolls back
        tx.committed = True


EVENTS = (
    GrillePublished(edition=2017, version=1, grille=grille()),
    GrillePublished(edition=2017, version=2, grille=grille(version=2)),
)


async def test_the_events_of_a_command_are_published_in_its_transaction_in_order() -> None:
    runtime = FakeRuntime()

    async def command(tx: Any) -> commands.Done:
        assert tx is runtime.transactions[-1]
        return commands.Done(events=EVENTS)

    done = await commands.run(runtime.transaction, command)
    (tx,) = runtime.transactions
    assert tx.committed and tx.published == list(EVENTS) and done.events == EVENTS


async def test_a_refused_command_publishes_nothing_and_commits_nothing() -> None:
    runtime = FakeRuntime()

    async def command(tx: Any) -> commands.Done:
        raise Conflict("La campagne 2017 est close : le palmarès a été publié.")

    with pytest.raises(Conflict):
        await commands.run(runtime.transaction, command)
    (tx,) = runtime.transactions
    assert not tx.committed and tx.published == []

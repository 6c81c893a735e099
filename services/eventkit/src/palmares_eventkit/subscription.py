"""What a service consumes: a topic and the handler of its events, bound by the event type.

A service declares its subscriptions in one table (`SUBSCRIPTIONS`, or a
function building it around the service's state) that its composition root
hands to the runtime and its tests use too. `Subscription(topic, handler)`
is checked by the type checker: a handler of another event type than the
topic's is an error, before anything runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from palmares_contracts import Event, Topic
from palmares_eventkit.tx import Tx

E = TypeVar("E", bound=Event)

Handler = Callable[[Tx, E], Awaitable[None]]
"""Applies one event in the transaction that also records it in the inbox."""

Prepare = Callable[[Tx, Sequence[E]], Awaitable[None]]
"""Reads, once for a batch, what the handler will need for each of its events (kept in `Tx.memo`)."""


@dataclass(frozen=True, slots=True)
class Subscription(Generic[E]):
    """A topic and the handler of its events; `prepare`, if any, runs first with all the batch's new events.

    `prepare` turns a read per event into one per batch: it runs in the batch's
    transaction, after the inbox claim (redeliveries are not in the batch) and
    before the first handler, when two events or more are new, and leaves what
    it read in `tx.memo`. The
    handler must still be right without it (a batch of one, a retry record by
    record): `prepare` only saves round trips.
    """

    topic: Topic[E]
    handler: Handler[E]
    prepare: Prepare[E] | None = None

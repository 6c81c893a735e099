"""What a service consumes: a topic and the handler of its events, bound by the event type.

A service declares its subscriptions in one table (`SUBSCRIPTIONS`, or a
function building it around the service's state) that its composition root
hands to the runtime and its tests use too. `Subscription(topic, handler)`
is checked by the type checker: a handler of another event type than the
topic's is an error, before anything runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from palmares_contracts import Event, Topic
from palmares_eventkit.tx import Tx

E = TypeVar("E", bound=Event)

Handler = Callable[[Tx, E], Awaitable[None]]
"""Applies one event in the transaction that also records it in the inbox."""


@dataclass(frozen=True, slots=True)
class Subscription(Generic[E]):
    """A topic and the handler of its events."""

    topic: Topic[E]
    handler: Handler[E]

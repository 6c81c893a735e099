"""Observers of the events a service published, called once Kafka acknowledged them.

A service counts its business facts (a dossier received, scored, a mention
found) when the event has left the service: a rolled-back transaction, or an
event still in the outbox, counts nothing. Only the rows of event types that
have an observer are decoded, so the relay pays nothing for the others.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from palmares_contracts import ContractError, Event, decode, topic_of
from palmares_eventkit.metrics import EVENTS_EMITTED
from palmares_eventkit.outbox import StoredRow

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)

Observer = Callable[[E], None]


class PublishedEvents:
    """The observers of a service's published events, by event type."""

    def __init__(self) -> None:
        self._observers: dict[str, tuple[type[Event], list[Callable[[Any], None]]]] = {}

    def observe(self, event_class: type[E], observer: Observer[E]) -> None:
        """Call `observer(event)` for each `event_class` event the service published."""
        event_type = event_class.model_fields["event_type"].default
        self._observers.setdefault(event_type, (event_class, []))[1].append(observer)

    def __call__(self, rows: Sequence[StoredRow]) -> None:
        """Count outbox rows (`topic`, `value`, `headers` as stored: JSON text) after their publication."""
        for row in rows:
            try:
                self._observe(row)
            except Exception:  # metrics never break the relay
                log.debug("event not observed", exc_info=True)

    def _observe(self, row: StoredRow) -> None:
        stored = row["headers"]
        parsed = json.loads(stored) if isinstance(stored, str | bytes) else dict(stored or {})
        headers = {str(k): str(v) for k, v in parsed.items()}
        event_type = headers.get("event-type", "unknown")
        EVENTS_EMITTED.labels(event_type).inc()
        found = self._observers.get(event_type)
        if found is None:
            return
        event_class, observers = found
        try:
            event = decode(topic_of(event_class), bytes(row["value"]), headers)
        except ContractError:
            return  # not ours to judge here; consumers dead-letter it
        for observer in observers:
            observer(event)

"""The topic registry: each topic bound to its key and its event types (docs/architecture.md, "Topics and events")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from palmares_contracts.events import (
    Event,
    GrillePublished,
    JuryDecided,
    MentionsDetected,
    NotificationFailed,
    NotificationSent,
    PalmaresPublished,
    SubmissionReceived,
    SubmissionScored,
)

DLQ_SUFFIX = ".dlq"

KeyKind = Literal["collectivite", "edition"]


@dataclass(frozen=True, slots=True)
class Topic:
    """A Kafka topic, its key (the aggregate id) and the event types it carries."""

    name: str
    key: KeyKind
    events: tuple[type[Event], ...]

    @property
    def dlq(self) -> str:
        """The dead-letter topic of this topic."""
        return self.name + DLQ_SUFFIX

    def event_class(self, event_type: str) -> type[Event] | None:
        """The model for an `event_type` carried by this topic, if any."""
        return next((e for e in self.events if _type_name(e) == event_type), None)

    def key_of(self, event: Event) -> bytes:
        """The partition key of an event: per-collectivité or per-edition ordering."""
        if not isinstance(event, self.events):
            raise TypeError(f"{type(event).__name__} does not belong on {self.name}")
        if self.key == "edition":
            return str(event.edition).encode()  # type: ignore[attr-defined]
        if isinstance(event, SubmissionReceived):
            return event.collectivite.code.encode()
        return str(event.collectivite_code).encode()  # type: ignore[attr-defined]


GRILLES = Topic("grilles.v1", "edition", (GrillePublished,))
SUBMISSIONS = Topic("submissions.v1", "collectivite", (SubmissionReceived,))
SCORES = Topic("scores.v1", "collectivite", (SubmissionScored,))
MENTIONS = Topic("mentions.v1", "collectivite", (MentionsDetected,))
JURY = Topic("jury.v1", "collectivite", (JuryDecided,))
PALMARES = Topic("palmares.v1", "edition", (PalmaresPublished,))
NOTIFICATIONS = Topic("notifications.v1", "collectivite", (NotificationSent, NotificationFailed))

ALL_TOPICS: tuple[Topic, ...] = (GRILLES, SUBMISSIONS, SCORES, MENTIONS, JURY, PALMARES, NOTIFICATIONS)

_BY_NAME = {t.name: t for t in ALL_TOPICS}
_BY_EVENT = {event: t for t in ALL_TOPICS for event in t.events}


def topic_named(name: str) -> Topic:
    """The registered topic of that name (KeyError if none)."""
    return _BY_NAME[name]


def topic_of(event: Event | type[Event]) -> Topic:
    """The topic an event (or event class) is published on."""
    cls = event if isinstance(event, type) else type(event)
    return _BY_EVENT[cls]


def _type_name(cls: type[Event]) -> str:
    default = cls.model_fields["event_type"].default
    assert isinstance(default, str)
    return default

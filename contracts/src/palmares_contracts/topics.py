"""The topic registry: each topic bound to its key and its event type(s) (docs/architecture.md, "Topics and events").

`Topic[E]` is generic in the events it carries (a union for `notifications.v1`),
so that the type checker ties a topic to its events everywhere: `key_of` takes
only an event of the topic, `decode(topic, …)` returns one, and a consumer
subscribed to a topic with a handler of another event type is a type error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

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

E = TypeVar("E", bound=Event)


def _type_name(cls: type[Event]) -> str:
    default = cls.model_fields["event_type"].default
    assert isinstance(default, str)
    return default


@dataclass(frozen=True, slots=True)
class Topic(Generic[E]):
    """A Kafka topic, its key (the aggregate id) and the event types it carries."""

    name: str
    key: KeyKind
    events: tuple[type[E], ...]
    # The aggregate id of an event of this topic (a collectivité code, or an edition).
    aggregate_id: Callable[[E], str]
    # `event_class` on every record decoded: a dict, not a scan reading each model's fields.
    _by_type: dict[str, type[E]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_type", {_type_name(e): e for e in self.events})

    @property
    def dlq(self) -> str:
        """The dead-letter topic of this topic."""
        return self.name + DLQ_SUFFIX

    def event_class(self, event_type: str) -> type[E] | None:
        """The model for an `event_type` carried by this topic, if any."""
        return self._by_type.get(event_type)

    def key_of(self, event: E) -> bytes:
        """The partition key of an event: per-collectivité or per-edition ordering."""
        if not isinstance(event, self.events):
            raise TypeError(f"{type(event).__name__} does not belong on {self.name}")
        return self.aggregate_id(event).encode()


def _edition(event: GrillePublished | PalmaresPublished) -> str:
    return str(event.edition)


def _collectivite(
    event: SubmissionScored | MentionsDetected | JuryDecided | NotificationSent | NotificationFailed,
) -> str:
    return event.collectivite_code


def _submitter(event: SubmissionReceived) -> str:
    return event.collectivite.code


Notification = NotificationSent | NotificationFailed
"""The events of `notifications.v1`."""

GRILLES: Topic[GrillePublished] = Topic("grilles.v1", "edition", (GrillePublished,), _edition)
SUBMISSIONS: Topic[SubmissionReceived] = Topic("submissions.v1", "collectivite", (SubmissionReceived,), _submitter)
SCORES: Topic[SubmissionScored] = Topic("scores.v1", "collectivite", (SubmissionScored,), _collectivite)
MENTIONS: Topic[MentionsDetected] = Topic("mentions.v1", "collectivite", (MentionsDetected,), _collectivite)
JURY: Topic[JuryDecided] = Topic("jury.v1", "collectivite", (JuryDecided,), _collectivite)
PALMARES: Topic[PalmaresPublished] = Topic("palmares.v1", "edition", (PalmaresPublished,), _edition)
NOTIFICATIONS: Topic[Notification] = Topic(
    "notifications.v1", "collectivite", (NotificationSent, NotificationFailed), _collectivite
)

ALL_TOPICS: tuple[Topic[Any], ...] = (GRILLES, SUBMISSIONS, SCORES, MENTIONS, JURY, PALMARES, NOTIFICATIONS)

_BY_NAME: dict[str, Topic[Any]] = {t.name: t for t in ALL_TOPICS}
_BY_EVENT: dict[type[Event], Topic[Any]] = {event: t for t in ALL_TOPICS for event in t.events}


def topic_named(name: str) -> Topic[Any]:
    """The registered topic of that name (KeyError if none)."""
    return _BY_NAME[name]


def topic_of(event: Event | type[Event]) -> Topic[Any]:
    """The topic an event (or event class) is published on."""
    cls = event if isinstance(event, type) else type(event)
    return _BY_EVENT[cls]

"""Encoding events to Kafka records and decoding them back, with typed failures.

Decoding failures are *permanent*: the same bytes will never decode. Consumers
dead-letter them with `error_type` and the reason, and keep going.
"""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import ValidationError

from palmares_contracts.events import Event
from palmares_contracts.topics import Topic

EVENT_TYPE_HEADER = "event-type"
SCHEMA_VERSION_HEADER = "schema-version"
# The oldest schema version whose consumers can read the record (an additive version's floor).
COMPATIBLE_SINCE_HEADER = "schema-compatible-since"
CONTENT_TYPE_HEADER = "content-type"
JSON_CONTENT_TYPE = "application/json"

E = TypeVar("E", bound=Event)


class ContractError(Exception):
    """An event that cannot be read under the contracts (permanent)."""

    error_type = "contract"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UndecodableEvent(ContractError):
    """Not UTF-8 JSON of an object."""

    error_type = "undecodable"


class UnknownEventType(ContractError):
    """An event type this topic does not carry."""

    error_type = "unknown-event-type"


class UnsupportedSchemaVersion(ContractError):
    """A schema version newer than the one this consumer knows, and not compatible with it."""

    error_type = "unsupported-schema-version"


class InvalidEvent(ContractError):
    """JSON of the wrong shape for its event type."""

    error_type = "invalid-event"


def encode(event: Event) -> tuple[bytes, dict[str, str]]:
    """The record value and the contract headers of an event."""
    headers = {
        EVENT_TYPE_HEADER: event.event_type,
        SCHEMA_VERSION_HEADER: str(event.schema_version),
        COMPATIBLE_SINCE_HEADER: str(min(type(event).COMPATIBLE_SINCE, event.schema_version)),
        CONTENT_TYPE_HEADER: JSON_CONTENT_TYPE,
    }
    return event.model_dump_json().encode(), headers


def decode(topic: Topic[E], value: bytes | None, headers: dict[str, str] | None = None) -> E:
    """Read a record of `topic` as its event model, or raise a `ContractError`.

    The `event-type` header routes the record when present; otherwise the
    `event_type` field of the JSON does. Unknown fields are ignored. A newer
    `schema_version` than this consumer's is read when the record says it is
    compatible with this consumer's version (`schema-compatible-since`), and
    refused otherwise.
    """
    if not value:
        raise UndecodableEvent("empty record value")
    event_type = (headers or {}).get(EVENT_TYPE_HEADER)
    if event_type is None:
        try:
            document = json.loads(value)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UndecodableEvent(f"not JSON: {exc}") from exc
        if not isinstance(document, dict):
            raise UndecodableEvent("JSON value is not an object")
        event_type = document.get("event_type")
        if not isinstance(event_type, str):
            raise InvalidEvent("missing event_type")
    cls = topic.event_class(event_type)
    if cls is None:
        raise UnknownEventType(f"event type {event_type!r} is not carried by {topic.name}")
    try:
        event = cls.model_validate_json(value)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            raise UndecodableEvent(f"not JSON: {exc.errors()[0]['msg']}") from exc
        raise InvalidEvent(_summarize(exc)) from exc
    if event.event_type != event_type:
        raise InvalidEvent(f"event-type header {event_type!r} differs from body {event.event_type!r}")
    if event.schema_version > cls.SCHEMA_VERSION and not _compatible(headers, cls.SCHEMA_VERSION):
        raise UnsupportedSchemaVersion(
            f"{event_type} schema_version {event.schema_version} > supported {cls.SCHEMA_VERSION}"
            f" and not compatible with it ({COMPATIBLE_SINCE_HEADER}: {(headers or {}).get(COMPATIBLE_SINCE_HEADER)})"
        )
    return event


def _compatible(headers: dict[str, str] | None, known: int) -> bool:
    """Does the record declare itself readable by consumers of version `known`? (No header: no.)"""
    since = (headers or {}).get(COMPATIBLE_SINCE_HEADER, "")
    return since.isdigit() and int(since) <= known


def _summarize(exc: ValidationError, limit: int = 5) -> str:
    parts = [f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()[:limit]]
    more = exc.error_count() - limit
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")

"""Dead letters as the operator sees them (pure: no Kafka here, see `kafka_io`).

A consumer that cannot process a record publishes it to `<topic>.dlq` with the
original key, value and headers byte for byte, plus the reason headers below
(docs/delivery.md, "Failures"; palmares_eventkit.deadletter). Replaying a
dead letter sends the original back to its source topic: same key (so the same
partition and per-collectivité order), same value (so the same `event_id`), the
original headers (so the same trace), without the reason headers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from palmares_contracts import ALL_TOPICS, deadletters
from palmares_contracts.topics import DLQ_SUFFIX

from palmares_cli.errors import OperationFailed, UsageProblem

Headers = tuple[tuple[str, bytes], ...]


def dlq_topic(name: str) -> str:
    """`submissions.v1` or `submissions.v1.dlq` → `submissions.v1.dlq`."""
    name = name.strip()
    if not name:
        raise UsageProblem("empty topic name")
    return name if name.endswith(DLQ_SUFFIX) else name + DLQ_SUFFIX


def default_dlq_topics() -> list[str]:
    """The dead-letter topic of every topic of the registry."""
    return [t.dlq for t in ALL_TOPICS]


def known_dlq_topics() -> set[str]:
    return set(default_dlq_topics())


def decode_text(raw: bytes | None) -> str | None:
    """Header and key bytes as text; bytes that are not UTF-8 are shown as hex, not lost."""
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return "0x" + raw.hex()


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One record of a `<topic>.dlq` topic."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers = ()
    timestamp_ms: int | None = None

    @property
    def position(self) -> str:
        """`partition:offset`, how an operator names a dead letter (`--offset 2:17`)."""
        return f"{self.partition}:{self.offset}"

    def header(self, name: str) -> str | None:
        """The last value of a header (Kafka allows repeats; the reason is added last)."""
        found = None
        for key, value in self.headers:
            if key == name:
                found = value
        return decode_text(found)

    @property
    def source_topic(self) -> str:
        """Where to replay: the `x-source-topic` header, else the DLQ name minus `.dlq`."""
        return self.header(deadletters.SOURCE_TOPIC) or self.topic.removesuffix(DLQ_SUFFIX)

    @property
    def replay_headers(self) -> list[tuple[str, bytes]]:
        """The original headers (contract headers, `traceparent`…) without the reason headers."""
        return [(k, v) for k, v in self.headers if k not in deadletters.REASON_HEADERS]

    def _document(self) -> dict[str, Any] | None:
        if not self.value:
            return None
        try:
            doc = json.loads(self.value)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None
        return doc if isinstance(doc, dict) else None

    @property
    def event_type(self) -> str | None:
        doc = self._document()
        from_body = doc.get("event_type") if doc else None
        return self.header("event-type") or (str(from_body) if from_body is not None else None)

    @property
    def event_id(self) -> str | None:
        """The `event_id` in the value, when it is JSON: the consumers' inbox deduplicates on it."""
        doc = self._document()
        event_id = doc.get("event_id") if doc else None
        return str(event_id) if event_id is not None else None

    def reason(self) -> dict[str, str | None]:
        """The reason headers, by their names (without the `x-` prefix)."""
        return {name.removeprefix("x-"): self.header(name) for name in deadletters.REASON_HEADERS}

    def source(self) -> str:
        """`topic/partition/offset` of the original record, as far as the headers say."""
        parts = [
            self.header(deadletters.SOURCE_TOPIC) or "?",
            self.header(deadletters.SOURCE_PARTITION) or "?",
            self.header(deadletters.SOURCE_OFFSET) or "?",
        ]
        return "/".join(parts)

    def as_json(self) -> dict[str, Any]:
        """Everything about the record, text where it is text (for `--json`)."""
        return {
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "timestamp_ms": self.timestamp_ms,
            "key": decode_text(self.key),
            **{name: self.header(name) for name in deadletters.REASON_HEADERS},
            "event_type": self.event_type,
            "event_id": self.event_id,
            "headers": {k: decode_text(v) for k, v in self.headers},
            "value": decode_text(self.value),
        }


def summary_row(letter: DeadLetter, *, max_error: int = 200) -> dict[str, str]:
    """The columns of `palmares dlq list`, as text."""
    error = letter.header(deadletters.ERROR) or ""
    if len(error) > max_error:
        error = error[: max_error - 1] + "…"
    return {
        "offset": letter.position,
        "key": decode_text(letter.key) or "-",
        "x-error-type": letter.header(deadletters.ERROR_TYPE) or "-",
        "x-error": error or "-",
        "x-source": letter.source(),
        "x-consumer": letter.header(deadletters.CONSUMER) or "-",
    }


@dataclass(frozen=True, slots=True)
class OffsetSpec:
    """`--offset 17` (any partition) or `--offset 2:17` (partition 2)."""

    offset: int
    partition: int | None = None

    def matches(self, letter: DeadLetter) -> bool:
        return letter.offset == self.offset and (self.partition is None or letter.partition == self.partition)

    def __str__(self) -> str:
        return f"{self.partition}:{self.offset}" if self.partition is not None else str(self.offset)


def parse_offset(text: str) -> OffsetSpec:
    try:
        if ":" in text:
            partition, _, offset = text.partition(":")
            spec = OffsetSpec(int(offset), int(partition))
        else:
            spec = OffsetSpec(int(text))
    except ValueError:
        raise UsageProblem(f"--offset {text!r}: expected OFFSET or PARTITION:OFFSET (integers)") from None
    if spec.offset < 0 or (spec.partition is not None and spec.partition < 0):
        raise UsageProblem(f"--offset {text!r}: negative")
    return spec


def select(letters: Sequence[DeadLetter], specs: Iterable[OffsetSpec], *, take_all: bool) -> list[DeadLetter]:
    """The dead letters to replay: all of them, or exactly those named (each name must match one)."""
    specs = list(specs)
    if take_all and specs:
        raise UsageProblem("give either --all or --offset, not both")
    if take_all:
        return list(letters)
    if not specs:
        raise UsageProblem("say which dead letters to replay: --offset [PARTITION:]OFFSET (repeatable) or --all")
    chosen: list[DeadLetter] = []
    for spec in specs:
        found = [letter for letter in letters if spec.matches(letter)]
        if not found:
            raise OperationFailed(f"no dead letter at offset {spec} (see `palmares dlq list`)")
        if len(found) > 1:
            where = ", ".join(letter.position for letter in found)
            raise UsageProblem(f"offset {spec} exists in several partitions ({where}): use PARTITION:OFFSET")
        if found[0] not in chosen:
            chosen.append(found[0])
    return chosen


def source_identity(letter: DeadLetter) -> tuple[object, ...]:
    """What makes two dead letters the same original record.

    Each consumer group dead-letters a bad record on its own, so one record of
    `submissions.v1` can sit three times on `submissions.v1.dlq` (scoring,
    mentions, notify). Its source position identifies it; without the headers,
    its bytes do.
    """
    position = (
        letter.header(deadletters.SOURCE_TOPIC),
        letter.header(deadletters.SOURCE_PARTITION),
        letter.header(deadletters.SOURCE_OFFSET),
    )
    if all(position):
        return position
    return (letter.source_topic, letter.key, letter.value, tuple(letter.replay_headers))


def distinct_sources(letters: Sequence[DeadLetter]) -> tuple[list[DeadLetter], list[DeadLetter]]:
    """(one dead letter per original record, in order; the other copies).

    Replaying sends the record back to its source topic, where every consumer
    group reads it again: one copy per original record is enough.
    """
    seen: set[tuple[object, ...]] = set()
    keep: list[DeadLetter] = []
    copies: list[DeadLetter] = []
    for letter in letters:
        identity = source_identity(letter)
        if identity in seen:
            copies.append(letter)
        else:
            seen.add(identity)
            keep.append(letter)
    return keep, copies

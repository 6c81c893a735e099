"""How a consumer reads a record under the contracts, before any database or broker is involved (pure)."""

from __future__ import annotations

from typing import Any, NoReturn

from aiokafka.structs import ConsumerRecord
from opentelemetry.trace import NoOpTracer
from palmares_contracts import JURY, JuryDecided, encode
from palmares_eventkit.consumer import Consumer
from palmares_eventkit.runtime import Subscription, Tx
from palmares_eventkit.settings import ServiceSettings


async def handler(tx: Tx, event: JuryDecided) -> None: ...


def unused(*_: Any) -> NoReturn:
    raise AssertionError("reading a record touches neither the database nor the broker")


def consumer() -> Consumer[JuryDecided]:
    return Consumer(
        "notify.jury.v1",
        Subscription(JURY, handler),
        transaction=unused,
        dead_letter=unused,
        settings=ServiceSettings(PALMARES_MAX_EVENT_BYTES=2048),
        tracer=NoOpTracer(),
    )


def record(value: bytes | None, headers: list[tuple[str, bytes]] | None = None) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic="jury.v1",
        partition=3,
        offset=41,
        timestamp=0,
        timestamp_type=0,
        key=b"49007",
        value=value,
        checksum=None,
        serialized_key_size=5,
        serialized_value_size=len(value or b""),
        headers=headers or [],
    )


def decision(**overrides: Any) -> JuryDecided:
    fields: dict[str, Any] = {
        "submission_id": "8a3c1c5e-1b9b-4c59-9d2f-7b0a6a1f5f10",
        "edition": 2017,
        "collectivite_code": "49007",
        "arobases": 4,
        "decided_by": "Jury",
    }
    return JuryDecided.model_validate(fields | overrides)


def test_an_event_of_the_topic_is_read_with_its_source() -> None:
    event = decision()
    value, headers = encode(event)
    item = consumer().read(record(value, [(k, v.encode()) for k, v in headers.items()]))
    assert item.event == event and item.failure is None
    assert (item.source.topic, item.source.partition, item.source.offset, item.source.key) == (
        "jury.v1",
        3,
        41,
        b"49007",
    )


def test_what_cannot_be_read_says_why_and_keeps_the_original_bytes() -> None:
    binary = [("trace", b"\xff\xfe")]
    cases = {
        b"\xff not json": "undecodable",
        b'{"event_type": "PalmaresPublished"}': "unknown-event-type",
        encode(decision())[0].replace(b'"arobases":4', b'"arobases":9'): "invalid-event",
        encode(decision(schema_version=7))[0]: "unsupported-schema-version",
        b"{" + b" " * 4096 + b"}": "oversized",
        b"": "undecodable",
    }
    for value, error_type in cases.items():
        item = consumer().read(record(value, binary))
        assert item.event is None
        assert item.failure is not None and item.failure[0] == error_type, (value[:40], item.failure)
        assert item.source.value == value and item.source.headers == (("trace", b"\xff\xfe"),)

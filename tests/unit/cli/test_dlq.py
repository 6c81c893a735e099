"""Dead letters: header formatting, selection of what to replay, and what a replay sends."""

from __future__ import annotations

import json

import pytest
from palmares_cli import dlq, kafka_io
from palmares_cli.dlq import DeadLetter, OffsetSpec, distinct_sources, parse_offset, select, summary_row
from palmares_cli.errors import EXIT_UNREACHABLE, OperationFailed, Unreachable, UsageProblem

TRACEPARENT = b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
EVENT_ID = "5d1e0f3a-7c2b-4b8e-9f10-2a3b4c5d6e7f"


def letter(
    partition: int = 0,
    offset: int = 0,
    consumer: str = "scoring.submissions.v1",
    source_offset: int = 42,
    value: bytes | None = None,
    key: bytes | None = b"49007",
    error: str = "not JSON",
) -> DeadLetter:
    return DeadLetter(
        topic="submissions.v1.dlq",
        partition=partition,
        offset=offset,
        key=key,
        value=value
        if value is not None
        else json.dumps({"event_id": EVENT_ID, "event_type": "SubmissionReceived"}).encode(),
        headers=(
            ("event-type", b"SubmissionReceived"),
            ("schema-version", b"1"),
            ("traceparent", TRACEPARENT),
            ("x-error", error.encode()),
            ("x-error-type", b"invalid-event"),
            ("x-source-topic", b"submissions.v1"),
            ("x-source-partition", b"3"),
            ("x-source-offset", str(source_offset).encode()),
            ("x-consumer", consumer.encode()),
        ),
        timestamp_ms=1_700_000_000_000,
    )


def test_summary_row_formats_the_reason_headers() -> None:
    row = summary_row(letter(partition=2, offset=17))
    assert row == {
        "offset": "2:17",
        "key": "49007",
        "x-error-type": "invalid-event",
        "x-error": "not JSON",
        "x-source": "submissions.v1/3/42",
        "x-consumer": "scoring.submissions.v1",
    }


def test_long_errors_are_cut_for_the_table_but_kept_in_json() -> None:
    long = "submission_id: Field required; " * 40
    assert summary_row(letter(error=long))["x-error"].endswith("…")
    assert len(summary_row(letter(error=long))["x-error"]) == 200
    assert letter(error=long).as_json()["x-error"] == long


def test_binary_keys_and_values_are_shown_as_hex_and_missing_headers_as_dashes() -> None:
    raw = DeadLetter(topic="scores.v1.dlq", partition=0, offset=1, key=b"\xff\x00", value=b"\x80garbage")
    row = summary_row(raw)
    assert row["key"] == "0xff00"
    assert row["x-error-type"] == "-" and row["x-source"] == "?/?/?"
    assert raw.as_json()["value"] == "0x" + b"\x80garbage".hex()
    assert raw.source_topic == "scores.v1"  # without x-source-topic: the DLQ name minus .dlq
    assert raw.event_id is None and raw.event_type is None


def test_json_view_decodes_event_identity() -> None:
    view = letter().as_json()
    assert view["event_id"] == EVENT_ID and view["event_type"] == "SubmissionReceived"
    assert view["x-source-topic"] == "submissions.v1" and view["headers"]["traceparent"] == TRACEPARENT.decode()


def test_replay_keeps_original_headers_and_drops_the_reason() -> None:
    d = letter()
    assert d.source_topic == "submissions.v1"
    assert d.replay_headers == [
        ("event-type", b"SubmissionReceived"),
        ("schema-version", b"1"),
        ("traceparent", TRACEPARENT),
    ]


def test_topic_names_accept_both_spellings() -> None:
    assert dlq.dlq_topic("submissions.v1") == "submissions.v1.dlq"
    assert dlq.dlq_topic("submissions.v1.dlq") == "submissions.v1.dlq"
    assert len(dlq.default_dlq_topics()) == 7 and all(t.endswith(".dlq") for t in dlq.default_dlq_topics())


def test_offsets() -> None:
    assert parse_offset("17") == OffsetSpec(17)
    assert parse_offset("2:17") == OffsetSpec(17, 2)
    for bad in ("x", "1:", "-1", "a:1"):
        with pytest.raises(UsageProblem):
            parse_offset(bad)


def test_selection() -> None:
    letters = [letter(0, 0), letter(1, 0, source_offset=43), letter(1, 1, source_offset=44)]
    assert select(letters, [], take_all=True) == letters
    assert select(letters, [OffsetSpec(1)], take_all=False) == [letters[2]]
    assert select(letters, [OffsetSpec(0, 1), OffsetSpec(0, 1)], take_all=False) == [letters[1]]
    with pytest.raises(UsageProblem, match="several partitions"):
        select(letters, [OffsetSpec(0)], take_all=False)
    with pytest.raises(OperationFailed, match="no dead letter at offset 9"):
        select(letters, [OffsetSpec(9)], take_all=False)
    with pytest.raises(UsageProblem):
        select(letters, [], take_all=False)
    with pytest.raises(UsageProblem):
        select(letters, [OffsetSpec(1)], take_all=True)


def test_one_replay_per_original_record() -> None:
    # scoring, mentions and notify each dead-lettered the same record of submissions.v1.
    copies = [
        letter(0, i, consumer=c)
        for i, c in enumerate(("scoring.submissions.v1", "mentions.submissions.v1", "notify.submissions.v1"))
    ]
    other = letter(0, 3, source_offset=99)
    keep, skipped = distinct_sources([*copies, other])
    assert keep == [copies[0], other]
    assert skipped == copies[1:]


@pytest.mark.parametrize("action", ["list", "replay"])
async def test_a_broker_out_of_reach_is_reported_as_unreachable(closed_port: int, action: str) -> None:
    """Connection refused: exit code 3 and one sentence naming the address, whichever client failed to start."""
    bootstrap = f"127.0.0.1:{closed_port}"
    with pytest.raises(Unreachable, match=f"cannot reach Kafka at {bootstrap}") as caught:
        if action == "list":
            await kafka_io.read_topics(bootstrap, ["submissions.v1.dlq"], timeout_s=30)
        else:
            await kafka_io.replay(bootstrap, [letter()])
    assert caught.value.exit_code == EXIT_UNREACHABLE

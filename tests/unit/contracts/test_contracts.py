"""Contracts: JSON round trips, frozen models, forward compatibility, the topic registry."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import uuid4

import pytest

# From the package root, as the services import them: a name the package stops exporting fails here.
from palmares_contracts import (
    ALL_TOPICS,
    JURY,
    SUBMISSIONS,
    ContractError,
    Event,
    Grille,
    GrilleBody,
    InvalidEvent,
    JuryDecided,
    Mention,
    SubmissionReceived,
    UndecodableEvent,
    UnknownEventType,
    UnsupportedSchemaVersion,
    decode,
    encode,
    topic_of,
)
from pydantic import ValidationError

from tests.factories import grille, one_of_each, submission

EVENTS = one_of_each()


def test_every_registered_event_type_has_a_sample() -> None:
    registered = {cls for t in ALL_TOPICS for cls in t.events}
    assert {type(e) for e in EVENTS} == registered


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.event_type)
def test_json_round_trip(event: Event) -> None:
    value, headers = encode(event)
    assert headers["event-type"] == event.event_type
    assert headers["schema-version"] == str(type(event).SCHEMA_VERSION)
    assert decode(topic_of(event), value, headers) == event
    # Without headers the body's event_type routes the record.
    assert decode(topic_of(event), value) == event


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.event_type)
def test_models_are_frozen(event: Event) -> None:
    with pytest.raises(ValidationError):
        event.schema_version = 3  # type: ignore[misc]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.event_type)
def test_unknown_fields_are_ignored(event: Event) -> None:
    doc = json.loads(encode(event)[0])
    doc["added_in_a_later_version"] = {"anything": [1, 2, 3]}
    assert decode(topic_of(event), json.dumps(doc).encode()) == event


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.event_type)
def test_partition_key_is_the_aggregate(event: Event) -> None:
    topic = topic_of(event)
    key = topic.key_of(event)
    if topic.key == "edition":
        assert key == b"2017"
    else:
        assert key == b"49007"


def test_every_topic_has_a_dead_letter_topic() -> None:
    names = [t.name for t in ALL_TOPICS]
    assert names == [
        "grilles.v1",
        "submissions.v1",
        "scores.v1",
        "mentions.v1",
        "jury.v1",
        "palmares.v1",
        "notifications.v1",
    ]
    assert all(t.dlq == t.name + ".dlq" for t in ALL_TOPICS)


@pytest.mark.parametrize(
    ("value", "headers", "error"),
    [
        (b"", None, UndecodableEvent),
        (b"\xff\xfe garbage", None, UndecodableEvent),
        (b"[1, 2]", None, UndecodableEvent),
        (b'{"no": "type"}', None, InvalidEvent),
        (b'{"event_type": "SubmissionScored"}', None, UnknownEventType),
        (b'{"event_type": "SubmissionReceived", "revision": 0}', None, InvalidEvent),
        (b"{not json", {"event-type": "SubmissionReceived"}, UndecodableEvent),
    ],
)
def test_bad_records_raise_typed_errors(
    value: bytes, headers: dict[str, str] | None, error: type[ContractError]
) -> None:
    with pytest.raises(error) as info:
        decode(SUBMISSIONS, value, headers)
    assert info.value.reason


def test_future_schema_version_is_refused() -> None:
    doc = json.loads(encode(submission())[0])
    doc["schema_version"] = 2
    with pytest.raises(UnsupportedSchemaVersion):
        decode(SUBMISSIONS, json.dumps(doc).encode())
    # A newer version that declares itself incompatible with this consumer's.
    with pytest.raises(UnsupportedSchemaVersion):
        decode(SUBMISSIONS, json.dumps(doc).encode(), {"schema-compatible-since": "2"})


def test_an_additive_version_is_read_by_older_consumers() -> None:
    """Version 2 with a new field, compatible since version 1: a version-1 consumer reads it, ignoring the field."""
    value, headers = encode(submission())
    assert headers["schema-compatible-since"] == "1"
    doc = {**json.loads(value), "schema_version": 2, "canal": "portail"}
    event = decode(SUBMISSIONS, json.dumps(doc).encode(), {**headers, "schema-version": "2"})
    assert isinstance(event, SubmissionReceived) and event.schema_version == 2
    with pytest.raises(UnsupportedSchemaVersion):  # an unreadable floor is no promise
        decode(SUBMISSIONS, json.dumps(doc).encode(), {**headers, "schema-compatible-since": "un"})


def test_header_and_body_types_must_agree() -> None:
    value, _ = encode(submission())
    with pytest.raises(UnknownEventType):
        decode(SUBMISSIONS, value, {"event-type": "MentionsDetected"})


def test_timestamps_are_timezone_aware() -> None:
    doc = json.loads(encode(submission())[0])
    doc["submitted_at"] = "2016-11-20T10:30:00"  # naive: ambiguous, refused
    with pytest.raises(InvalidEvent):
        decode(SUBMISSIONS, json.dumps(doc).encode())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"services": [{"code": "x", "label": "X", "enjeu": "inconnu", "weight": 1}]}, "unknown enjeu"),
        ({"thresholds": [{"arobases": 1, "min_score": 5}]}, "every participant gets 1 @"),
        ({"thresholds": [{"arobases": 1, "min_score": 0}, {"arobases": 3, "min_score": 10}]}, "without gaps"),
        ({"thresholds": [{"arobases": 1, "min_score": 0}, {"arobases": 2, "min_score": 0}]}, "increase"),
        ({"mentions": [{"code": "m", "label": "M", "service_codes": ["nope"]}]}, "unknown services"),
        (
            {
                "mentions": [
                    {
                        "code": "m",
                        "label": "M",
                        "service_codes": ["portail_open_data"],
                        "sufficient_services": ["etat_civil_en_ligne"],
                    }
                ]
            },
            "not among its service_codes",
        ),
    ],
)
def test_grille_invariants(change: dict[str, object], message: str) -> None:
    body = grille().model_dump(mode="json", exclude={"version"})
    body.update(change)
    with pytest.raises(ValidationError, match=message):
        GrilleBody.model_validate(body)


def test_default_deadline_is_30_november_before_the_edition() -> None:
    assert str(grille(edition=2018).effective_deadline) == "2017-11-30"


def test_jury_decided_version_2_carries_the_jurys_mentions_and_version_1_still_reads() -> None:
    """JuryDecided 2 adds `revision` and `mentions` (optional); a version 1 record decodes with both None."""
    decided = JuryDecided(
        submission_id=uuid4(),
        edition=2018,
        collectivite_code="49007",
        arobases=4,
        decided_by="Jury 2018",
        revision=2,
        mentions=(Mention(code="open-data", label="Données ouvertes"),),
    )
    value, headers = encode(decided)
    assert headers["schema-version"] == "2"
    assert headers["schema-compatible-since"] == "2", "version-1 consumers would misread it: they refuse it"
    assert decode(JURY, value, headers) == decided
    v1 = json.loads(value)
    for added in ("revision", "mentions"):
        del v1[added]
    v1["schema_version"] = 1
    old = decode(JURY, json.dumps(v1).encode(), {**headers, "schema-version": "1"})
    assert isinstance(old, JuryDecided)
    assert old.mentions is None and old.revision is None and old.arobases == 4
    v1["schema_version"] = 3
    with pytest.raises(UnsupportedSchemaVersion):
        decode(JURY, json.dumps(v1).encode())


def test_grille_closes_at_is_an_optional_instant() -> None:
    body = grille(edition=2018).model_dump(mode="json")
    assert Grille.model_validate(body).closes_at is None
    closed = Grille.model_validate({**body, "closes_at": "2017-11-30T18:00:00+01:00"})
    assert closed.closes_at == datetime(2017, 11, 30, 17, 0, tzinfo=UTC)
    with pytest.raises(ValidationError):
        Grille.model_validate({**body, "closes_at": "2017-11-30T18:00:00"})  # an instant needs its offset

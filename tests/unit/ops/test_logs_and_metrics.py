"""JSON logs (level from PALMARES_LOG_LEVEL, trace ids inside handlers) and the metrics module, without servers."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from aiokafka import TopicPartition
from faststream.kafka import KafkaBroker, TestKafkaBroker
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from opentelemetry.sdk.trace import TracerProvider
from palmares_contracts import MentionsDetected, SubmissionReceived, SubmissionScored, encode
from palmares_eventkit import lag, metrics, telemetry
from palmares_eventkit.logs import setup_logging
from palmares_eventkit.published import PublishedEvents
from palmares_eventkit.settings import ServiceSettings
from palmares_mentions import metrics as mentions_metrics
from palmares_scoring import metrics as scoring_metrics
from palmares_submission import metrics as submission_metrics
from prometheus_client import REGISTRY, CollectorRegistry

from tests.factories import one_of_each

DOSSIER_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{DOSSIER_TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """setup_logging replaces the root handlers (pytest's included): put them back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_level_comes_from_palmares_log_level(
    restore_logging: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PALMARES_LOG_LEVEL", "warning")
    settings = ServiceSettings()
    setup_logging("scoring", settings.log_level)
    log = logging.getLogger("palmares.test")
    log.info("not shown at WARNING")
    log.warning("shown", extra={"consumer": "scoring.submissions.v1"})
    lines = json_lines(capsys.readouterr().err)
    assert [line["message"] for line in lines] == ["shown"]
    assert lines[0]["level"] == "WARNING" and lines[0]["service"] == "scoring"
    assert lines[0]["consumer"] == "scoring.submissions.v1"
    assert lines[0]["trace_id"] is None  # outside any span


async def test_a_log_line_inside_a_handler_carries_the_trace_id_of_the_dossier(
    restore_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """The runtime's set-up: FastStream's telemetry middleware continues the dossier's trace from its headers."""
    setup_logging("scoring", "INFO")
    broker = KafkaBroker(middlewares=[KafkaTelemetryMiddleware(tracer_provider=TracerProvider())])
    log = logging.getLogger("palmares.scoring.handler")

    @broker.subscriber("submissions.v1", group_id="scoring.submissions.v1")
    async def handle(body: dict[str, str]) -> None:
        log.info("dossier evaluated", extra={"submission_id": "s-1"})

    sender = TracerProvider().get_tracer("palmares.submission")
    async with TestKafkaBroker(broker) as test_broker:
        # The submission service sends the event inside the dossier's trace (its outbox relay restores it).
        with sender.start_as_current_span(
            "submissions.v1 publish", context=telemetry.extract({"traceparent": TRACEPARENT})
        ):
            await test_broker.publish({}, "submissions.v1")
    lines = [line for line in json_lines(capsys.readouterr().err) if line["message"] == "dossier evaluated"]
    assert len(lines) == 1
    assert lines[0]["trace_id"] == DOSSIER_TRACE_ID
    assert lines[0]["span_id"] not in (None, "00f067aa0ba902b7")  # the handler's own span, child of the sender's


# ------------------------------------------------------------------ metrics


def sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_business_counters_count_the_events_that_left() -> None:
    """Each service observes its own published events (the runtime calls them once Kafka acked the rows)."""
    events = {type(e).__name__: e for e in one_of_each()}
    received, scored, mentions = (
        events["SubmissionReceived"],
        events["SubmissionScored"],
        events["MentionsDetected"],
    )
    assert isinstance(scored, SubmissionScored)
    watched = {
        ("palmares_dossiers_received_total", (("edition", "2017"),)): 1,
        ("palmares_dossiers_scored_total", (("edition", "2017"), ("arobases", str(scored.arobases)))): 1,
        ("palmares_mentions_detected_total", (("mention", "gouvernement_ouvert"),)): 1,
        ("palmares_events_emitted_total", (("event_type", "unknown"),)): 1,
        ("palmares_events_emitted_total", (("event_type", "SubmissionScored"),)): 2,
    }
    before = {key: sample(key[0], dict(key[1])) for key in watched}
    published = PublishedEvents()
    published.observe(SubmissionReceived, submission_metrics.count_received)
    published.observe(SubmissionScored, scoring_metrics.count)
    published.observe(MentionsDetected, mentions_metrics.count)
    rows = []
    for event, topic in ((received, "submissions.v1"), (scored, "scores.v1"), (mentions, "mentions.v1")):
        value, headers = encode(event)
        rows.append({"topic": topic, "value": value, "headers": json.dumps(headers)})
    rows.append({"topic": "scores.v1", "value": b"not json", "headers": "{}"})  # never breaks the relay
    # Counted as emitted, but not as scored: it does not decode.
    rows.append({"topic": "scores.v1", "value": b"{}", "headers": json.dumps({"event-type": "SubmissionScored"})})
    published(rows)
    for key, added in watched.items():
        assert sample(key[0], dict(key[1])) == before[key] + added, key


def test_an_observer_that_fails_never_breaks_the_relay() -> None:
    published = PublishedEvents()
    seen: list[SubmissionScored] = []

    def broken(event: SubmissionScored) -> None:
        seen.append(event)
        raise RuntimeError("a bug in a metric")

    published.observe(SubmissionScored, broken)
    scored = next(e for e in one_of_each() if isinstance(e, SubmissionScored))
    value, headers = encode(scored)
    published([{"topic": "scores.v1", "value": value, "headers": json.dumps(headers)}] * 2)
    assert seen == [scored, scored]


def test_lag_is_end_minus_committed_per_group_and_partition() -> None:
    groups = {"scoring.submissions.v1": ["submissions.v1"], "scoring.grilles.v1": ["grilles.v1"]}
    partitions = {"submissions.v1": [0, 1], "grilles.v1": [0]}
    committed = {"scoring.submissions.v1": {TopicPartition("submissions.v1", 0): 7}}
    ends = {
        TopicPartition("submissions.v1", 0): 10,
        TopicPartition("submissions.v1", 1): 4,
        TopicPartition("grilles.v1", 0): 2,
    }
    lags = {(x.group, x.topic, x.partition): x.lag for x in lag.compute_lag(groups, partitions, committed, ends)}
    assert lags == {
        ("scoring.submissions.v1", "submissions.v1", 0): 3,
        ("scoring.submissions.v1", "submissions.v1", 1): 4,  # never committed: all of it
        ("scoring.grilles.v1", "grilles.v1", 0): 2,
    }
    lag.publish_lag(lag.compute_lag(groups, partitions, committed, ends))
    labels = {"group": "scoring.submissions.v1", "topic": "submissions.v1", "partition": "0"}
    assert sample("palmares_consumer_lag", labels) == 3
    assert sample("palmares_consumer_committed_offset", labels) == 7
    assert sample("palmares_consumer_end_offset", labels) == 10


def test_consumer_groups_come_from_the_broker_subscribers() -> None:
    broker = KafkaBroker()

    @broker.subscriber("scores.v1", group_id="notify.scores.v1")
    async def on_scores(body: bytes) -> None: ...

    @broker.subscriber("other", group_id=None)
    async def ungrouped(body: bytes) -> None: ...

    assert lag.consumer_groups(broker) == {"notify.scores.v1": ["scores.v1"]}


def test_the_faststream_middleware_is_labelled_with_the_service() -> None:
    registry = CollectorRegistry()
    middleware = metrics.broker_middleware("scoring", registry=registry)
    assert isinstance(middleware, KafkaPrometheusMiddleware)


def test_lag_interval_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(lag.LAG_INTERVAL_ENV, "1.5")
    assert lag.lag_interval_s() == 1.5
    monkeypatch.setenv(lag.LAG_INTERVAL_ENV, "nonsense")
    assert lag.lag_interval_s() == lag.DEFAULT_LAG_INTERVAL_S


def test_partitions_come_from_the_admin_clients_description_of_the_topics() -> None:
    described = [
        {"error_code": 0, "topic": "scores.v1", "partitions": [{"partition": 1}, {"partition": 0}]},
        {"error_code": 3, "topic": "missing.v1", "partitions": []},  # UNKNOWN_TOPIC_OR_PARTITION
    ]
    assert lag.partitions_of(described) == {"scores.v1": [0, 1]}

"""Prometheus metrics of a Palmarès service, beyond the ones its modules define themselves.

Every service serves `/metrics` from prometheus_client's default registry. It holds:

- FastStream's Kafka middleware metrics (`faststream_received_messages_total`,
  `faststream_received_processed_messages_duration_seconds`, …), labelled by
  `app_name` = the service (`broker_middleware`);
- business counters, counted when the event has left the service (Kafka acked
  the outbox row, `MeteredOutboxRelay`), so a rolled-back transaction counts nothing:
  `palmares_dossiers_received_total{edition}` (submission: a dossier or a
  revision accepted), `palmares_dossiers_scored_total{edition,arobases}`
  (scoring), `palmares_mentions_detected_total{mention}` (mentions: one per
  mention found in a dossier evaluation), `palmares_events_emitted_total{event_type}`;
- consumer lag per group and partition: `palmares_consumer_lag{group,topic,partition}`
  (end offset − committed offset), `palmares_consumer_committed_offset` and
  `palmares_consumer_end_offset`, refreshed every `PALMARES_LAG_INTERVAL_S`
  seconds (default 5) by a background task (`consumer_lag_loop`) of each service;
- and the counters already defined next to the code they count:
  `palmares_emails_total{kind,outcome}` (notify: outcome `sent`, `failed`,
  `retry`), `palmares_dead_letters_total{topic,error_type}`,
  `palmares_events_consumed_total{consumer,outcome}`,
  `palmares_outbox_published_total{topic}`, `palmares_outbox_backlog`.

Nothing here runs at import: the counters are registered (as every
prometheus_client metric is), the lag task starts only with the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from palmares_contracts import ContractError, MentionsDetected, SubmissionReceived, SubmissionScored, decode
from palmares_contracts.topics import topic_named
from palmares_eventkit import kafka_security
from palmares_eventkit.outbox import OutboxRelay
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge

if TYPE_CHECKING:
    import asyncpg
    from palmares_eventkit.runtime import ServiceRuntime

log = logging.getLogger(__name__)

LAG_INTERVAL_ENV = "PALMARES_LAG_INTERVAL_S"
DEFAULT_LAG_INTERVAL_S = 5.0

DOSSIERS_RECEIVED = Counter(
    "palmares_dossiers_received_total", "Dossiers (and revisions) accepted and published", ["edition"]
)
DOSSIERS_SCORED = Counter(
    "palmares_dossiers_scored_total", "Dossier evaluations published by scoring", ["edition", "arobases"]
)
MENTIONS_DETECTED = Counter(
    "palmares_mentions_detected_total", "Mentions found in published dossier evaluations", ["mention"]
)
EVENTS_EMITTED = Counter("palmares_events_emitted_total", "Events relayed to Kafka, by type", ["event_type"])

CONSUMER_LAG = Gauge(
    "palmares_consumer_lag",
    "Records not yet committed by the consumer group: end offset minus committed offset",
    ["group", "topic", "partition"],
)
COMMITTED_OFFSET = Gauge(
    "palmares_consumer_committed_offset", "Last committed offset of the group", ["group", "topic", "partition"]
)
END_OFFSET = Gauge("palmares_consumer_end_offset", "End offset (next offset written)", ["group", "topic", "partition"])
LAG_LAST_SUCCESS = Gauge("palmares_consumer_lag_last_success_seconds", "Unix time of the last lag measurement")


def broker_middleware(service: str, registry: CollectorRegistry = REGISTRY) -> KafkaPrometheusMiddleware:
    """FastStream's Prometheus middleware for the service's broker (counts and durations per handler)."""
    return KafkaPrometheusMiddleware(registry=registry, app_name=service, metrics_prefix="faststream")


# --- business counters ------------------------------------------------------------------------------


def observe_event(topic: str, value: bytes, headers: Mapping[str, str]) -> None:
    """Count one event that left the service (called once Kafka acknowledged it)."""
    event_type = headers.get("event-type", "unknown")
    EVENTS_EMITTED.labels(event_type).inc()
    if event_type not in ("SubmissionReceived", "SubmissionScored", "MentionsDetected"):
        return
    try:
        event = decode(topic_named(topic), value, dict(headers))
    except (ContractError, KeyError):
        return  # not ours to judge here; consumers dead-letter it
    if isinstance(event, SubmissionReceived):
        DOSSIERS_RECEIVED.labels(str(event.edition)).inc()
    elif isinstance(event, SubmissionScored):
        DOSSIERS_SCORED.labels(str(event.edition), str(event.arobases)).inc()
    elif isinstance(event, MentionsDetected):
        for mention in event.mentions:
            MENTIONS_DETECTED.labels(mention.code).inc()


def observe_rows(rows: Iterable[Mapping[str, Any]]) -> None:
    """Count outbox rows (`topic`, `value`, `headers` as stored: JSON text) after their publication."""
    for row in rows:
        try:
            headers = row["headers"]
            parsed = json.loads(headers) if isinstance(headers, str | bytes) else dict(headers or {})
            observe_event(row["topic"], bytes(row["value"]), {str(k): str(v) for k, v in parsed.items()})
        except Exception:  # metrics never break the relay
            log.debug("event not counted", exc_info=True)


class MeteredOutboxRelay(OutboxRelay):
    """The outbox relay, counting the business events it published (after Kafka's ack, before the delete)."""

    async def _publish(self, rows: Sequence[asyncpg.Record]) -> None:
        await super()._publish(rows)
        observe_rows(rows)


def observe_handled(consumer: str, event: Any) -> None:
    """Called by the runtime right after a handler applied an event, inside the event's span.

    A DEBUG line (`PALMARES_LOG_LEVEL=DEBUG`) that carries the dossier's trace id,
    so an operator can go from a trace to the logs of every service that worked on it.
    """
    if log.isEnabledFor(logging.DEBUG):
        submission_id = getattr(event, "submission_id", None)
        log.debug(
            "event handled",
            extra={
                "consumer": consumer,
                "event_type": getattr(event, "event_type", type(event).__name__),
                "event_id": str(getattr(event, "event_id", "")),
                "submission_id": str(submission_id) if submission_id is not None else None,
            },
        )


# --- consumer lag -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartitionLag:
    """One partition of one consumer group."""

    group: str
    topic: str
    partition: int
    committed: int | None
    end: int

    @property
    def lag(self) -> int:
        # Never committed: everything from the start of the log is behind (a new group reads from `earliest`).
        return max(0, self.end - (self.committed if self.committed is not None else 0))


def consumer_groups(broker: Any) -> dict[str, list[str]]:
    """`group_id -> topics` of a FastStream broker's subscribers (those with a group)."""
    groups: dict[str, list[str]] = {}
    for subscriber in getattr(broker, "subscribers", ()):
        group = getattr(subscriber, "group_id", None)
        if group:
            groups.setdefault(group, []).extend(getattr(subscriber, "topic_names", ()))
    return groups


def compute_lag(
    groups: Mapping[str, Sequence[str]],
    partitions: Mapping[str, Sequence[int]],
    committed: Mapping[str, Mapping[TopicPartition, int]],
    ends: Mapping[TopicPartition, int],
) -> list[PartitionLag]:
    """Lag of every (group, partition) of the topics each group reads (pure: tested without Kafka)."""
    found = []
    for group, topics in groups.items():
        offsets = committed.get(group, {})
        for topic in topics:
            for partition in partitions.get(topic, ()):
                tp = TopicPartition(topic, partition)
                if tp not in ends:
                    continue
                position = offsets.get(tp)
                found.append(
                    PartitionLag(
                        group, topic, partition, position if position is not None and position >= 0 else None, ends[tp]
                    )
                )
    return found


def publish_lag(lags: Iterable[PartitionLag]) -> None:
    for item in lags:
        labels = (item.group, item.topic, str(item.partition))
        CONSUMER_LAG.labels(*labels).set(item.lag)
        END_OFFSET.labels(*labels).set(item.end)
        COMMITTED_OFFSET.labels(*labels).set(item.committed if item.committed is not None else -1)


class LagProbe:
    """Reads committed and end offsets of a set of consumer groups (an admin client and a group-less consumer)."""

    def __init__(self, bootstrap_servers: str, client_kwargs: Mapping[str, Any] | None = None) -> None:
        kwargs = dict(client_kwargs or {})
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="palmares-lag", **kwargs)
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers, client_id="palmares-lag", enable_auto_commit=False, **kwargs
        )

    async def start(self) -> None:
        await self._admin.start()
        await self._consumer.start()

    async def stop(self) -> None:
        try:
            await self._consumer.stop()
        finally:
            await self._admin.close()

    async def measure(self, groups: Mapping[str, Sequence[str]]) -> list[PartitionLag]:
        topics = sorted({t for ts in groups.values() for t in ts})
        partitions: dict[str, list[int]] = {}
        for topic in topics:
            found = self._consumer.partitions_for_topic(topic)
            if found is None:
                await self._consumer._client.force_metadata_update()
                found = self._consumer.partitions_for_topic(topic)
            partitions[topic] = sorted(found or ())
        every = [TopicPartition(t, p) for t in topics for p in partitions[t]]
        ends = await self._consumer.end_offsets(every) if every else {}
        committed: dict[str, dict[TopicPartition, int]] = {}
        for group in groups:
            offsets = await self._admin.list_consumer_group_offsets(group)
            committed[group] = {tp: meta.offset for tp, meta in offsets.items()}
        return compute_lag(groups, partitions, committed, ends)


def lag_interval_s() -> float:
    try:
        value = float(os.environ.get(LAG_INTERVAL_ENV, DEFAULT_LAG_INTERVAL_S))
    except ValueError:
        return DEFAULT_LAG_INTERVAL_S
    return value if value > 0 else DEFAULT_LAG_INTERVAL_S


async def consumer_lag_loop(runtime: ServiceRuntime) -> None:
    """Background task of a service: measure its groups' lag every `PALMARES_LAG_INTERVAL_S` seconds."""
    groups = consumer_groups(runtime.broker)
    if not groups:
        return
    interval = lag_interval_s()
    probe = LagProbe(runtime.settings.kafka_bootstrap_servers, kafka_security.client_kwargs(runtime.settings))
    await probe.start()
    try:
        while not runtime.stopping.is_set():
            try:
                publish_lag(await probe.measure(groups))
                LAG_LAST_SUCCESS.set(time.time())
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("consumer lag not measured", extra={"error": str(exc)})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(runtime.stopping.wait(), interval)
    finally:
        await probe.stop()

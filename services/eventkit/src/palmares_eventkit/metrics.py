"""Prometheus metrics of the runtime (what any service built on it reports).

Every service serves `/metrics` from prometheus_client's default registry. The
runtime puts there:

- FastStream's Kafka middleware metrics (`faststream_received_messages_total`,
  `faststream_received_processed_messages_duration_seconds`, …), labelled by
  `app_name` = the service (`broker_middleware`);
- `palmares_events_consumed_total{consumer,outcome}` (outcome `processed`,
  `duplicate`, `dead-lettered`) and `palmares_events_emitted_total{event_type}`
  (events the outbox relay published, counted once Kafka acked them);
- beside the code they count: `palmares_dead_letters_total{topic,error_type}`
  (`deadletter`), `palmares_outbox_published_total{topic}` and
  `palmares_outbox_backlog` (`outbox`), the consumer lag (`lag`).

A service's business counters (dossiers received, scored, mentions found)
are its own: it declares them and counts the events it published through
`ServiceRuntime.on_published` (`published`).
"""

from __future__ import annotations

from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import REGISTRY, CollectorRegistry, Counter

EVENTS_CONSUMED = Counter("palmares_events_consumed_total", "Records consumed, by outcome", ["consumer", "outcome"])
EVENTS_EMITTED = Counter("palmares_events_emitted_total", "Events relayed to Kafka, by type", ["event_type"])


def broker_middleware(service: str, registry: CollectorRegistry = REGISTRY) -> KafkaPrometheusMiddleware:
    """FastStream's Prometheus middleware for the service's broker (counts and durations per handler)."""
    return KafkaPrometheusMiddleware(registry=registry, app_name=service, metrics_prefix="faststream")

"""Composition root of the mentions service: the shared dossier evaluator around its pure domain."""

from __future__ import annotations

from faststream.asgi import AsgiFastStream
from palmares_contracts import MentionsDetected
from palmares_evaluation.evaluator import DossierEvaluator, evaluation_migrations
from palmares_eventkit.lifecycle import ProducerFactory
from palmares_eventkit.producer import kafka_producer
from palmares_eventkit.runtime import ServiceRuntime
from palmares_eventkit.settings import ServiceSettings

from palmares_mentions import metrics
from palmares_mentions.handlers import evaluate

SERVICE = "mentions"


def create_runtime(
    settings: ServiceSettings | None = None, *, producer: ProducerFactory = kafka_producer
) -> ServiceRuntime:
    evaluator = DossierEvaluator(SERVICE, evaluate)
    runtime = ServiceRuntime(
        SERVICE, evaluation_migrations(), settings, subscriptions=evaluator.subscriptions(), producer=producer
    )
    runtime.on_published(MentionsDetected, metrics.count)
    return runtime


def create_app(settings: ServiceSettings | None = None) -> AsgiFastStream:
    return create_runtime(settings).asgi_app()

"""Composition root of the mentions service: the shared dossier evaluator around its pure domain."""

from __future__ import annotations

from faststream.asgi import AsgiFastStream
from palmares_contracts import MentionsDetected
from palmares_evaluation.evaluator import evaluation_runtime
from palmares_eventkit.cluster import Cluster
from palmares_eventkit.runtime import ServiceRuntime
from palmares_eventkit.settings import ServiceSettings

from palmares_mentions import metrics
from palmares_mentions.handlers import evaluate

SERVICE = "mentions"


def create_runtime(settings: ServiceSettings | None = None, *, cluster: Cluster | None = None) -> ServiceRuntime:
    runtime = evaluation_runtime(SERVICE, evaluate, settings, cluster=cluster)
    runtime.on_published(MentionsDetected, metrics.count)
    return runtime


def create_app(settings: ServiceSettings | None = None) -> AsgiFastStream:
    return create_runtime(settings).asgi_app()

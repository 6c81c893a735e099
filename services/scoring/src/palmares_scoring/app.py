"""Composition root of the scoring service."""

from __future__ import annotations

from faststream.asgi import AsgiFastStream
from palmares_eventkit.evaluator import DossierEvaluator, evaluator_migrations
from palmares_eventkit.runtime import ServiceRuntime
from palmares_eventkit.settings import ServiceSettings

from palmares_scoring.handlers import evaluate

SERVICE = "scoring"


def create_runtime(settings: ServiceSettings | None = None) -> ServiceRuntime:
    runtime = ServiceRuntime(SERVICE, evaluator_migrations(), settings)
    DossierEvaluator(SERVICE, evaluate).register(runtime)
    return runtime


def create_app(settings: ServiceSettings | None = None) -> AsgiFastStream:
    return create_runtime(settings).asgi_app()

"""Composition root of the scoring service: the shared dossier evaluator around its pure domain."""

from __future__ import annotations

from faststream.asgi import AsgiFastStream
from palmares_eventkit.evaluator import evaluator_runtime
from palmares_eventkit.runtime import ServiceRuntime
from palmares_eventkit.settings import ServiceSettings

from palmares_scoring.handlers import evaluate

SERVICE = "scoring"


def create_runtime(settings: ServiceSettings | None = None) -> ServiceRuntime:
    return evaluator_runtime(SERVICE, evaluate, settings)


def create_app(settings: ServiceSettings | None = None) -> AsgiFastStream:
    return create_runtime(settings).asgi_app()

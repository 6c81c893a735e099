"""Composition root of the submission service: FastAPI app + FastStream broker side by side."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from palmares_eventkit.db import load_migrations
from palmares_eventkit.runtime import ServiceRuntime
from prometheus_client import make_asgi_app

from palmares_submission import api, consumers, errors
from palmares_submission.settings import SubmissionSettings

SERVICE = "submission"


def create_runtime(settings: SubmissionSettings) -> ServiceRuntime:
    runtime = ServiceRuntime(
        SERVICE, load_migrations(SERVICE, resources.files("palmares_submission") / "migrations"), settings
    )
    consumers.register(runtime)
    return runtime


def create_app(settings: SubmissionSettings | None = None) -> FastAPI:
    """The HTTP API; its lifespan starts the runtime (database, outbox relay) and the broker."""
    settings = settings or SubmissionSettings()  # type: ignore[call-arg]
    runtime = create_runtime(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        await runtime.broker.start()
        try:
            yield
        finally:
            await runtime.broker.stop()
            await runtime.stop()

    app = FastAPI(
        title="Palmarès — API de dépôt",
        version="1.0.0",
        description=(
            "Dépôt des dossiers du label Territoires, Villes et Villages Internet, "
            "suivi de leur évaluation, et opérations du label (grille, jury, palmarès)."
        ),
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.settings = settings
    errors.install(app)
    app.include_router(api.router)
    app.include_router(api.page_router)

    @app.get("/health", tags=["probes"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready", tags=["probes"])
    async def ready(request: Request) -> Any:
        checks = await runtime.ready()
        ok = all(checks.values())
        return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)

    app.mount("/metrics", make_asgi_app())
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=runtime.tracer_provider,
        excluded_urls="health,ready,metrics",
        exclude_spans=["receive", "send"],
    )
    return app

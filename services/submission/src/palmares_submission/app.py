"""Composition root of the submission service: FastAPI app + FastStream broker side by side."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from palmares_contracts import SubmissionReceived
from palmares_eventkit.cluster import Cluster
from palmares_eventkit.db import load_migrations
from palmares_eventkit.runtime import ServiceRuntime
from prometheus_client import make_asgi_app
from pydantic import BaseModel

from palmares_submission import (
    api,
    catalogue,
    catalogue_api,
    coalesce,
    consumers,
    errors,
    memory,
    metrics,
    observatoire_api,
    progress,
    tendances_api,
)
from palmares_submission.body_limit import BodySizeLimit
from palmares_submission.query_guard import QueryTextGuard
from palmares_submission.ratelimit import TokenRateLimiter
from palmares_submission.service import commands
from palmares_submission.settings import SubmissionSettings
from palmares_submission.web import routes as web_routes
from palmares_submission.web.context import Espaces
from palmares_submission.web.protection import SecurityHeaders

SERVICE = "submission"

SENSITIVE_HEADERS = ["authorization", "cookie", "set-cookie", "proxy-authorization", "idempotency-key"]


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, bool]


def create_runtime(settings: SubmissionSettings, *, cluster: Cluster | None = None) -> ServiceRuntime:
    """The service's runtime: its schema's migrations and its table of subscriptions (`consumers.SUBSCRIPTIONS`)."""
    runtime = ServiceRuntime(
        SERVICE,
        load_migrations(SERVICE, resources.files("palmares_submission") / "migrations"),
        settings,
        subscriptions=consumers.SUBSCRIPTIONS,
        cluster=cluster,
    )
    runtime.on_published(SubmissionReceived, metrics.count_received)
    runtime.add_background("catalogue-builder", build_requested_catalogues)
    return runtime


CATALOGUE_CHECK_S = 10.0


async def build_requested_catalogues(runtime: ServiceRuntime) -> None:
    """Build the catalogues a publication asked for and no request built (its process stopped, the build failed).

    At start, then every `CATALOGUE_CHECK_S`: the publication's request builds
    its catalogue itself right after its commit, so this is seldom needed.
    """
    while not runtime.stopping.is_set():
        await build_requested(runtime)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(runtime.stopping.wait(), CATALOGUE_CHECK_S)


async def build_requested(runtime: ServiceRuntime) -> list[int]:
    """One pass of `build_requested_catalogues`: the editions whose catalogue it built."""
    async with runtime.pool.acquire() as conn:
        editions = await catalogue.requested(conn)
    built = []
    for edition in editions:
        async with catalogue.build_slot():
            done = await commands.run(runtime.transaction, functools.partial(commands.build_catalogue, edition=edition))
        if done.actions is not None:
            built.append(edition)
    return built


def http_app(lifespan: Any = None) -> FastAPI:
    """The routes, probes and error handlers, without runtime: what the OpenAPI document describes."""
    app = FastAPI(
        title="Palmarès — API de dépôt",
        version="1.0.0",
        description=(
            "Dépôt des dossiers du label Territoires, Villes et Villages Internet, "
            "suivi de leur évaluation, et opérations du label (grille, jury, palmarès)."
        ),
        lifespan=lifespan,
    )
    errors.install(app)
    # The public palmarès's builds (api.public_palmares); what each freed goes back to the system.
    app.state.public_palmares = coalesce.Coalescer(after_each=memory.give_back)
    app.add_middleware(QueryTextGuard)  # before authentication, the rate limit and every route
    app.include_router(api.router)
    app.include_router(progress.router)
    app.include_router(api.page_router)
    app.include_router(catalogue_api.router)
    app.include_router(catalogue_api.page_router)
    app.include_router(observatoire_api.router)
    app.include_router(observatoire_api.page_router)
    app.include_router(tendances_api.router)
    web_routes.include(app)
    app.mount("/espace/static", StaticFiles(packages=[("palmares_submission.web", "static")]), name="espace-static")

    @app.get("/health", tags=["probes"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/ready",
        tags=["probes"],
        responses={
            200: {"model": Readiness, "description": "Prêt"},
            503: {"model": Readiness, "description": "Pas prêt : base, broker ou relais indisponible"},
        },
    )
    async def ready(request: Request) -> Any:
        checks = await api.runtime_of(request).ready()
        ok = all(checks.values())
        return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)

    return app


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document the service serves at `/openapi.json` (no server, no configuration needed)."""
    return http_app().openapi()


def create_app(settings: SubmissionSettings | None = None) -> FastAPI:
    """The HTTP API; its lifespan starts the runtime (database, outbox relay) and the broker."""
    settings = settings or SubmissionSettings()
    runtime = create_runtime(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        await runtime.broker.start()
        try:
            yield
        finally:
            await espaces.mailer.drain()
            await runtime.broker.stop()
            await runtime.stop()

    app = http_app(lifespan)
    app.state.runtime = runtime
    app.state.settings = settings
    # Read once at start-up: changing operator tokens (adding, revoking) is a restart.
    app.state.operator_tokens = settings.operator_secrets()
    app.state.rate_limiter = TokenRateLimiter(
        settings.rate_limit, settings.operator_rate_limit, settings.rate_limit_storage
    )
    espaces = Espaces.create(settings, runtime)
    app.state.espaces = espaces
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    app.mount("/metrics", make_asgi_app())
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=runtime.tracer_provider,
        excluded_urls="health,ready,metrics",
        exclude_spans=["receive", "send"],
        # Headers are captured only if an operator asks for it (OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_*);
        # even then, credentials never reach a span.
        http_capture_headers_sanitize_fields=SENSITIVE_HEADERS,
    )
    return app

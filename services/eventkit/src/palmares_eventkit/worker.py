"""A worker process: the FastStream app with its probes and metrics, served by uvicorn."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import uvicorn
from faststream.asgi import AsgiFastStream, AsgiResponse, get
from faststream.kafka import KafkaBroker
from palmares_eventkit.settings import ServiceSettings
from prometheus_client import make_asgi_app

Readiness = Callable[[], Awaitable[dict[str, bool]]]
Hook = Callable[[], Awaitable[None]]


def worker_app(
    broker: KafkaBroker, ready: Readiness, *, on_startup: Sequence[Hook] = (), after_shutdown: Sequence[Hook] = ()
) -> AsgiFastStream:
    """The broker as an ASGI app with `/health`, `/ready` (from `ready()`; 503 unless all true) and `/metrics`."""

    @get(include_in_schema=False)
    async def health(scope: Any) -> AsgiResponse:
        return AsgiResponse(b'{"status":"ok"}', status_code=200, headers={"content-type": "application/json"})

    @get(include_in_schema=False)
    async def readiness(scope: Any) -> AsgiResponse:
        checks = await ready()
        body = json.dumps({"ready": all(checks.values()), "checks": checks}).encode()
        return AsgiResponse(
            body, status_code=200 if all(checks.values()) else 503, headers={"content-type": "application/json"}
        )

    return AsgiFastStream(
        broker,
        asgi_routes=[("/health", health), ("/ready", readiness), ("/metrics", make_asgi_app())],
        logger=logging.getLogger("palmares.faststream"),
        on_startup=list(on_startup),
        after_shutdown=list(after_shutdown),
    )


def run_worker(app: AsgiFastStream, settings: ServiceSettings) -> None:
    """Serve a worker app with uvicorn on the configured host and port (0 = a free port)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.http_host, settings.http_port))
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=int(settings.graceful_timeout_s),
    )
    uvicorn.Server(config).run(sockets=[sock])

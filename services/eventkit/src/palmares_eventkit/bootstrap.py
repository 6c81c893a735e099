"""The process-wide set-up of a service, called once by its entrypoint before anything else.

Logging and tracing are global to a process (the root logger, OpenTelemetry's
global tracer provider): they belong to the program that runs a service, not
to the runtime object, so that building a runtime (in a test, in a tool that
only reads its AsyncAPI document) changes nothing global.
"""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from palmares_eventkit.logs import setup_logging
from palmares_eventkit.settings import ServiceSettings
from palmares_eventkit.telemetry import setup_tracing


def bootstrap(service: str, settings: ServiceSettings) -> TracerProvider:
    """JSON logs on stderr at `PALMARES_LOG_LEVEL`, and the tracer provider of the process (returned)."""
    setup_logging(service, settings.log_level)
    return setup_tracing(service, settings.trace_dir)

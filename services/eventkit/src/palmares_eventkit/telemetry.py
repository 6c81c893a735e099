"""OpenTelemetry set-up, W3C context helpers, and the local JSON-lines trace store.

Export goes over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set. Otherwise,
when `PALMARES_TRACE_DIR` is set, finished spans are appended as JSON lines to
`<dir>/<service>.jsonl`: an operator (and `palmares trace`) can read one
dossier's trace without running any trace server.

Whatever the exporter, spans leave the process redacted (`RedactingSpanExporter`):
no email address, API token or credential in an attribute, an event or a
status message, whatever instrumentation put there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Status
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from palmares_eventkit.redaction import redact, redact_value

_PROPAGATOR = TraceContextTextMapPropagator()


class JsonLinesSpanExporter(SpanExporter):
    """Writes one compact JSON object per span and line to a file (the local trace store).

    Each batch of spans the processor hands over goes to the file in one
    `write` of whole lines, on a file opened for appending: a tool tailing it
    never reads half a line, and the service makes one system call per batch
    rather than one per span (the SDK's `ConsoleSpanExporter`, line-buffered,
    made one per span: a few percent of a service's CPU under load).
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._fd is None:
            return SpanExportResult.FAILURE
        data = "".join(map(span_to_line, spans)).encode()
        while data:  # a regular file takes it all at once; a short write (disk full) is retried
            data = data[os.write(self._fd, data) :]
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True  # nothing is buffered here


class RedactingSpanExporter(SpanExporter):
    """Hands `delegate` a copy of each span with its attributes, events and status message redacted."""

    def __init__(self, delegate: SpanExporter) -> None:
        self._delegate = delegate

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self._delegate.export([redacted_span(s) for s in spans])

    def shutdown(self) -> None:
        self._delegate.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._delegate.force_flush(timeout_millis)


def redacted_span(span: ReadableSpan) -> ReadableSpan:
    """A copy of `span` whose attributes, event attributes and status description hold no secret.

    `span` itself when nothing in it needed redacting (nearly every span): a
    copy costs more than everything else the export does.
    """
    status = span.status
    description = status.description
    redacted_description = redact(description) if description else description
    attributes = dict(span.attributes or {})
    redacted_attributes = {k: redact_value(v) for k, v in attributes.items()}
    events = [(e, dict(e.attributes or {})) for e in span.events]
    redacted_events = [{k: redact_value(v) for k, v in attrs.items()} for _, attrs in events]
    name = redact(span.name)
    if (
        name == span.name
        and redacted_description == description
        and redacted_attributes == attributes
        and all(r == attrs for r, (_, attrs) in zip(redacted_events, events, strict=True))
    ):
        return span
    if description:
        status = Status(status.status_code, redacted_description)
    return ReadableSpan(
        name=name,
        context=span.get_span_context(),
        parent=span.parent,
        resource=span.resource,
        attributes=redacted_attributes,
        events=[Event(e.name, r, e.timestamp) for (e, _), r in zip(events, redacted_events, strict=True)],
        links=span.links,
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def span_to_line(span: ReadableSpan) -> str:
    """One span as one line of JSON (the trace store's format)."""
    return json.dumps(span_to_dict(span), ensure_ascii=False) + "\n"


def span_to_dict(span: ReadableSpan) -> dict[str, object]:
    """A compact, stable JSON view of a span (ids in lowercase hex, W3C style)."""
    ctx = span.get_span_context()
    assert ctx is not None
    return {
        "trace_id": format(ctx.trace_id, "032x"),
        "span_id": format(ctx.span_id, "016x"),
        "parent_span_id": format(span.parent.span_id, "016x") if span.parent else None,
        "name": span.name,
        "kind": span.kind.name if span.kind else None,
        "service": span.resource.attributes.get("service.name"),
        "start_ns": span.start_time,
        "end_ns": span.end_time,
        "status": span.status.status_code.name,
        "attributes": {k: _jsonable(v) for k, v in (span.attributes or {}).items()},
        "links": [
            {"trace_id": format(link.context.trace_id, "032x"), "span_id": format(link.context.span_id, "016x")}
            for link in span.links
        ],
    }


def _jsonable(value: object) -> object:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)


def setup_tracing(service_name: str, trace_dir: Path | None) -> TracerProvider:
    """Install the global tracer provider of this process and return it."""
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(RedactingSpanExporter(OTLPSpanExporter())))
    if trace_dir is not None:
        provider.add_span_processor(
            BatchSpanProcessor(
                RedactingSpanExporter(JsonLinesSpanExporter(Path(trace_dir) / f"{service_name}.jsonl")),
                schedule_delay_millis=200,
            )
        )
    trace.set_tracer_provider(provider)
    return provider


def inject_current(carrier: dict[str, str] | None = None) -> dict[str, str]:
    """The W3C `traceparent`/`tracestate` of the current span, as a dict."""
    carrier = {} if carrier is None else carrier
    _PROPAGATOR.inject(carrier)
    return carrier


def extract(carrier: Mapping[str, str] | None) -> Context:
    """A context whose parent is the span described by W3C headers (empty if none)."""
    return _PROPAGATOR.extract(dict(carrier or {}))

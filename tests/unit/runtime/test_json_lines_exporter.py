"""The local trace store's exporter: one batch of spans, one append of whole JSON lines."""

from __future__ import annotations

import json
from pathlib import Path
from unittest import mock

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from palmares_eventkit import telemetry
from palmares_eventkit.telemetry import JsonLinesSpanExporter


def _spans(n: int) -> tuple[ReadableSpan, ...]:
    provider = TracerProvider(resource=Resource.create({"service.name": "scoring"}))
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("test")
    for i in range(n):
        with tracer.start_as_current_span(f"submissions.v1 process {i}", attributes={"palmares.n": i}):
            pass
    return memory.get_finished_spans()


def test_a_batch_is_appended_in_one_write_of_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "traces" / "scoring.jsonl"
    exporter = JsonLinesSpanExporter(path)
    spans = _spans(3)
    with mock.patch.object(telemetry.os, "write", wraps=telemetry.os.write) as write:
        assert exporter.export(spans) is SpanExportResult.SUCCESS
    assert write.call_count == 1
    assert exporter.export(spans[:1]) is SpanExportResult.SUCCESS
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["name"] for line in lines] == [
        "submissions.v1 process 0",
        "submissions.v1 process 1",
        "submissions.v1 process 2",
        "submissions.v1 process 0",
    ]
    assert all(json.loads(line)["service"] == "scoring" for line in lines)


def test_after_shutdown_nothing_is_written(tmp_path: Path) -> None:
    path = tmp_path / "scoring.jsonl"
    exporter = JsonLinesSpanExporter(path)
    exporter.shutdown()
    exporter.shutdown()  # twice is harmless
    assert exporter.export(_spans(1)) is SpanExportResult.FAILURE
    assert path.read_text() == ""

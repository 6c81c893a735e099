"""`palmares trace`: one dossier's distributed trace, from the local JSON-lines span store."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from palmares_cli import output
from palmares_cli.context import JsonOption, command, state, wants_json
from palmares_cli.errors import OperationFailed, UsageProblem
from palmares_cli.jaeger import JaegerClient
from palmares_cli.tracetree import (
    Span,
    build_tree,
    read_spans,
    render,
    span_files,
    spans_of_traces,
    summarize,
    trace_ids_of_submission,
)


def _from_jaeger(url: str, submission_id: str | None, trace_id: str | None) -> dict[str, list[Span]]:
    client = JaegerClient(url)
    try:
        if trace_id is not None:
            trace_ids = [trace_id.lower()]
        else:
            assert submission_id is not None
            trace_ids = client.trace_ids_of_submission(submission_id)
            if not trace_ids:
                raise OperationFailed(f"Jaeger at {url} has no span tagged with dossier {submission_id}")
        traces = {tid: client.trace(tid) for tid in trace_ids}
    finally:
        client.close()
    if all(not spans for spans in traces.values()):
        raise OperationFailed(f"trace {', '.join(traces)} not found in Jaeger at {url}")
    return traces


@command
def trace(
    ctx: typer.Context,
    submission_id: Annotated[str | None, typer.Argument(help="The dossier's submission id.")] = None,
    trace_id: Annotated[str | None, typer.Option("--trace-id", help="Show this trace instead (32 hex digits).")] = None,
    use_jaeger: Annotated[
        bool,
        typer.Option("--jaeger", help="Read the trace from Jaeger's API instead of the local span store."),
    ] = False,
    jaeger_url: Annotated[
        str | None, typer.Option("--jaeger-url", help="Jaeger UI/API base URL \\[env: JAEGER_UI_URL].")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Print the span tree of a dossier's trace(s): service, span, duration, status; then a summary.

    With Jaeger running (`make run` starts it where it can), each trace's page
    in the Jaeger UI is printed too.
    """
    if (submission_id is None) == (trace_id is None):
        raise UsageProblem("give a SUBMISSION_ID or --trace-id (one of them)")
    viewer = jaeger_url or state(ctx).settings.jaeger_url
    if use_jaeger:
        if not viewer:
            raise UsageProblem("--jaeger needs --jaeger-url or JAEGER_UI_URL (written to .run/stack.env with Jaeger)")
        _show(ctx, json_out, submission_id, _from_jaeger(viewer, submission_id, trace_id), viewer, source=viewer)
        return
    trace_dir = state(ctx).settings.require_trace_dir()
    files = span_files(trace_dir)
    if not files:
        raise OperationFailed(
            f"no span files (*.jsonl) in {trace_dir}: are the services running with PALMARES_TRACE_DIR?"
        )
    if trace_id is not None:
        trace_ids = [trace_id.lower()]
    else:
        assert submission_id is not None
        trace_ids = trace_ids_of_submission(read_spans(files), submission_id)
        if not trace_ids:
            raise OperationFailed(
                f"no span mentions dossier {submission_id} in {trace_dir} yet "
                "(spans are written a moment after they end; evaluation spans carry palmares.submission_id)"
            )
    traces = spans_of_traces(read_spans(files), trace_ids)
    if all(not spans for spans in traces.values()):
        raise OperationFailed(f"trace {', '.join(trace_ids)} not found in {trace_dir}")
    _show(ctx, json_out, submission_id, traces, viewer, source=str(trace_dir))


def _show(
    ctx: typer.Context,
    json_out: bool,
    submission_id: str | None,
    traces: dict[str, list[Span]],
    viewer: str | None,
    *,
    source: str,
) -> None:
    link = (lambda tid: f"{viewer.rstrip('/')}/trace/{tid}") if viewer else (lambda tid: None)
    if wants_json(ctx, json_out):
        payload: list[dict[str, Any]] = []
        for tid, spans in traces.items():
            summary = summarize(tid, spans)
            payload.append(
                {
                    "trace_id": tid,
                    "span_count": summary.span_count,
                    "services": summary.services,
                    "duration_ms": round(summary.duration_ms, 3),
                    "errors": summary.errors,
                    "viewer_url": link(tid),
                    "spans": [s.raw for s in spans],
                }
            )
        output.emit_json({"submission_id": submission_id, "source": source, "traces": payload})
        return
    every = [s for spans in traces.values() for s in spans]
    for tid, spans in traces.items():
        output.stdout.print(f"[bold]trace {tid}[/bold]")
        rows = build_tree(spans)
        for line, row in zip(render(rows), rows, strict=True):
            style = "red" if row.span.status.upper() == "ERROR" else None
            output.stdout.print(escape(line), style=style)
        output.stdout.print(escape(summarize(tid, spans).line()))
        if link(tid):
            output.stdout.print(escape(f"open in Jaeger: {link(tid)}"))
        output.stdout.print()
    if len(traces) > 1:
        total = summarize("all", every)
        output.stdout.print(
            escape(
                f"{len(traces)} traces, {total.span_count} spans, services: {', '.join(total.services)}, "
                f"{total.duration_ms / 1000:.1f} s from the first span to the last"
            )
        )

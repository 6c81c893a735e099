"""The trace tree builder, on a synthetic span store (JSON lines as telemetry.JsonLinesSpanExporter writes them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from palmares_cli import tracetree
from palmares_cli.main import app
from typer.testing import CliRunner

SUB = "3f2c1e9a-0b7d-4c55-9a57-1d2f3e4a5b6c"
DOSSIER_TRACE = "a" * 32
JURY_TRACE = "b" * 32
POLL_TRACE = "c" * 32
OTHER_TRACE = "d" * 32
MS = 1_000_000
T0 = 1_700_000_000_000_000_000


def span(
    trace: str,
    span_id: str,
    parent: str | None,
    name: str,
    service: str,
    start_ms: float,
    end_ms: float,
    status: str = "UNSET",
    **attributes: Any,
) -> dict[str, Any]:
    return {
        "trace_id": trace,
        "span_id": span_id,
        "parent_span_id": parent,
        "name": name,
        "kind": "INTERNAL",
        "service": service,
        "start_ns": T0 + int(start_ms * MS),
        "end_ns": T0 + int(end_ms * MS),
        "status": status,
        "attributes": attributes,
        "links": [],
    }


def dossier_spans() -> dict[str, list[dict[str, Any]]]:
    """One dossier seen by four services, each writing its own file, in end order (as exporters do)."""
    return {
        "submission": [
            span(
                DOSSIER_TRACE,
                "s1",
                None,
                "POST /v1/editions/{edition}/submissions",
                "submission",
                0,
                20,
                **{"http.method": "POST", "http.target": "/v1/editions/2017/submissions"},
            ),
            span(DOSSIER_TRACE, "s2", "s1", "submissions.v1 publish", "submission", 25, 26),
            span(
                JURY_TRACE,
                "j1",
                None,
                "POST /v1/submissions/{submission_id}/jury-decision",
                "submission",
                5000,
                5010,
                **{"http.method": "POST", "http.target": f"/v1/submissions/{SUB}/jury-decision"},
            ),
            span(
                POLL_TRACE,
                "p1",
                None,
                "GET /v1/submissions/{submission_id}",
                "submission",
                300,
                302,
                **{"http.method": "GET", "http.target": f"/v1/submissions/{SUB}"},
            ),
        ],
        "scoring": [
            span(DOSSIER_TRACE, "c2", "c1", "scores.v1 publish", "scoring", 60, 61),
            span(DOSSIER_TRACE, "c1", "s2", "submissions.v1 process", "scoring", 30, 80),
        ],
        "notify": [
            span(DOSSIER_TRACE, "n1", "s2", "smtp send", "notify", 90, 400, "ERROR", **{"palmares.submission_id": SUB}),
            # Its parent was never recorded (e.g. a service without a trace dir): shown as a root.
            span(DOSSIER_TRACE, "n2", "zz", "notifications.v1 process", "notify", 410, 420),
            span(OTHER_TRACE, "o1", None, "smtp send", "notify", 0, 5, **{"palmares.submission_id": "other"}),
        ],
    }


@pytest.fixture
def trace_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "traces"
    directory.mkdir()
    for service, spans in dossier_spans().items():
        lines = [json.dumps(s) for s in spans]
        if service == "notify":
            lines.insert(1, '{"trace_id": "truncated')  # a line being written right now
            lines.insert(2, "")
        (directory / f"{service}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (directory / "README.txt").write_text("not a span file")
    return directory


def test_reads_every_service_file_and_skips_bad_lines(trace_dir: Path) -> None:
    files = tracetree.span_files(trace_dir)
    assert [f.name for f in files] == ["notify.jsonl", "scoring.jsonl", "submission.jsonl"]
    assert len(list(tracetree.read_spans(files))) == 9


def test_finds_the_dossier_trace_and_operator_actions_but_not_status_reads(trace_dir: Path) -> None:
    ids = tracetree.trace_ids_of_submission(tracetree.read_spans(tracetree.span_files(trace_dir)), SUB)
    # The dossier trace (smtp send carries palmares.submission_id), then the jury decision (POST naming the id);
    # the GET status poll is not a trace of the dossier.
    assert ids == [DOSSIER_TRACE, JURY_TRACE]
    assert tracetree.trace_ids_of_submission(tracetree.read_spans(tracetree.span_files(trace_dir)), SUB.upper()) == ids
    assert tracetree.trace_ids_of_submission(tracetree.read_spans(tracetree.span_files(trace_dir)), "unknown") == []


def test_tree_nests_across_services_orders_siblings_and_keeps_orphans(trace_dir: Path) -> None:
    spans = tracetree.spans_of_traces(tracetree.read_spans(tracetree.span_files(trace_dir)), [DOSSIER_TRACE])[
        DOSSIER_TRACE
    ]
    rows = tracetree.build_tree(spans)
    assert [(r.span.span_id, r.depth) for r in rows] == [
        ("s1", 0),
        ("s2", 1),
        ("c1", 2),
        ("c2", 3),
        ("n1", 2),
        ("n2", 0),
    ]
    assert [r.orphan for r in rows] == [False, False, False, False, False, True]
    assert [r.prefix for r in rows] == ["", "└─ ", "   ├─ ", "   │  └─ ", "   └─ ", ""]
    assert rows[2].offset_ms == pytest.approx(30.0)


def test_rendered_lines_show_service_name_duration_status(trace_dir: Path) -> None:
    spans = tracetree.spans_of_traces(tracetree.read_spans(tracetree.span_files(trace_dir)), [DOSSIER_TRACE])[
        DOSSIER_TRACE
    ]
    lines = tracetree.render(tracetree.build_tree(spans))
    assert lines[0].startswith("submission")
    assert "POST /v1/editions/{edition}/submissions" in lines[0] and "20.0 ms" in lines[0]
    smtp = next(line for line in lines if "smtp send" in line)
    assert "└─ notify" in smtp and "310.0 ms" in smtp and "ERROR" in smtp
    assert "parent not recorded" in lines[-1]


def test_summary_counts_spans_services_duration_and_errors(trace_dir: Path) -> None:
    spans = tracetree.spans_of_traces(tracetree.read_spans(tracetree.span_files(trace_dir)), [DOSSIER_TRACE])[
        DOSSIER_TRACE
    ]
    summary = tracetree.summarize(DOSSIER_TRACE, spans)
    assert (summary.span_count, summary.services, summary.errors) == (6, ["notify", "scoring", "submission"], 1)
    assert summary.duration_ms == pytest.approx(420.0)
    assert summary.line() == "6 spans, services: notify, scoring, submission, total 420.0 ms, 1 error span(s)"


def test_parent_cycles_do_not_hide_or_loop() -> None:
    from palmares_cli.tracetree import parse_span

    a = parse_span(span(DOSSIER_TRACE, "a", "b", "a", "x", 0, 1))
    b = parse_span(span(DOSSIER_TRACE, "b", "a", "b", "x", 1, 2))
    assert a is not None and b is not None
    assert sorted(r.span.span_id for r in tracetree.build_tree([a, b])) == ["a", "b"]


def test_cli_trace_of_a_submission(clean_env: Path, runner: CliRunner, trace_dir: Path) -> None:
    result = runner.invoke(app, ["--trace-dir", str(trace_dir), "trace", SUB])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"trace {DOSSIER_TRACE}" in out and f"trace {JURY_TRACE}" in out and POLL_TRACE not in out
    assert "6 spans, services: notify, scoring, submission, total 420.0 ms" in out
    assert "2 traces" in out


def test_cli_trace_json_and_trace_id(
    clean_env: Path, runner: CliRunner, trace_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PALMARES_TRACE_DIR", str(trace_dir))
    result = runner.invoke(app, ["trace", "--trace-id", JURY_TRACE.upper(), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    (only,) = payload["traces"]
    assert only["trace_id"] == JURY_TRACE and only["span_count"] == 1
    assert only["spans"][0]["name"] == "POST /v1/submissions/{submission_id}/jury-decision"


def test_cli_trace_errors(clean_env: Path, runner: CliRunner, trace_dir: Path) -> None:
    unknown = runner.invoke(app, ["--trace-dir", str(trace_dir), "trace", "nope"])
    assert unknown.exit_code == 1 and "no span mentions dossier nope" in unknown.output
    both = runner.invoke(app, ["--trace-dir", str(trace_dir), "trace", SUB, "--trace-id", JURY_TRACE])
    assert both.exit_code == 2
    no_dir = runner.invoke(app, ["--trace-dir", str(clean_env / "absent"), "trace", SUB])
    assert no_dir.exit_code == 2 and "PALMARES_TRACE_DIR" in no_dir.output

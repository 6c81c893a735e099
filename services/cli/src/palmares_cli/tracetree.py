"""Reading the local trace store and drawing one dossier's trace as a tree (pure, no I/O but files).

The services append finished spans as JSON lines to `$PALMARES_TRACE_DIR/<service>.jsonl`
(palmares_eventkit.telemetry). A dossier is one trace from the HTTP request to
the SMTP send, and later work on it (re-evaluation under a new grille, the
award email) joins the same trace. Operator actions on a dossier (a jury
decision) start traces of their own; they are shown too.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# The attribute the services set on spans that work on one dossier.
SUBMISSION_ATTRIBUTE = "palmares.submission_id"
# HTTP attributes (old and new OpenTelemetry conventions) whose value is a URL or path.
_HTTP_PATH_ATTRIBUTES = ("url.path", "http.target", "url.full", "http.url")
_HTTP_METHOD_ATTRIBUTES = ("http.request.method", "http.method")


@dataclass(frozen=True, slots=True)
class Span:
    """One finished span, as written by `JsonLinesSpanExporter`."""

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    service: str
    start_ns: int
    end_ns: int
    status: str
    kind: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    links: list[dict[str, Any]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def duration_ms(self) -> float:
        return max(0, self.end_ns - self.start_ns) / 1e6


def parse_span(record: Any) -> Span | None:
    """A span from one decoded JSON line, or None when the line is not a span."""
    if not isinstance(record, dict):
        return None
    try:
        return Span(
            trace_id=str(record["trace_id"]),
            span_id=str(record["span_id"]),
            parent_span_id=str(record["parent_span_id"]) if record.get("parent_span_id") else None,
            name=str(record.get("name", "?")),
            service=str(record.get("service") or "?"),
            start_ns=int(record["start_ns"]),
            end_ns=int(record.get("end_ns") or record["start_ns"]),
            status=str(record.get("status") or "UNSET"),
            kind=record.get("kind"),
            attributes=dict(record.get("attributes") or {}),
            links=list(record.get("links") or []),
            raw=record,
        )
    except (KeyError, TypeError, ValueError):
        return None


def span_files(trace_dir: Path) -> list[Path]:
    return sorted(trace_dir.glob("*.jsonl"))


def read_spans(files: Iterable[Path]) -> Iterator[Span]:
    """Every span of the files. Bad lines are skipped: a service may be writing the last one right now."""
    for path in files:
        with path.open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if not line.strip():
                    continue
                try:
                    span = parse_span(json.loads(line))
                except json.JSONDecodeError:
                    continue
                if span is not None:
                    yield span


def _method(span: Span) -> str | None:
    for key in _HTTP_METHOD_ATTRIBUTES:
        value = span.attributes.get(key)
        if isinstance(value, str):
            return value.upper()
    return None


def mentions_submission(span: Span, submission_id: str) -> bool:
    """Does this span work on that dossier?

    Yes when it carries `palmares.submission_id` (or any `*.submission_id`)
    equal to the id, or when it is an HTTP call other than GET whose path names
    the id (e.g. the jury decision). Status reads (GET) are left out: an
    operator polling a dossier would otherwise drown its trace in one-span traces.
    """
    wanted = submission_id.lower()
    for key, value in span.attributes.items():
        if key.endswith("submission_id") and str(value).lower() == wanted:
            return True
    if _method(span) in (None, "GET"):
        return False
    return any(wanted in str(span.attributes.get(key, "")).lower() for key in _HTTP_PATH_ATTRIBUTES)


def trace_ids_of_submission(spans: Iterable[Span], submission_id: str) -> list[str]:
    """The traces that involve a dossier, earliest first."""
    first_seen: dict[str, int] = {}
    for span in spans:
        if mentions_submission(span, submission_id):
            first_seen[span.trace_id] = min(first_seen.get(span.trace_id, span.start_ns), span.start_ns)
    return sorted(first_seen, key=lambda t: first_seen[t])


def spans_of_traces(spans: Iterable[Span], trace_ids: Iterable[str]) -> dict[str, list[Span]]:
    """The spans of each wanted trace, by start time (trace ids compared case-insensitively)."""
    wanted = {t.lower(): t for t in trace_ids}
    found: dict[str, list[Span]] = {t: [] for t in wanted.values()}
    for span in spans:
        key = wanted.get(span.trace_id.lower())
        if key is not None:
            found[key].append(span)
    for group in found.values():
        group.sort(key=lambda s: (s.start_ns, s.span_id))
    return found


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the drawn tree."""

    span: Span
    depth: int
    prefix: str
    offset_ms: float
    orphan: bool  # its parent span was not recorded (still buffered, or outside the store)


@dataclass(frozen=True, slots=True)
class TraceSummary:
    trace_id: str
    span_count: int
    services: list[str]
    duration_ms: float
    errors: int

    def line(self) -> str:
        errors = f", {self.errors} error span(s)" if self.errors else ""
        return (
            f"{self.span_count} spans, services: {', '.join(self.services) or '-'}, "
            f"total {self.duration_ms:.1f} ms{errors}"
        )


def summarize(trace_id: str, spans: list[Span]) -> TraceSummary:
    if not spans:
        return TraceSummary(trace_id, 0, [], 0.0, 0)
    start = min(s.start_ns for s in spans)
    end = max(s.end_ns for s in spans)
    services = sorted({s.service for s in spans})
    errors = sum(1 for s in spans if s.status.upper() == "ERROR")
    return TraceSummary(trace_id, len(spans), services, (end - start) / 1e6, errors)


def build_tree(spans: list[Span]) -> list[Row]:
    """Depth-first rows: children under their parent, siblings by start time.

    A span whose parent is not in the store becomes a root, flagged as orphan,
    so nothing recorded is ever hidden.
    """
    if not spans:
        return []
    ordered = sorted(spans, key=lambda s: (s.start_ns, s.span_id))
    by_id = {s.span_id: s for s in ordered}
    children: dict[str, list[Span]] = defaultdict(list)
    roots: list[Span] = []
    for span in ordered:
        if span.parent_span_id and span.parent_span_id in by_id and span.parent_span_id != span.span_id:
            children[span.parent_span_id].append(span)
        else:
            roots.append(span)
    origin = ordered[0].start_ns
    rows: list[Row] = []
    seen: set[str] = set()

    def walk(span: Span, depth: int, lead: str, last: bool, is_root: bool) -> None:
        if span.span_id in seen:  # defensive: duplicated lines or a malformed parent cycle
            return
        seen.add(span.span_id)
        prefix = "" if is_root else lead + ("└─ " if last else "├─ ")
        rows.append(
            Row(span, depth, prefix, (span.start_ns - origin) / 1e6, is_root and span.parent_span_id is not None)
        )
        kids = children.get(span.span_id, [])
        child_lead = "" if is_root else lead + ("   " if last else "│  ")
        for i, kid in enumerate(kids):
            walk(kid, depth + 1, child_lead, i == len(kids) - 1, False)

    for root in roots:
        walk(root, 0, "", True, True)
    # Spans caught in a parent cycle are unreachable from any root: list them anyway.
    for span in ordered:
        if span.span_id not in seen:
            walk(span, 0, "", True, True)
    return rows


def render(rows: list[Row]) -> list[str]:
    """Plain text lines: tree, service, span name, duration, status, start offset."""
    if not rows:
        return []
    labels = [f"{r.prefix}{r.span.service}" for r in rows]
    width = max(len(label) for label in labels)
    name_width = min(60, max(len(r.span.name) for r in rows))
    lines = []
    for label, row in zip(labels, rows, strict=True):
        status = row.span.status.upper()
        notes = []
        if row.orphan:
            notes.append("parent not recorded")
        if row.span.links:
            notes.append("linked to " + ", ".join(str(link.get("trace_id", "?"))[:8] for link in row.span.links))
        note = f"  ({'; '.join(notes)})" if notes else ""
        lines.append(
            f"{label:<{width}}  {row.span.name:<{name_width}}  {row.span.duration_ms:>9.1f} ms  "
            f"{status:<5}  +{row.offset_ms:.1f} ms{note}"
        )
    return lines

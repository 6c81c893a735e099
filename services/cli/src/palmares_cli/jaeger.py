"""Reading a dossier's trace from Jaeger's query API (`/api/traces`), as the same `Span`s as the local store.

When the services export over OTLP to Jaeger (`make run` with Jaeger, or a
cluster), `palmares trace ID --jaeger` asks Jaeger instead of reading
`.run/traces/*.jsonl`. The evaluation and email spans carry
`palmares.submission_id`, so a tag search in the services that set it finds
the dossier's traces; each is then fetched whole.

Jaeger's JSON: `{"data": [{"traceID", "spans": [{"spanID", "operationName",
"references": [{"refType": "CHILD_OF", "spanID"}], "startTime" (µs),
"duration" (µs), "tags": [{"key", "value"}], "processID"}], "processes":
{pid: {"serviceName"}}}]}`.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from palmares_cli.errors import OperationFailed, Unreachable
from palmares_cli.tracetree import SUBMISSION_ATTRIBUTE, Span

# The services whose spans carry palmares.submission_id (evaluation, email).
TAGGED_SERVICES = ("scoring", "mentions", "notify", "submission")
_TIMEOUT_S = 10.0


def spans_of(trace: dict[str, Any]) -> list[Span]:
    """The spans of one Jaeger trace, in the shape of the local store's."""
    processes = {pid: p.get("serviceName", "?") for pid, p in (trace.get("processes") or {}).items()}
    spans = []
    for raw in trace.get("spans") or []:
        tags = {t["key"]: t.get("value") for t in raw.get("tags") or [] if "key" in t}
        parents = [r for r in raw.get("references") or [] if r.get("refType") == "CHILD_OF"]
        start_ns = int(raw["startTime"]) * 1000
        status = str(tags.pop("otel.status_code", "UNSET")).upper()
        links = [
            {"trace_id": r.get("traceID"), "span_id": r.get("spanID")}
            for r in raw.get("references") or []
            if r.get("refType") == "FOLLOWS_FROM"
        ]
        spans.append(
            Span(
                trace_id=str(raw.get("traceID") or trace.get("traceID")).rjust(32, "0"),
                span_id=str(raw["spanID"]).rjust(16, "0"),
                parent_span_id=str(parents[0]["spanID"]).rjust(16, "0") if parents else None,
                name=str(raw.get("operationName", "?")),
                service=processes.get(raw.get("processID"), "?"),
                start_ns=start_ns,
                end_ns=start_ns + int(raw.get("duration", 0)) * 1000,
                status=status,
                kind=str(tags.get("span.kind", "")).upper() or None,
                attributes=tags,
                links=links,
                raw=raw,
            )
        )
    return spans


class JaegerClient:
    """The few calls of Jaeger's query API the CLI needs."""

    def __init__(self, base_url: str, *, transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=_TIMEOUT_S, transport=transport)

    def close(self) -> None:
        self._http.close()

    def _get(self, path: str, params: dict[str, str] | None = None) -> Any:
        try:
            response = self._http.get(path, params=params)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise Unreachable(f"cannot reach Jaeger at {self.base_url}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise OperationFailed(f"Jaeger at {self.base_url}: {exc}") from exc
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise OperationFailed(f"Jaeger answered {response.status_code} to GET {path}: {response.text[:200]}")
        return response.json()

    def services(self) -> list[str]:
        body = self._get("/api/services") or {}
        return sorted(body.get("data") or [])

    def trace_ids_of_submission(self, submission_id: str, lookback: str = "7d") -> list[str]:
        """Trace ids of the spans tagged with this dossier's id, in any service that tags them."""
        known = set(self.services())
        found: dict[str, int] = {}
        for service in TAGGED_SERVICES:
            if service not in known:
                continue
            body = self._get(
                "/api/traces",
                {
                    "service": service,
                    "tags": json.dumps({SUBMISSION_ATTRIBUTE: submission_id}),
                    "lookback": lookback,
                    "limit": "50",
                },
            )
            for trace in (body or {}).get("data") or []:
                spans = trace.get("spans") or [{}]
                found.setdefault(str(trace["traceID"]).rjust(32, "0"), min(int(s.get("startTime", 0)) for s in spans))
        return sorted(found, key=lambda tid: found[tid])

    def trace(self, trace_id: str) -> list[Span]:
        body = self._get(f"/api/traces/{trace_id}")
        traces = (body or {}).get("data") or []
        return [span for trace in traces for span in spans_of(trace)]

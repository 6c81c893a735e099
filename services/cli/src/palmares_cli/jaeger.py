"""Reading a dossier's trace from Jaeger's stable query API (`/api/v3`), as the same `Span`s as the local store.

When the services export over OTLP to Jaeger (`make run` with Jaeger, or a
cluster), `palmares trace ID --jaeger` asks Jaeger instead of reading
`.run/traces/*.jsonl`. The evaluation and email spans carry
`palmares.submission_id`. Jaeger's HTTP gateway for api_v3 does not take
attribute filters (only the service, the operation, a time window and a
count), so the CLI searches the recent traces of each service that tags
dossiers and keeps those with a span tagged with the dossier; each is then
fetched whole.

api_v3 answers in OTLP's JSON: `{"result": {"resourceSpans": [{"resource":
{"attributes": [...service.name...]}, "scopeSpans": [{"spans": [{"traceId",
"spanId", "parentSpanId", "name", "kind", "startTimeUnixNano",
"endTimeUnixNano", "attributes": [{"key", "value": {"stringValue": …}}],
"status": {"code"}, "links": [{"traceId", "spanId"}]}]}]}]}}`; ids are hex.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from palmares_cli.errors import OperationFailed, Unreachable
from palmares_cli.tracetree import SUBMISSION_ATTRIBUTE, Span

# The services whose spans carry palmares.submission_id (evaluation, email).
TAGGED_SERVICES = ("scoring", "mentions", "notify", "submission")
_TIMEOUT_S = 10.0
# OTLP's enums, as numbers in api_v3's JSON.
_KINDS = {1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}
_STATUS = {0: "UNSET", 1: "OK", 2: "ERROR"}


def attribute_value(value: dict[str, Any]) -> Any:
    """An OTLP `AnyValue` as a plain value (64-bit integers come as strings in JSON)."""
    if "intValue" in value:
        return int(value["intValue"])
    if "arrayValue" in value:
        return [attribute_value(v) for v in value["arrayValue"].get("values") or []]
    for key in ("stringValue", "boolValue", "doubleValue", "bytesValue"):
        if key in value:
            return value[key]
    return None


def attributes_of(raw: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {a["key"]: attribute_value(a.get("value") or {}) for a in raw or [] if "key" in a}


def _enum(value: Any, names: dict[int, str], default: str) -> str:
    if isinstance(value, str) and not value.isdecimal():
        # Some encoders spell enums by name ("SPAN_KIND_SERVER", "STATUS_CODE_ERROR").
        return value.rsplit("_", 1)[-1].upper()
    return names.get(int(value or 0), default)


def spans_of(result: dict[str, Any]) -> list[Span]:
    """The spans of an api_v3 answer (`result` of one or more traces), in the shape of the local store's."""
    spans = []
    for resource_spans in result.get("resourceSpans") or []:
        service = str(attributes_of((resource_spans.get("resource") or {}).get("attributes")).get("service.name", "?"))
        for scope_spans in resource_spans.get("scopeSpans") or []:
            for raw in scope_spans.get("spans") or []:
                parent = raw.get("parentSpanId") or None
                spans.append(
                    Span(
                        trace_id=str(raw["traceId"]).lower().rjust(32, "0"),
                        span_id=str(raw["spanId"]).lower().rjust(16, "0"),
                        parent_span_id=str(parent).lower().rjust(16, "0") if parent else None,
                        name=str(raw.get("name", "?")),
                        service=service,
                        start_ns=int(raw.get("startTimeUnixNano", 0)),
                        end_ns=int(raw.get("endTimeUnixNano", 0)),
                        status=_enum((raw.get("status") or {}).get("code"), _STATUS, "UNSET"),
                        kind=_enum(raw.get("kind"), _KINDS, "") or None,
                        attributes=attributes_of(raw.get("attributes")),
                        links=[
                            {"trace_id": str(link.get("traceId", "")).lower(), "span_id": str(link.get("spanId", ""))}
                            for link in raw.get("links") or []
                        ],
                        raw=raw,
                    )
                )
    return spans


class JaegerClient:
    """The few calls of Jaeger's api_v3 the CLI needs."""

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
        if response.status_code == 404:  # api_v3's answer to "no trace" too
            return None
        if response.status_code >= 400:
            raise OperationFailed(f"Jaeger answered {response.status_code} to GET {path}: {response.text[:200]}")
        return response.json()

    def services(self) -> list[str]:
        body = self._get("/api/v3/services") or {}
        return sorted(body.get("services") or [])

    def trace_ids_of_submission(
        self, submission_id: str, lookback: timedelta = timedelta(days=7), per_service: int = 500
    ) -> list[str]:
        """Trace ids with a span tagged with this dossier's id, earliest first.

        Searches the last `per_service` traces of `lookback` in each service that tags dossiers.
        """
        known = set(self.services())
        now = datetime.now(UTC)
        found: dict[str, int] = {}
        for service in TAGGED_SERVICES:
            if service not in known:
                continue
            body = self._get(
                "/api/v3/traces",
                {
                    "query.service_name": service,
                    "query.start_time_min": (now - lookback).isoformat().replace("+00:00", "Z"),
                    "query.start_time_max": now.isoformat().replace("+00:00", "Z"),
                    "query.num_traces": str(per_service),
                },
            )
            for span in spans_of((body or {}).get("result") or {}):
                if span.attributes.get(SUBMISSION_ATTRIBUTE) == submission_id:
                    found[span.trace_id] = min(found.get(span.trace_id, span.start_ns), span.start_ns)
        return sorted(found, key=lambda tid: found[tid])

    def trace(self, trace_id: str) -> list[Span]:
        body = self._get(f"/api/v3/traces/{trace_id}")
        return spans_of((body or {}).get("result") or {})

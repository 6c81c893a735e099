"""`grille diff` (files and grilles served by the API), `collectivite revoke`, and the diff wrapper script."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from palmares_cli.cmd_ops import parse_operand
from palmares_cli.errors import EXIT_FAILED, EXIT_UNREACHABLE, EXIT_USAGE
from palmares_cli.grille_changelog import diff, entry_json, load_grille
from palmares_cli.main import app
from typer.testing import CliRunner

from tests.unit.cli.conftest import REPO

GRILLES = REPO / "deploy" / "grilles"
G2017, G2018, G2018V2 = (GRILLES / f"grille-{n}.json" for n in ("2017", "2018", "2018-v2"))
API = ["--api-url", "http://api.test", "--token", "op"]


def served(path: Path, version: int) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    data["version"] = version
    return data


def test_operands_are_files_or_edition_at_version() -> None:
    assert parse_operand("2018@2") == (2018, 2)
    assert parse_operand("2018@current") == (2018, None)
    assert parse_operand("2018") == (2018, None)
    assert parse_operand("deploy/grilles/grille-2018.json") is None
    assert parse_operand("2018@v2") is None


def test_diff_of_two_files_lists_the_changes(clean_env: Path, runner: CliRunner) -> None:
    result = runner.invoke(app, ["grille", "diff", str(G2018), str(G2018V2)])
    assert result.exit_code == 0, result.output
    assert "6 change(s)" in result.stdout
    assert "algorithmes_publics" in result.stdout and "poids 3 → 2" in result.stdout
    assert "règle de la mention gouvernement_ouvert modifiée" in result.stdout
    assert "matches the computed diff" in result.stderr


def test_diff_json_is_the_changelog_computed_by_the_grilles_tool(clean_env: Path, runner: CliRunner) -> None:
    result = runner.invoke(app, ["--json", "grille", "diff", str(G2017), str(G2018)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    expected = [entry_json(e) for e in diff(load_grille(G2017), load_grille(G2018))]
    assert payload["changes"] == expected and len(expected) == 28
    assert payload["declared_changelog_problems"] == []
    assert payload["old"] == {"source": str(G2017), "edition": 2017, "version": None}


def test_check_exits_1_when_the_declared_changelog_is_wrong(
    clean_env: Path, runner: CliRunner, write_json: Callable[[str, Any], Path]
) -> None:
    data = json.loads(G2018V2.read_text(encoding="utf-8"))
    data["changelog"] = data["changelog"][1:]
    wrong = write_json("wrong.json", data)
    assert runner.invoke(app, ["grille", "diff", str(G2018), str(wrong)]).exit_code == 0
    result = runner.invoke(app, ["grille", "diff", str(G2018), str(wrong), "--check"])
    assert result.exit_code == EXIT_FAILED
    assert "manquante" in result.stderr


def test_diff_against_the_current_grille_of_the_api(
    clean_env: Path, runner: CliRunner, use_transport: Callable[..., None]
) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        assert "authorization" not in request.headers or request.headers["authorization"] == "Bearer op"
        return httpx.Response(200, json=served(G2018V2, 2))

    use_transport(handler)
    result = runner.invoke(app, [*API, "--json", "grille", "diff", str(G2018), "2018@current"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["new"] == {"source": "API 2018@2", "edition": 2018, "version": 2}
    assert len(payload["changes"]) == 6
    assert seen == ["GET /v1/editions/2018/grille"]
    assert runner.invoke(app, [*API, "grille", "diff", str(G2018), "2018@2"]).exit_code == 0


def test_an_older_version_is_not_served_by_the_api(
    clean_env: Path, runner: CliRunner, use_transport: Callable[..., None]
) -> None:
    use_transport(lambda r: httpx.Response(200, json=served(G2018V2, 2)))
    result = runner.invoke(app, [*API, "grille", "diff", "2018@1", "2018@2"])
    assert result.exit_code == EXIT_FAILED
    assert "serves only the current grille of 2018 (version 2)" in result.stderr


def test_no_grille_published_is_a_failure(
    clean_env: Path, runner: CliRunner, use_transport: Callable[..., None], problem: Callable[..., httpx.Response]
) -> None:
    use_transport(lambda r: problem(404, "Aucune grille publiée pour l'édition 2031."))
    result = runner.invoke(app, [*API, "--json", "grille", "diff", "2031", str(G2018)])
    assert result.exit_code == EXIT_FAILED
    assert "no grille published for edition 2031" in json.loads(result.stdout)["error"]["message"]


def test_an_operand_that_is_neither_is_a_usage_error(clean_env: Path, runner: CliRunner) -> None:
    result = runner.invoke(app, ["grille", "diff", "nope.json", str(G2018)])
    assert result.exit_code == EXIT_USAGE
    assert "neither a grille file nor EDITION@VERSION" in result.output


def test_revoke_sends_delete_and_reports(
    clean_env: Path, runner: CliRunner, use_transport: Callable[..., None]
) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path} {request.headers.get('authorization')}")
        return httpx.Response(204)

    use_transport(handler)
    human = runner.invoke(app, [*API, "collectivite", "revoke", "49007"])
    assert human.exit_code == 0, human.output
    assert "Token of 49007 revoked" in human.stdout
    as_json = runner.invoke(app, [*API, "collectivite", "revoke", "49007", "--json"])
    assert json.loads(as_json.stdout) == {"code": "49007", "revoked": True}
    assert calls == ["DELETE /v1/collectivites/49007/token Bearer op"] * 2


def test_revoke_unknown_collectivite_exits_1_with_the_api_message(
    clean_env: Path, runner: CliRunner, use_transport: Callable[..., None], problem: Callable[..., httpx.Response]
) -> None:
    use_transport(lambda r: problem(404, "La collectivité 99999 n'est pas inscrite."))
    result = runner.invoke(app, [*API, "collectivite", "revoke", "99999"])
    assert result.exit_code == EXIT_FAILED
    assert "La collectivité 99999 n'est pas inscrite." in result.output


def test_revoke_needs_the_operator_token_and_a_reachable_api(
    clean_env: Path, runner: CliRunner, closed_port: int
) -> None:
    no_token = runner.invoke(app, ["--api-url", "http://api.test", "collectivite", "revoke", "49007"])
    assert no_token.exit_code == EXIT_USAGE
    down = runner.invoke(
        app, ["--api-url", f"http://127.0.0.1:{closed_port}", "--token", "op", "collectivite", "revoke", "1"]
    )
    assert down.exit_code == EXIT_UNREACHABLE


@pytest.mark.parametrize("pair", [(G2017, G2018), (G2018, G2018V2)])
def test_the_grilles_script_is_a_thin_wrapper_of_the_same_diff(pair: tuple[Path, Path]) -> None:
    result = subprocess.run(
        [sys.executable, str(GRILLES / "changelog.py"), str(pair[0]), str(pair[1])],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [entry_json(e) for e in diff(load_grille(pair[0]), load_grille(pair[1]))]


# ------------------------------------------------------------------ trace --jaeger


def jaeger_trace(trace_id: str = "ab" * 16) -> dict[str, Any]:
    """One trace as Jaeger's api_v3 answers it (OTLP JSON): a resource per service, ids in hex."""

    def span(sid: str, parent: str | None, name: str, start: int, tags: dict[str, Any] | None = None) -> Any:
        tags = dict(tags or {})
        status = {"code": 2} if tags.pop("error", False) else {}
        return {
            "traceId": trace_id,
            "spanId": sid,
            **({"parentSpanId": parent} if parent else {}),
            "name": name,
            "kind": 5 if name.endswith("process") else 2,
            "startTimeUnixNano": str(1_700_000_000_000_000_000 + start * 1000),
            "endTimeUnixNano": str(1_700_000_000_000_000_000 + start * 1000 + 1_500_000),
            "attributes": [{"key": k, "value": {"stringValue": v}} for k, v in tags.items()],
            "status": status,
        }

    def resource(service: str, *spans: Any) -> Any:
        service_name = {"key": "service.name", "value": {"stringValue": service}}
        return {"resource": {"attributes": [service_name]}, "scopeSpans": [{"scope": {}, "spans": list(spans)}]}

    sid = {"palmares.submission_id": "s-1"}
    return {
        "resourceSpans": [
            resource(
                "submission",
                span("0000000000000001", None, "POST /v1/editions/{edition}/submissions", 0),
                span("0000000000000002", "0000000000000001", "submissions.v1 publish", 100),
            ),
            resource("scoring", span("0000000000000003", "0000000000000002", "submissions.v1 process", 200, sid)),
            resource("mentions", span("0000000000000004", "0000000000000002", "submissions.v1 process", 300, sid)),
            resource(
                "notify",
                span("0000000000000005", "0000000000000002", "submissions.v1 process", 400, sid),
                span("0000000000000006", "0000000000000005", "smtp send", 500, {**sid, "error": True}),
            ),
        ]
    }


def other_trace() -> dict[str, Any]:
    """A trace of another dossier, which the search must leave out."""
    trace = json.loads(json.dumps(jaeger_trace("cd" * 16)).replace('"s-1"', '"s-2"'))
    return dict(trace)


def test_trace_reads_a_dossier_from_jaegers_api_v3(
    clean_env: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    from palmares_cli import cmd_trace, jaeger

    searched: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v3/services":
            return httpx.Response(200, json={"services": ["jaeger", "mentions", "notify", "scoring", "submission"]})
        if request.url.path == "/api/v3/traces":
            params = request.url.params
            searched.append(params["query.service_name"])
            start = datetime.fromisoformat(params["query.start_time_min"])
            end = datetime.fromisoformat(params["query.start_time_max"])
            assert timedelta(days=6) < end - start <= timedelta(days=7, seconds=1)
            assert int(params["query.num_traces"]) > 0
            both = [*jaeger_trace()["resourceSpans"], *other_trace()["resourceSpans"]]
            return httpx.Response(200, json={"result": {"resourceSpans": both}})
        assert request.url.path == f"/api/v3/traces/{'ab' * 16}", request.url.path
        return httpx.Response(200, json={"result": jaeger_trace()})

    class Client(jaeger.JaegerClient):
        def __init__(self, base_url: str) -> None:
            super().__init__(base_url, transport=httpx.MockTransport(handler))

    monkeypatch.setattr(cmd_trace, "JaegerClient", Client)
    monkeypatch.setenv("JAEGER_UI_URL", "http://jaeger.test")
    human = runner.invoke(app, ["trace", "s-1", "--jaeger"])
    assert human.exit_code == 0, human.output
    assert set(searched) == set(jaeger.TAGGED_SERVICES)
    assert "6 spans, services: mentions, notify, scoring, submission" in human.stdout
    assert f"open in Jaeger: http://jaeger.test/trace/{'ab' * 16}" in human.stdout
    as_json = json.loads(runner.invoke(app, ["trace", "s-1", "--jaeger", "--json"]).stdout)
    (trace,) = as_json["traces"]  # not the other dossier's
    assert trace["services"] == ["mentions", "notify", "scoring", "submission"] and trace["errors"] == 1
    assert trace["viewer_url"] == f"http://jaeger.test/trace/{'ab' * 16}"
    assert as_json["source"] == "http://jaeger.test"


def test_api_v3_spans_keep_parents_kinds_statuses_and_typed_attributes() -> None:
    from palmares_cli.jaeger import spans_of

    result = jaeger_trace()
    result["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"] = [
        {"key": "http.status_code", "value": {"intValue": "202"}},
        {"key": "retry", "value": {"boolValue": False}},
    ]
    spans = {s.span_id: s for s in spans_of(result)}
    root, send = spans["0000000000000001"], spans["0000000000000006"]
    assert (root.parent_span_id, root.kind, root.status, root.service) == (None, "SERVER", "UNSET", "submission")
    assert root.attributes == {"http.status_code": 202, "retry": False}
    assert (send.parent_span_id, send.status, send.service) == ("0000000000000005", "ERROR", "notify")
    assert spans["0000000000000003"].kind == "CONSUMER"
    assert send.duration_ms == 1.5


def test_trace_from_jaeger_needs_its_url(clean_env: Path, runner: CliRunner) -> None:
    result = runner.invoke(app, ["trace", "s-1", "--jaeger"])
    assert result.exit_code == EXIT_USAGE and "JAEGER_UI_URL" in result.output

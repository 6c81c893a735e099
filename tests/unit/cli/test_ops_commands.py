"""`grille diff` (files and grilles served by the API), `collectivite revoke`, and the diff wrapper script."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from palmares_cli.cmd_ops import parse_operand
from palmares_cli.errors import EXIT_FAILED, EXIT_UNREACHABLE, EXIT_USAGE
from palmares_cli.grille_changelog import diff, load_grille
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
    assert "6 service change(s)" in result.stdout
    assert "algorithmes_publics" in result.stdout and "poids 3 → 2" in result.stdout
    assert "règle de la mention gouvernement_ouvert modifiée" in result.stdout
    assert "matches the computed diff" in result.stderr


def test_diff_json_is_the_changelog_computed_by_the_grilles_tool(clean_env: Path, runner: CliRunner) -> None:
    result = runner.invoke(app, ["--json", "grille", "diff", str(G2017), str(G2018)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    expected = [e.model_dump(mode="json") for e in diff(load_grille(G2017), load_grille(G2018))]
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
    assert json.loads(result.stdout) == [
        e.model_dump(mode="json") for e in diff(load_grille(pair[0]), load_grille(pair[1]))
    ]


# ------------------------------------------------------------------ trace --jaeger


def jaeger_trace(trace_id: str = "ab" * 16) -> dict[str, Any]:
    def span(sid: str, parent: str | None, name: str, pid: str, start: int, tags: dict[str, Any] | None = None) -> Any:
        return {
            "traceID": trace_id,
            "spanID": sid,
            "operationName": name,
            "references": [{"refType": "CHILD_OF", "traceID": trace_id, "spanID": parent}] if parent else [],
            "startTime": 1_700_000_000_000_000 + start,
            "duration": 1500,
            "tags": [{"key": k, "type": "string", "value": v} for k, v in (tags or {}).items()],
            "processID": pid,
        }

    sid = {"palmares.submission_id": "s-1"}
    return {
        "traceID": trace_id,
        "spans": [
            span("0000000000000001", None, "POST /v1/editions/{edition}/submissions", "p1", 0),
            span("0000000000000002", "0000000000000001", "submissions.v1 publish", "p1", 100),
            span("0000000000000003", "0000000000000002", "submissions.v1 process", "p2", 200, sid),
            span("0000000000000004", "0000000000000002", "submissions.v1 process", "p3", 300, sid),
            span("0000000000000005", "0000000000000002", "submissions.v1 process", "p4", 400, sid),
            span("0000000000000006", "0000000000000005", "smtp send", "p4", 500, {**sid, "otel.status_code": "ERROR"}),
        ],
        "processes": {
            "p1": {"serviceName": "submission"},
            "p2": {"serviceName": "scoring"},
            "p3": {"serviceName": "mentions"},
            "p4": {"serviceName": "notify"},
        },
    }


def test_trace_reads_a_dossier_from_jaeger(clean_env: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    from palmares_cli import cmd_trace, jaeger

    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(f"{request.url.path}?{request.url.query.decode()}" if request.url.query else request.url.path)
        if request.url.path == "/api/services":
            return httpx.Response(200, json={"data": ["jaeger", "mentions", "notify", "scoring", "submission"]})
        if request.url.path == "/api/traces":
            assert json.loads(request.url.params["tags"]) == {"palmares.submission_id": "s-1"}
            return httpx.Response(200, json={"data": [jaeger_trace()]})
        assert request.url.path == f"/api/traces/{'ab' * 16}"
        return httpx.Response(200, json={"data": [jaeger_trace()]})

    class Client(jaeger.JaegerClient):
        def __init__(self, base_url: str) -> None:
            super().__init__(base_url, transport=httpx.MockTransport(handler))

    monkeypatch.setattr(cmd_trace, "JaegerClient", Client)
    monkeypatch.setenv("JAEGER_UI_URL", "http://jaeger.test")
    human = runner.invoke(app, ["trace", "s-1", "--jaeger"])
    assert human.exit_code == 0, human.output
    assert "6 spans, services: mentions, notify, scoring, submission" in human.stdout
    assert f"open in Jaeger: http://jaeger.test/trace/{'ab' * 16}" in human.stdout
    as_json = json.loads(runner.invoke(app, ["trace", "s-1", "--jaeger", "--json"]).stdout)
    (trace,) = as_json["traces"]
    assert trace["services"] == ["mentions", "notify", "scoring", "submission"] and trace["errors"] == 1
    assert trace["viewer_url"] == f"http://jaeger.test/trace/{'ab' * 16}"
    assert as_json["source"] == "http://jaeger.test"


def test_trace_from_jaeger_needs_its_url(clean_env: Path, runner: CliRunner) -> None:
    result = runner.invoke(app, ["trace", "s-1", "--jaeger"])
    assert result.exit_code == EXIT_USAGE and "JAEGER_UI_URL" in result.output

"""The API client and exit codes: typed errors carrying the status and the API's French messages."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from palmares_cli.api import ApiClient
from palmares_cli.errors import (
    EXIT_FAILED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    ApiError,
    ApiTimeout,
    OperationFailed,
    Unreachable,
    UsageProblem,
    exit_code_for,
)
from palmares_cli.main import app
from typer.testing import CliRunner

FRENCH_422 = {
    "error": "Requête invalide : corrigez les champs indiqués.",
    "detail": [
        {
            "field": "actions.0.title",
            "message": "texte trop court (au moins 1 caractère(s))",
            "type": "string_too_short",
        },
        {
            "field": "actions.0.started_on",
            "message": "une date AAAA-MM-JJ est attendue",
            "type": "date_from_datetime_parsing",
        },
    ],
}


def client(handler: Callable[[httpx.Request], httpx.Response], token: str | None = "op") -> ApiClient:
    return ApiClient("http://api.test", token, transport=httpx.MockTransport(handler))


def test_error_carries_status_and_french_details_verbatim() -> None:
    api = client(lambda r: httpx.Response(422, json=FRENCH_422))
    with pytest.raises(ApiError) as caught:
        api.submit(2017, {"actions": []}, token="pal_x")
    error = caught.value
    assert error.status == 422
    assert error.message == "Requête invalide : corrigez les champs indiqués."
    assert [(d.field, d.message) for d in error.details] == [
        ("actions.0.title", "texte trop court (au moins 1 caractère(s))"),
        ("actions.0.started_on", "une date AAAA-MM-JJ est attendue"),
    ]
    assert (error.method, error.path) == ("POST", "/v1/editions/2017/submissions")
    assert exit_code_for(error) == EXIT_FAILED


def test_error_bodies_that_are_not_ours_still_give_a_message() -> None:
    with pytest.raises(ApiError) as caught:
        client(lambda r: httpx.Response(502, text="<html>Bad gateway</html>")).grille(2017)
    assert caught.value.status == 502 and "Bad gateway" in caught.value.message
    with pytest.raises(ApiError) as caught:
        client(lambda r: httpx.Response(404, json={"detail": "Not Found"})).grille(2017)
    assert caught.value.message == "Not Found"


def test_connection_refused_is_unreachable(closed_port: int) -> None:
    with ApiClient(f"http://127.0.0.1:{closed_port}", "op") as api, pytest.raises(Unreachable) as caught:
        api.health()
    assert exit_code_for(caught.value) == EXIT_UNREACHABLE


def test_timeouts_after_sending_are_failures_not_unreachable() -> None:
    def read_timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    def connect_timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("no route", request=request)

    with pytest.raises(ApiTimeout) as caught:
        client(read_timeout).submission("abc")
    assert exit_code_for(caught.value) == EXIT_FAILED
    with pytest.raises(Unreachable):
        client(connect_timeout).submission("abc")


def test_exit_code_mapping() -> None:
    assert exit_code_for(OperationFailed("x")) == 1
    assert exit_code_for(UsageProblem("x")) == 2
    assert exit_code_for(Unreachable("x")) == 3
    assert exit_code_for(ApiError(500, "Erreur interne")) == 1
    assert exit_code_for(RuntimeError("bug")) == 1


def test_requests_carry_bearer_token_idempotency_key_and_safe_paths() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            202,
            json={"submission_id": "s-1", "revision": 1, "status_url": "/v1/submissions/s-1"},
            headers={"Idempotent-Replayed": "true"},
        )

    accepted = client(handler).submit(
        2017, {"actions": [], "narrative": ""}, token="pal_collectivite", idempotency_key="k-1"
    )
    assert accepted["idempotent_replay"] is True
    request = seen[0]
    assert request.headers["Authorization"] == "Bearer pal_collectivite"  # the collectivité's, not the operator's
    assert request.headers["Idempotency-Key"] == "k-1"
    assert json.loads(request.content) == {"actions": [], "narrative": ""}

    client(lambda r: seen.append(r) or httpx.Response(200, json={})).submission("../collectivites")
    assert seen[-1].url.raw_path == b"/v1/submissions/..%2Fcollectivites"


# --- through the command line -----------------------------------------------------------------


def test_cli_api_error_exits_1_and_prints_french_messages(
    clean_env: Path, runner: CliRunner, use_transport: Callable[..., None], write_json: Callable[..., Path]
) -> None:
    use_transport(lambda r: httpx.Response(422, json=FRENCH_422))
    dossier = write_json("dossier.json", {"actions": [{"title": ""}], "narrative": ""})
    result = runner.invoke(
        app, ["--api-url", "http://api.test", "submit", str(dossier), "--token", "pal_x", "--edition", "2017"]
    )
    assert result.exit_code == 1
    assert "422" in result.output
    assert "Requête invalide : corrigez les champs indiqués." in result.output
    assert "actions.0.title: texte trop court (au moins 1 caractère(s))" in result.output


def test_cli_json_error_is_machine_readable(
    clean_env: Path, runner: CliRunner, use_transport: Callable[..., None], problem: Callable[..., httpx.Response]
) -> None:
    use_transport(
        lambda r: problem(
            409,
            "La collectivité 49007 est déjà inscrite.",
            [{"field": "code", "message": "La collectivité 49007 est déjà inscrite.", "type": "invalid"}],
        )
    )
    result = runner.invoke(
        app, ["--api-url", "http://api.test", "--token", "op", "register", "49007", "a@b.example", "--json"]
    )
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["error"]["status"] == 409
    assert payload["error"]["details"] == [{"field": "code", "message": "La collectivité 49007 est déjà inscrite."}]


def test_cli_register_rotates_on_409_when_asked(
    clean_env: Path, runner: CliRunner, use_transport: Callable[..., None], problem: Callable[..., httpx.Response]
) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        if request.url.path == "/v1/collectivites":
            return problem(409, "La collectivité 49007 est déjà inscrite.")
        return httpx.Response(
            200,
            json={
                "code": "49007",
                "name": "Angers",
                "kind": "commune",
                "category": "ville",
                "population": 155850,
                "departement": "49",
                "token": "pal_new",
            },
        )

    use_transport(handler)
    base = ["--api-url", "http://api.test", "--token", "op", "register", "49007", "numerique@mairie-angers.example"]
    refused = runner.invoke(app, base)
    assert refused.exit_code == 1 and "--rotate" in refused.output
    rotated = runner.invoke(app, [*base, "--rotate"])
    assert rotated.exit_code == 0, rotated.output
    assert "pal_new" in rotated.stdout
    assert calls[-2:] == ["POST /v1/collectivites", "POST /v1/collectivites/49007/token"]


def test_cli_usage_errors_exit_2(clean_env: Path, runner: CliRunner) -> None:
    assert runner.invoke(app, ["jury", "decide", "x", "--arobases", "9", "--by", "me"]).exit_code == EXIT_USAGE
    assert runner.invoke(app, ["no-such-command"]).exit_code == EXIT_USAGE
    only_place = runner.invoke(
        app, ["--api-url", "http://x", "--token", "t", "palmares", "publish", "2017", "--place", "Lille"]
    )
    assert only_place.exit_code == EXIT_USAGE and "--date" in only_place.output


def test_cli_unreachable_exits_3(clean_env: Path, runner: CliRunner, closed_port: int) -> None:
    result = runner.invoke(app, ["--api-url", f"http://127.0.0.1:{closed_port}", "--token", "op", "status", "abc"])
    assert result.exit_code == EXIT_UNREACHABLE
    assert "cannot reach the API" in result.output


def test_an_answer_that_is_not_the_expected_object_is_a_failure() -> None:
    """A proxy or another program answering JSON of another shape: one sentence, not a crash further on."""
    with pytest.raises(OperationFailed, match="the API answered list, not a JSON object"):
        client(lambda request: httpx.Response(200, json=[1, 2])).submission("abc")
    assert client(lambda request: httpx.Response(200, json={"status": "received"})).submission("abc") == {
        "status": "received"
    }

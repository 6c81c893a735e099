"""`palmares collectivite reopen CODE EDITION [--until INSTANT]` (wiring; the API is faked)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from palmares_cli.main import app
from typer.testing import CliRunner


def run(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(app, ["--api-url", "http://api.test", "--token", "op", "collectivite", "reopen", *args])


def _answering(sent: list[tuple[str, str, Any]]) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        sent.append((request.method, request.url.path, body))
        return httpx.Response(
            200,
            json={
                "edition": 2018,
                "code": "76276",
                "reopened_at": "2017-12-02T09:00:00Z",
                "until": body["until"],
                "closes_at": "2017-11-30T17:00:00Z",
            },
        )

    return handler


def test_reopens_until_the_palmares_by_default(
    clean_env: Path, runner: CliRunner, use_transport: Callable[..., None]
) -> None:
    sent: list[tuple[str, str, Any]] = []
    use_transport(_answering(sent))
    result = run(runner, "76276", "2018")
    assert result.exit_code == 0, result.output
    assert sent == [("PUT", "/v1/editions/2018/collectivites/76276/reopening", {"until": None})]
    assert "reopened until the palmarès is published" in result.stdout


def test_reopens_until_an_instant_with_its_offset(
    clean_env: Path, runner: CliRunner, use_transport: Callable[..., None]
) -> None:
    sent: list[tuple[str, str, Any]] = []
    use_transport(_answering(sent))
    result = run(runner, "76276", "2018", "--until", "2017-12-15T18:00:00+01:00")
    assert result.exit_code == 0, result.output
    assert sent[0][2] == {"until": "2017-12-15T18:00:00+01:00"}
    assert "until 2017-12-15T18:00:00+01:00" in result.stdout


def test_an_instant_without_offset_is_refused(
    clean_env: Path, runner: CliRunner, use_transport: Callable[..., None]
) -> None:
    use_transport(lambda request: httpx.Response(500))
    result = run(runner, "76276", "2018", "--until", "2017-12-15T18:00:00")
    assert result.exit_code == 2

"""`palmares jury decide ID --arobases N --by NAME [--mention CODE]… [--no-mentions]` (wiring; the API is faked)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from palmares_cli.main import app
from typer.testing import CliRunner

SID = "00000000-0000-4000-8000-000000000001"


def _run(runner: CliRunner, use_transport: Callable[..., None], *args: str) -> tuple[Any, list[dict[str, Any]]]:
    sent: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert (request.method, request.url.path) == ("POST", f"/v1/submissions/{SID}/jury-decision")
        body = json.loads(request.content)
        sent.append(body)
        return httpx.Response(202, json={**body, "decided_at": "2017-12-01T10:00:00Z", "revision": 1})

    use_transport(handler)
    base = ["--api-url", "http://api.test", "--token", "op", "jury", "decide", SID, "--arobases", "4", "--by", "Jury"]
    return runner.invoke(app, [*base, *args]), sent


def test_without_mentions_the_detected_ones_stand(
    clean_env: Path, runner: CliRunner, use_transport: Callable[..., None]
) -> None:
    result, sent = _run(runner, use_transport)
    assert result.exit_code == 0, result.output
    assert "mentions" not in sent[0]


def test_the_mentions_granted_are_sent_by_code(
    clean_env: Path, runner: CliRunner, use_transport: Callable[..., None]
) -> None:
    result, sent = _run(runner, use_transport, "--mention", "reseaux_sociaux", "--mention", "teletravail")
    assert result.exit_code == 0, result.output
    assert sent[0]["mentions"] == ["reseaux_sociaux", "teletravail"]
    assert "Mentions granted: reseaux_sociaux, teletravail." in result.stdout


def test_no_mentions_grants_none(clean_env: Path, runner: CliRunner, use_transport: Callable[..., None]) -> None:
    result, sent = _run(runner, use_transport, "--no-mentions")
    assert result.exit_code == 0, result.output
    assert sent[0]["mentions"] == []
    assert "Mentions granted: none." in result.stdout


def test_mention_and_no_mentions_exclude_each_other(
    clean_env: Path, runner: CliRunner, use_transport: Callable[..., None]
) -> None:
    result, sent = _run(runner, use_transport, "--mention", "x", "--no-mentions")
    assert result.exit_code == 2 and sent == []

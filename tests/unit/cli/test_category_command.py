"""`palmares collectivite category CODE EDITION [--set … --reason … --by …]` (wiring; the API is faked)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from palmares_cli.main import app
from typer.testing import CliRunner

VIEW = {
    "code": "76276",
    "edition": 2017,
    "category": "village",
    "population": 3492,
    "millesime": 2016,
    "category_from_population": "village",
    "override": None,
    "history": [],
    "revision": None,
}
REASON = "Commune nouvelle avec Le Fossé au 1er janvier 2016 : 3 989 habitants."


def run(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(app, ["--api-url", "http://api.test", "--token", "op", "collectivite", "category", *args])


def test_shows_the_category_of_an_edition(
    clean_env: Path, runner: CliRunner, use_transport: Callable[..., None]
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=VIEW)

    use_transport(handler)
    result = run(runner, "76276", "2017")
    assert result.exit_code == 0, result.output
    assert (seen[0].method, seen[0].url.path) == ("GET", "/v1/editions/2017/collectivites/76276/category")
    assert "76276 in 2017: village" in result.stdout and "3492 (reference data of 2016)" in result.stdout


def test_an_override_sends_its_reason_and_shows_the_new_revision(
    clean_env: Path, runner: CliRunner, use_transport: Callable[..., None]
) -> None:
    sent: list[dict[str, Any]] = []
    decision = {"category": "ville", "reason": REASON, "decided_by": "Équipe", "decided_at": "2016-12-01T10:00:00Z"}

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        assert (request.method, request.url.path) == ("PUT", "/v1/editions/2017/collectivites/76276/category")
        return httpx.Response(
            200, json={**VIEW, "category": "ville", "override": decision, "history": [decision], "revision": 2}
        )

    use_transport(handler)
    result = run(runner, "76276", "2017", "--set", "ville", "--reason", REASON, "--by", "Équipe")
    assert result.exit_code == 0, result.output
    assert sent == [{"category": "ville", "reason": REASON, "decided_by": "Équipe"}]
    assert "ville by Équipe" in result.stdout and "revision 2" in result.stdout


def test_an_override_needs_a_reason_and_a_name(
    clean_env: Path, runner: CliRunner, use_transport: Callable[..., None]
) -> None:
    use_transport(lambda request: httpx.Response(500))
    result = run(runner, "76276", "2017", "--set", "ville", "--by", "Équipe")
    assert result.exit_code == 2
    assert "--reason" in result.output

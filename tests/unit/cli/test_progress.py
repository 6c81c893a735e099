"""`palmares progress`, and `--wait` on `grille publish` and `palmares publish` (the API faked in process)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from palmares_cli.errors import EXIT_FAILED, OperationFailed
from palmares_cli.main import app
from palmares_cli.progress import EVALUATION, summary_lines, wait_until_finished
from typer.testing import CliRunner

from tests.unit.cli.conftest import REPO, Handler

API = ["--api-url", "http://api.test", "--token", "op"]
G2018V2 = REPO / "deploy" / "grilles" / "grille-2018-v2.json"


def job(service: str, done: int, total: int, *, started: bool = True, kind: str = "evaluation") -> dict[str, Any]:
    return {
        "service": service,
        "job": kind,
        "started_at": "2026-12-05T08:00:00Z" if started else None,
        "done": done,
        "total": total,
        "rate_per_s": 12.5 if done < total else 0.0,
        "eta_s": (total - done) / 12.5 if done < total else 0.0,
        "finished": started and done >= total,
    }


def view(scoring: int, mentions: int, awards: int = 0, *, version: int = 2, published: bool = False) -> dict[str, Any]:
    return {
        "edition": 2018,
        "grille_version": version,
        "palmares_published_at": "2026-12-05T08:10:00Z" if published else None,
        "measured_at": "2026-12-05T08:11:00Z",
        "dossiers": 100,
        "evaluated": {"scoring": scoring, "mentions": mentions},
        "awards": {"queued": (100 - awards) if published else 0, "sent": awards, "failed": 0},
        "dead_letters": {"total": 0, "topics": {}},
        "jobs": [
            job("scoring", scoring, 100),
            job("mentions", mentions, 100),
            job("notify", awards, 100 if published else 0, started=published, kind="awards"),
        ],
    }


def sequence(views: list[dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """Each call the next view, the last one forever."""
    it: Iterator[dict[str, Any]] = iter(views)
    last: list[dict[str, Any]] = []

    def fetch() -> dict[str, Any]:
        last[:] = [next(it, last[0] if last else views[-1])]
        return last[0]

    return fetch


def test_waits_until_every_job_waited_for_is_finished() -> None:
    seen: list[tuple[int, int]] = []
    done = wait_until_finished(
        sequence([view(0, 0), view(60, 100), view(100, 100)]),
        EVALUATION,
        on_update=lambda v: seen.append((v["evaluated"]["scoring"], v["evaluated"]["mentions"])),
        sleep=lambda _s: None,
    )
    assert done["evaluated"] == {"scoring": 100, "mentions": 100}
    assert seen == [(0, 0), (60, 100), (100, 100)]


def test_a_job_not_started_is_not_finished() -> None:
    # The palmarès not yet seen by the API: the awards' job has total 0 but has not started.
    with pytest.raises(OperationFailed, match="timed out after 5 s: notify awards: 0/0"):
        ticks = iter(range(100))
        wait_until_finished(
            sequence([view(100, 100)]), ("notify",), timeout_s=5, clock=lambda: next(ticks), sleep=lambda _s: None
        )


def test_a_timeout_names_the_jobs_behind() -> None:
    ticks = iter(range(100))
    with pytest.raises(OperationFailed, match=r"timed out after 3 s: scoring evaluation: 40/100$"):
        wait_until_finished(
            sequence([view(40, 100)]), EVALUATION, timeout_s=3, clock=lambda: next(ticks), sleep=lambda _s: None
        )


def test_a_newer_grille_version_ends_the_wait_for_the_older_one() -> None:
    with pytest.raises(OperationFailed, match="grille version 3 was published while version 2"):
        wait_until_finished(
            sequence([view(10, 10), view(0, 0, version=3)]), EVALUATION, grille_version=2, sleep=lambda _s: None
        )


def test_the_summary_names_every_count() -> None:
    lines = summary_lines(view(100, 100, 40, published=True))
    assert lines[0] == "Edition 2018, grille version 2: 100 dossier(s)"
    assert "evaluated      scoring 100, mentions 100" in lines[1]
    assert "awards         40 sent, 0 failed, 60 queued" in lines[2]
    assert lines[3].endswith("dead letters   0")
    assert lines[-1].split() == ["notify", "awards", "40/100", "running,", "12.5/s,", "0:00:05", "left"]


def api_handler(views: list[dict[str, Any]], calls: list[str]) -> Handler:
    fetch = sequence(views)

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        if request.url.path == "/v1/editions/2018/grille":
            body = json.loads(request.content)
            return httpx.Response(200, json={**body, "edition": 2018, "version": 2})
        if request.url.path == "/v1/editions/2018/palmares":
            return httpx.Response(202, json={"edition": 2018, "published_at": "2026-12-05T08:10:00Z"})
        if request.url.path == "/v1/editions/2018/progress":
            return httpx.Response(200, json=fetch())
        return httpx.Response(404, json={"error": "?"})

    return handle


def test_grille_publish_wait_follows_the_reevaluation(
    clean_env: Path, runner: CliRunner, use_transport: Callable[[Handler], None]
) -> None:
    calls: list[str] = []
    use_transport(api_handler([view(0, 0), view(50, 80), view(100, 100)], calls))
    result = runner.invoke(app, [*API, "--json", "grille", "publish", str(G2018V2), "--wait", "--interval", "0.1"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["version"] == 2 and payload["progress"]["evaluated"] == {"scoring": 100, "mentions": 100}
    assert calls == ["PUT /v1/editions/2018/grille"] + ["GET /v1/editions/2018/progress"] * 3
    assert "Re-evaluating every dossier" in result.stderr


def test_dead_letters_arriving_during_the_wait_are_told(
    clean_env: Path, runner: CliRunner, use_transport: Callable[[Handler], None]
) -> None:
    stuck = view(99, 100)
    stuck["dead_letters"] = {"total": 1, "topics": {"submissions.v1.dlq": 1}}
    use_transport(api_handler([view(0, 0), view(50, 100), stuck], []))
    result = runner.invoke(app, [*API, "progress", "2018", "--wait", "--timeout", "0.3", "--interval", "0.1"])
    assert result.exit_code == EXIT_FAILED
    assert "1 new dead letter(s) while waiting: `palmares dlq list` shows why" in result.stderr
    assert "timed out after 0.3 s: scoring evaluation: 99/100" in result.stderr


def test_grille_publish_without_wait_does_not_poll(
    clean_env: Path, runner: CliRunner, use_transport: Callable[[Handler], None]
) -> None:
    calls: list[str] = []
    use_transport(api_handler([view(0, 0)], calls))
    result = runner.invoke(app, [*API, "grille", "publish", str(G2018V2)])
    assert result.exit_code == 0, result.output
    assert calls == ["PUT /v1/editions/2018/grille"]
    assert result.stdout.startswith("Published grille 2018 version 2")


def test_palmares_publish_wait_follows_the_awards_and_times_out(
    clean_env: Path, runner: CliRunner, use_transport: Callable[[Handler], None]
) -> None:
    calls: list[str] = []
    use_transport(api_handler([view(100, 100, 10, published=True), view(100, 100, 100, published=True)], calls))
    result = runner.invoke(app, [*API, "palmares", "publish", "2018", "--wait", "--interval", "0.1"])
    assert result.exit_code == 0, result.output
    assert "awards         100 sent, 0 failed, 0 queued" in result.stdout

    use_transport(api_handler([view(100, 100, 10, published=True)], calls))
    result = runner.invoke(
        app, [*API, "palmares", "publish", "2018", "--wait", "--timeout", "0.3", "--interval", "0.1"]
    )
    assert result.exit_code == EXIT_FAILED
    assert "timed out after 0.3 s: notify awards: 10/100" in result.stderr


def test_progress_shows_the_counts_once(
    clean_env: Path, runner: CliRunner, use_transport: Callable[[Handler], None]
) -> None:
    calls: list[str] = []
    use_transport(api_handler([view(30, 100)], calls))
    result = runner.invoke(app, [*API, "progress", "2018"])
    assert result.exit_code == 0, result.output
    assert "scoring  evaluation 30/100 running, 12.5/s, 0:00:06 left" in result.stdout
    assert calls == ["GET /v1/editions/2018/progress"]

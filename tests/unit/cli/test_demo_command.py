"""`palmares demo` against an in-process fake of the API (httpx.MockTransport): the whole flow, no server."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from palmares_cli.main import app
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[3]


class FakeApi:
    """Just enough of the submission service: statuses advance one step per read."""

    def __init__(self, problem: Callable[..., httpx.Response]) -> None:
        self.problem = problem
        self.grille: dict[str, Any] | None = None
        self.registered: dict[str, str] = {}
        self.tokens: dict[str, str] = {}
        self.submissions: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, str] = {}
        self.palmares: dict[str, Any] | None = None
        self.calls: list[str] = []
        self.jury_members: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        self.calls.append(f"{method} {path}")
        body = json.loads(request.content) if request.content else None
        if path == "/v1/editions/2017/palmares":
            if method == "POST":
                self.palmares = {
                    "edition": 2017,
                    "published_at": "2017-02-01T10:00:00Z",
                    "ceremony": body["ceremony"],
                    "villages": [],
                    "villes": [],
                    "territoires": [],
                }
                return httpx.Response(202, json={"edition": 2017, "published_at": "2017-02-01T10:00:00Z"})
            return (
                httpx.Response(200, json=self.palmares)
                if self.palmares
                else self.problem(404, "Le palmarès 2017 n'est pas encore publié.")
            )
        if path == "/v1/editions/2017/grille":
            if method == "PUT":
                version = (self.grille or {}).get("version", 0) + 1
                self.grille = {**body, "version": version}
                return httpx.Response(200, json=self.grille)
            return (
                httpx.Response(200, json=self.grille)
                if self.grille
                else self.problem(404, "Aucune grille publiée pour l'édition 2017.")
            )
        if path == "/v1/collectivites":
            code = body["code"]
            if code in self.registered:
                return self.problem(409, f"La collectivité {code} est déjà inscrite.")
            self.registered[code] = body["contact_email"]
            return self._token(code, 201)
        if path.startswith("/v1/collectivites/") and path.endswith("/token"):
            return self._token(path.split("/")[3], 200)
        if path == "/v1/editions/2017/submissions":
            if self.palmares:
                return self.problem(409, "La campagne 2017 est close : le palmarès a été publié.")
            code = self.tokens[request.headers["Authorization"].removeprefix("Bearer ")]
            assert set(body) == {"actions", "narrative", "contact_email"}
            key = request.headers["Idempotency-Key"]
            sid = self.keys.setdefault(key, f"sub-{code}")
            self.submissions.setdefault(sid, {"code": code, "reads": 0, "body": body})
            return httpx.Response(
                202, json={"submission_id": sid, "revision": 1, "status_url": f"/v1/submissions/{sid}"}
            )
        if path.startswith("/v1/submissions/") and path.endswith("/jury-decision"):
            self.submissions[path.split("/")[3]]["jury"] = {**body, "decided_at": "2017-01-20T10:00:00Z"}
            return httpx.Response(202, json=body)
        if path.startswith("/v1/submissions/"):
            sub = self.submissions[path.split("/")[3]]
            sub["reads"] += 1
            status = (
                "received" if sub["reads"] < 2 else ("notified" if self.palmares and sub["reads"] > 3 else "evaluated")
            )
            return httpx.Response(
                200,
                json={
                    "submission_id": path.split("/")[3],
                    "revision": 1,
                    "edition": 2017,
                    "collectivite_code": sub["code"],
                    "status": status,
                    "score": 12.5,
                    "arobases": 2,
                    "mentions": [{"code": "teletravail", "label": "Télétravail"}],
                    "jury": sub.get("jury"),
                    "notifications": [],
                },
            )
        if path == "/v1/jury-members" and method == "POST":
            self.jury_members.append(body["email"])
            return httpx.Response(201, json={"member_id": "m-1", **body, "token": "jur_x", "invited_at": "2017-01-01"})
        if path == "/v1/sign-in-links":
            return httpx.Response(
                201, json={"url": f"http://api/espace/connexion/lien?token=for-{body['email']}", "expires_at": "x"}
            )
        return self.problem(404, "Ressource introuvable.")

    def _token(self, code: str, status: int) -> httpx.Response:
        token = f"pal_{code}_{len(self.tokens)}"
        self.tokens[token] = code
        return httpx.Response(
            status,
            json={
                "code": code,
                "name": code,
                "kind": "commune",
                "category": "ville",
                "population": 1,
                "departement": "01",
                "token": token,
            },
        )


@pytest.fixture
def campaign(write_json: Callable[..., Path]) -> Path:
    full = json.loads((REPO / "deploy/demo/campaign-2017.json").read_text(encoding="utf-8"))
    return write_json("campaign.json", {**full, "collectivites": full["collectivites"][:3]})


def _demo(runner: CliRunner, campaign: Path, *extra: str) -> Any:
    return runner.invoke(
        app,
        [
            "--api-url",
            "http://api.test",
            "--token",
            "op",
            "demo",
            "--campaign",
            str(campaign),
            "--grille",
            str(REPO / "deploy/grilles/grille-2017.json"),
            "--themes",
            str(REPO / "deploy/demo/themes.json"),
            "--timeout",
            "30",
            *extra,
        ],
    )


@pytest.fixture
def serve_api(
    use_transport: Callable[..., None], problem: Callable[..., httpx.Response], monkeypatch: pytest.MonkeyPatch
) -> Callable[[], FakeApi]:
    """A fresh fake API behind the CLI's HTTP client, each time it is called; the CLI's waits return at once."""
    monkeypatch.setattr("palmares_cli.waiting.time.sleep", lambda s: None)

    def serve() -> FakeApi:
        api = FakeApi(problem)
        use_transport(api)
        return api

    return serve


def test_demo_loads_publishes_and_is_safe_to_rerun(
    clean_env: Path, runner: CliRunner, campaign: Path, serve_api: Callable[[], FakeApi]
) -> None:
    api = serve_api()

    first = _demo(runner, campaign, "--no-publish", "--jury-from-article")
    assert first.exit_code == 0, first.output
    assert api.grille is not None and api.grille["version"] == 1
    assert len(api.submissions) == 3 and api.palmares is None
    assert all(a["services"] and "themes" not in a for s in api.submissions.values() for a in s["body"]["actions"])
    jury = [s["jury"]["arobases"] for s in api.submissions.values() if "jury" in s]
    assert jury == [5, 5, 5]  # Besançon, Grenoble, Angers: 5 @ in the article
    tokens = clean_env / ".run" / "demo-tokens.json"
    assert stat.S_IMODE(tokens.stat().st_mode) == 0o600
    saved = json.loads(tokens.read_text())
    assert set(saved["collectivites"]) == {"25056", "38185", "49007"}
    assert "Besançon (25056)" in first.stdout and "evaluated" in first.stdout
    # The pré-notation and the jury side by side.
    assert "pré-notation" in first.stdout and "jury" in first.stdout

    # Re-run: same grille (not republished), 409 → token rotated, same idempotency key → same submissions.
    second = _demo(runner, campaign, "--json")
    assert second.exit_code == 0, second.output
    assert api.grille["version"] == 1
    assert sum(c == "POST /v1/collectivites/25056/token" for c in api.calls) == 1
    assert len(api.submissions) == 3
    assert api.palmares is not None and api.palmares["ceremony"] == {"place": "Lille", "date": "2017-02-01"}
    result = json.loads(second.stdout)
    assert result["palmares_published"] is True
    assert [d["status"] for d in result["dossiers"]] == ["notified"] * 3
    assert result["dossiers"][0]["mentions"] == ["Télétravail"]
    # The espaces: a jury member invited, a sign-in link for them and for the first collectivité.
    assert api.jury_members == ["jury@villes-internet.example"] * 2
    assert result["espaces"]["jury"]["sign_in_link"].endswith("token=for-jury@villes-internet.example")
    assert result["espaces"]["collectivite"]["email"] == api.registered["25056"]

    # Once the palmarès is published: say so, show the dossiers, exit 0, change nothing.
    calls = len(api.calls)
    third = _demo(runner, campaign)
    assert third.exit_code == 0, third.output
    assert "already published" in third.output
    espaces = ("POST /v1/jury-members", "POST /v1/sign-in-links")
    assert not any(c.startswith(("PUT", "POST")) and c not in espaces for c in api.calls[calls:])
    assert "espace jury" in third.stdout and "token=for-jury@villes-internet.example" in third.stdout


def test_the_article_jury_is_recorded_by_default_and_can_be_left_out(
    clean_env: Path, runner: CliRunner, campaign: Path, serve_api: Callable[[], FakeApi]
) -> None:
    without = serve_api()
    assert _demo(runner, campaign, "--no-publish", "--no-jury-from-article").exit_code == 0
    assert not any("jury" in s for s in without.submissions.values())

    default = serve_api()
    (clean_env / ".run" / "demo-tokens.json").unlink()
    result = _demo(runner, campaign, "--no-publish", "--json")
    assert result.exit_code == 0, result.output
    assert [s["jury"]["arobases"] for s in default.submissions.values()] == [5, 5, 5]
    assert [d["jury_arobases"] for d in json.loads(result.stdout)["dossiers"]] == [5, 5, 5]


def test_demo_refuses_unknown_themes_before_any_call(
    clean_env: Path, runner: CliRunner, write_json: Callable[..., Path], serve_api: Callable[[], FakeApi]
) -> None:
    api = serve_api()
    full = json.loads((REPO / "deploy/demo/campaign-2017.json").read_text(encoding="utf-8"))
    entry = full["collectivites"][0]
    entry["dossier"]["actions"][0]["themes"].append("réalité virtuelle")
    campaign = write_json("campaign.json", {**full, "collectivites": [entry]})
    result = _demo(runner, campaign)
    assert result.exit_code == 1
    assert "réalité virtuelle" in result.output and "25056" in result.output
    assert api.calls == []

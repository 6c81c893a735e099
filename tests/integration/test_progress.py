"""Progress of an edition's long work on the real stack: `GET /v1/editions/{edition}/progress`, and
`palmares grille publish --wait` and `palmares palmares publish --wait` run until the work is done."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.factories import grille_body
from tests.integration.harness import Api, Codes, Stack, dossier

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

PALMARES = Path(sys.executable).with_name("palmares")
DOSSIERS = 4


async def palmares(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [str(PALMARES), "--api-url", stack.api_url, "--token", stack.operator_token, "--json", *args]
    return await asyncio.to_thread(subprocess.run, argv, capture_output=True, text=True, timeout=120, check=False)


def jobs(view: dict[str, Any]) -> dict[str, tuple[int, int, bool]]:
    return {j["service"]: (j["done"], j["total"], j["finished"]) for j in view["jobs"]}


async def test_progress_follows_the_reevaluation_and_the_awards(
    stack: Stack, api: Api, codes: Codes, edition: int, tmp_path: Path
) -> None:
    r = await api.client.get(f"/v1/editions/{edition}/progress", headers=api.operator)
    assert r.status_code == 404 and "Aucune grille publiée" in r.json()["error"]

    await api.publish_grille(grille_body(edition))
    sids, token = [], ""
    for _ in range(DOSSIERS):
        code = codes.take("ville")
        contact = f"progress-{edition}-{code}@collectivites.example"
        token = await api.register(code, contact)
        sids.append((await api.submit(token, edition, dossier(contact))).json()["submission_id"])
    for sid in sids:
        await api.wait_status(sid, "notified", grille_version=1, mentions_grille_version=1)

    r = await api.client.get(f"/v1/editions/{edition}/progress", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403
    r = await api.client.get(f"/v1/editions/{edition}/progress", headers=api.operator)
    assert r.status_code == 200, r.text
    view = r.json()
    assert (view["dossiers"], view["grille_version"], view["evaluated"]) == (
        DOSSIERS,
        1,
        {"scoring": DOSSIERS, "mentions": DOSSIERS},
    )
    assert jobs(view) == {"scoring": (4, 4, True), "mentions": (4, 4, True), "notify": (0, 0, False)}
    assert view["awards"] == {"queued": 0, "sent": 0, "failed": 0}
    assert view["dead_letters"] is not None, "the API reads the dead-letter topics' offsets from Kafka"

    # v2 re-weights a service every dossier declares: each is re-evaluated, and the CLI waits for all.
    body = grille_body(edition)
    body["services"] = [
        {**s, "weight": s["weight"] * 2} if s["code"] == "portail_open_data" else s  # type: ignore[index]
        for s in body["services"]  # type: ignore[union-attr]
    ]
    file = tmp_path / "grille-v2.json"
    file.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    run = await palmares(stack, "grille", "publish", str(file), "--wait", "--timeout", "90", "--interval", "0.5")
    assert run.returncode == 0, run.stdout + run.stderr
    published = json.loads(run.stdout)
    assert published["version"] == 2
    after = published["progress"]
    assert after["grille_version"] == 2
    assert after["evaluated"] == {"scoring": DOSSIERS, "mentions": DOSSIERS}
    assert jobs(after)["scoring"] == (4, 4, True) and jobs(after)["mentions"] == (4, 4, True)
    for sid in sids:  # what the progress said is what each dossier's status view says
        status = await api.status(sid)
        assert (status["grille_version"], status["mentions_grille_version"]) == (2, 2)

    run = await palmares(stack, "palmares", "publish", str(edition), "--wait", "--timeout", "90", "--interval", "0.5")
    assert run.returncode == 0, run.stdout + run.stderr
    awarded = json.loads(run.stdout)["progress"]
    assert awarded["awards"] == {"queued": 0, "sent": DOSSIERS, "failed": 0}
    assert jobs(awarded)["notify"] == (4, 4, True)
    assert awarded["palmares_published_at"] is not None
    for sid in sids:
        notes = (await api.status(sid))["notifications"]
        assert any(n["kind"] == "award" and n["status"] == "sent" for n in notes)

"""`palmares grille calibrer EDITION --from-api`: the thresholds fitted to the jury decisions recorded by Palmarès."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from palmares_contracts import ChangeKind, GrilleBody

from tests.factories import grille
from tests.integration.harness import Api, Codes, Stack, dossier, eventually

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

PALMARES = Path(sys.executable).with_name("palmares")
# The first action's services (the second always declares the EPN, weight 3 of the 15 a ville has),
# and the jury's arobases: one more than the factory grille's scale (20 / 40 / 60 / 80) gives.
DOSSIERS = [
    ([], 3),
    (["conseil_en_direct"], 3),
    (["portail_open_data"], 4),
    (["portail_open_data", "etat_civil_en_ligne"], 5),
]


async def palmares(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [str(PALMARES), "--api-url", stack.api_url, "--token", stack.operator_token, *args]
    return await asyncio.to_thread(subprocess.run, argv, capture_output=True, text=True, timeout=60, check=False)


async def test_calibration_reads_the_scores_and_the_jury_of_an_edition(
    stack: Stack, api: Api, codes: Codes, edition: int, tmp_path: Path
) -> None:
    body = grille(edition=edition).model_dump(mode="json", exclude={"version"})
    await api.publish_grille(body)
    sids = {}
    for services, jury in DOSSIERS:
        code = codes.take("ville")
        token = await api.register(code, f"calibration-{code}@ville.example")
        r = await api.submit(token, edition, dossier(f"calibration-{code}@ville.example", services=services))
        assert r.status_code == 202, r.text
        sids[code] = (r.json()["submission_id"], jury)
    for sid, jury in sids.values():
        await api.wait_status(sid, "notified")
        r = await api.client.post(
            f"/v1/submissions/{sid}/jury-decision", json={"arobases": jury, "decided_by": "Jury"}, headers=api.operator
        )
        assert r.status_code in (200, 201, 202), r.text

    async def decided() -> dict[str, object] | None:
        view = (await api.client.get(f"/v1/editions/{edition}/evaluations", headers=api.operator)).json()
        return view if all(d["jury_arobases"] for d in view["dossiers"]) else None

    view = await eventually(decided, what="every jury decision recorded")
    scores = sorted((d["score"], d["pre_notation"], d["jury_arobases"]) for d in view["dossiers"])  # type: ignore[union-attr]
    assert scores == [(20.0, 2, 3), (33.3, 2, 3), (40.0, 3, 4), (60.0, 4, 5)]

    file = tmp_path / f"grille-{edition}.json"
    file.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    run = await palmares(
        stack, "--json", "grille", "calibrer", str(edition), "--from-api", "--grille", str(file), "--write"
    )
    assert run.returncode == 0, run.stdout + run.stderr
    result = json.loads(run.stdout)
    assert result["cases"] == 4
    assert (result["agreement"]["before"]["exact"], result["agreement"]["after"]["exact"]) == (0.0, 1.0)
    calibrated = GrilleBody.model_validate_json(file.read_text(encoding="utf-8"))
    assert [e.change for e in calibrated.changelog] == [ChangeKind.THRESHOLDS]

    # A grille whose services differ from the one that scored the dossiers is refused.
    body["services"][0]["weight"] = 5
    file.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    run = await palmares(stack, "grille", "calibrer", str(edition), "--from-api", "--grille", str(file))
    assert run.returncode == 1 and "differs from the file" in run.stderr

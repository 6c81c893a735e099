"""`palmares grille calibrer`: thresholds fitted to the jury, the grille rewritten with its changelog, the report."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from palmares_cli.main import app
from palmares_contracts import Category, ChangeKind, GrilleBody
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[3]
GRILLE_2017 = REPO / "deploy/grilles/grille-2017.json"
DESIGNED = "10 / 20 / 32 / 45"


def designed_grille(tmp_path: Path) -> Path:
    """Grille 2017 as it was before its calibration: the designed thresholds, an empty changelog."""
    data = json.loads(GRILLE_2017.read_text(encoding="utf-8"))
    data["thresholds"] = [{"arobases": a, "min_score": m} for a, m in enumerate((0, 10, 20, 32, 45), 1)]
    data["changelog"] = []
    path = tmp_path / "grille-2017.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


CAMPAIGN = (
    "--dossiers",
    str(REPO / "deploy/demo/campaign-2017.json"),
    "--themes",
    str(REPO / "deploy/demo/themes.json"),
)


def calibrer(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(app, ["--api-url", "http://api.test", "grille", "calibrer", *args])


def test_the_demo_campaign_calibrates_grille_2017(clean_env: Path, runner: CliRunner, tmp_path: Path) -> None:
    grille = designed_grille(tmp_path)
    report = tmp_path / "report.md"
    result = calibrer(runner, "2017", "--grille", str(grille), *CAMPAIGN, "--write", "--report", str(report))
    assert result.exit_code == 0, result.output
    calibrated = GrilleBody.model_validate_json(grille.read_text(encoding="utf-8"))
    # The very thresholds grille 2017 ships with, and the changelog that records them.
    assert calibrated.thresholds == GrilleBody.model_validate_json(GRILLE_2017.read_text()).thresholds
    [entry] = calibrated.changelog
    assert entry.change is ChangeKind.THRESHOLDS and entry.detail.startswith(f"seuils : {DESIGNED} → ")
    text = report.read_text(encoding="utf-8")
    assert text in result.stdout
    assert "15 jury decisions (10 exact, 5 ranges) on 22 dossiers" in text
    assert "| after | 15 | 100 % | 100 % | 1.00 |" in text
    assert "| village | general | general (6 decision(s), fewer than 8) |" in text

    # Again, on the calibrated file: the same thresholds, still one changelog entry against the designed ones.
    again = calibrer(runner, "2017", "--grille", str(grille), *CAMPAIGN, "--write")
    assert again.exit_code == 0, again.output
    assert GrilleBody.model_validate_json(grille.read_text(encoding="utf-8")) == calibrated


def test_the_docs_hold_the_report_of_the_shipped_files(clean_env: Path, runner: CliRunner, tmp_path: Path) -> None:
    # docs/calibration.md shows the calibration that produced grille 2017's thresholds.
    result = calibrer(runner, "2017", "--grille", str(designed_grille(tmp_path)), *CAMPAIGN)
    assert result.exit_code == 0, result.output
    doc = (REPO / "docs/calibration.md").read_text(encoding="utf-8")
    generated = result.stdout.split("\n", 1)[1]  # the first line names the files: paths differ
    assert generated.strip() in doc


def test_a_label_history_fits_a_category_apart(
    clean_env: Path, runner: CliRunner, tmp_path: Path, write_json: Callable[..., Path]
) -> None:
    grille = designed_grille(tmp_path)

    def dossier(code: str, category: str, jury: int | list[int], services: list[str]) -> dict[str, Any]:
        action = {"title": f"Action {code}", "services": services, "started_on": "2016-01-04"}
        return {"code": code, "name": f"Commune {code}", "category": category, "jury": jury, "actions": [action]}

    # Ten villages whose jury is harsher than the designed scale; three villes.
    basics = ["site_internet", "demarches_en_ligne", "paiement_en_ligne", "etat_civil_en_ligne", "page_facebook"]
    more = [*basics, "espace_public_numerique", "ateliers_initiation", "inscriptions_scolaires_en_ligne"]
    villages = [dossier(f"0100{i}", "village", 1, basics) for i in range(5)]
    villages += [dossier(f"0101{i}", "village", 2, more) for i in range(5)]
    villes = [dossier(f"0200{i}", "ville", [2, 4], more) for i in range(3)]
    history = write_json("history.json", {"edition": 2017, "dossiers": [*villages, *villes]})
    result = calibrer(runner, "2017", "--grille", str(grille), "--dossiers", str(history), "--write", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload["thresholds"]["per_category"]) == {"village"}
    assert payload["unsupported"] == {"ville": "3 decision(s), fewer than 8"}
    assert payload["agreement"]["after"]["exact"] == 1.0 > payload["agreement"]["before"]["exact"]
    calibrated = GrilleBody.model_validate_json(grille.read_text(encoding="utf-8"))
    [own] = calibrated.category_thresholds
    assert own.category is Category.VILLAGE
    assert [(e.change, e.category) for e in calibrated.changelog if e.category] == [
        (ChangeKind.THRESHOLDS, Category.VILLAGE)
    ]


def test_other_editions_need_their_dossiers(clean_env: Path, runner: CliRunner, tmp_path: Path) -> None:
    shutil.copy(REPO / "deploy/grilles/grille-2018.json", tmp_path / "grille-2018.json")
    result = calibrer(runner, "2018", "--grille", str(tmp_path / "grille-2018.json"))
    assert result.exit_code == 2
    assert "--dossiers" in result.output

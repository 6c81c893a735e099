"""The labelled evaluation set (tests/eval/mentions/) and the targets: precision ≥ 0.95, recall ≥ 0.90 per mention."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tools.mentions.evaluation import (
    DATA_DIR,
    MIN_PRECISION,
    MIN_RECALL,
    LabelledDossier,
    Report,
    evaluate,
    format_report,
    load_dossiers,
    load_grilles,
    main,
)


@pytest.fixture(scope="module")
def dossiers() -> list[LabelledDossier]:
    return load_dossiers()


@pytest.fixture(scope="module")
def report(dossiers: list[LabelledDossier]) -> Report:
    return evaluate(dossiers, load_grilles())


def test_every_mention_meets_the_targets(report: Report) -> None:
    below = {
        code: (round(s.precision, 3), round(s.recall, 3))
        for code, s in report.scores.items()
        if s.precision < MIN_PRECISION or s.recall < MIN_RECALL
    }
    assert not below, format_report(report)


def test_the_set_is_large_and_covers_every_mention_both_ways(dossiers: list[LabelledDossier]) -> None:
    assert len(dossiers) >= 80
    grilles = load_grilles()
    positives: Counter[str] = Counter()
    negatives: Counter[str] = Counter()
    for dossier in dossiers:
        codes = {rule.code for rule in grilles[dossier.grille].mentions}
        assert dossier.expected <= codes, dossier.id
        services = {s.code for s in grilles[dossier.grille].services}
        assert all(set(a.services) <= services for a in dossier.actions), dossier.id
        positives.update(dossier.expected)
        negatives.update(codes - dossier.expected)
    every = {rule.code for g in grilles.values() for rule in g.mentions}
    assert all(positives[code] >= 10 for code in every), positives
    assert all(negatives[code] >= 40 for code in every), negatives


def test_the_set_has_hard_cases_of_every_kind() -> None:
    tags: Counter[str] = Counter()
    for path in DATA_DIR.glob("*.json"):
        for item in json.loads(path.read_text(encoding="utf-8")):
            tags.update(item["tags"])
    assert all(tags[t] >= 8 for t in ("homonym", "negation", "intention", "misspelling", "paraphrase")), tags


def test_the_report_lists_errors_and_the_exit_status_follows_the_targets(tmp_path: Path) -> None:
    (tmp_path / "set.json").write_text(
        json.dumps(
            [
                {
                    "id": "t-1",
                    "grille": "2017",
                    "actions": [{"title": "Réseau de chaleur", "description": "Réseau de chaleur bois."}],
                    "expected": ["reseaux_sociaux"],
                    "tags": [],
                }
            ],
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    assert main(["--data", str(tmp_path)]) == 1
    report = evaluate(load_dossiers(tmp_path), load_grilles())
    assert report.scores["reseaux_sociaux"].recall == 0
    assert "t-1 [2017, set.json] reseaux_sociaux: faux négatif" in format_report(report)
    assert main(["--data", str(tmp_path / "missing")]) == 2
    assert main(["--data", str(tmp_path), "--grilles", str(tmp_path)]) == 2


def test_the_command_passes_on_the_repository_set(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--quiet"]) == 0
    assert "(overall, micro)" in capsys.readouterr().out

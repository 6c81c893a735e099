"""The labelled evaluation sets (tests/eval/mentions/) and their targets."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from palmares_contracts import GrilleBody

from tools.mentions.evaluation import (
    DATA_DIR,
    SETS,
    LabelledDossier,
    Report,
    evaluate,
    format_report,
    load_dossiers,
    load_grilles,
    main,
)


@pytest.fixture(scope="module")
def grilles() -> dict[str, GrilleBody]:
    return load_grilles()


@pytest.fixture(scope="module")
def sets() -> dict[str, list[LabelledDossier]]:
    return {name: load_dossiers(DATA_DIR / name) for name in SETS}


@pytest.fixture(scope="module")
def reports(sets: dict[str, list[LabelledDossier]], grilles: dict[str, GrilleBody]) -> dict[str, Report]:
    return {name: evaluate(dossiers, grilles, name) for name, dossiers in sets.items()}


@pytest.mark.parametrize("name", SETS)
def test_each_set_meets_its_targets(reports: dict[str, Report], name: str) -> None:
    assert not reports[name].failing, format_report(reports[name])


def test_the_sets_are_large_and_cover_every_mention_both_ways(
    sets: dict[str, list[LabelledDossier]], grilles: dict[str, GrilleBody]
) -> None:
    for name, dossiers in sets.items():
        positives: Counter[str] = Counter()
        negatives: Counter[str] = Counter()
        for dossier in dossiers:
            grille = grilles[dossier.grille]
            codes = {rule.code for rule in grille.mentions}
            assert dossier.expected <= codes, dossier.id
            services = {s.code: s for s in grille.services}
            assert all(set(a.services) <= set(services) for a in dossier.actions), dossier.id
            titles = [a.title for a in dossier.actions]
            assert len(set(titles)) == len(titles), f"{dossier.id}: a suggestion names its action by title"
            declared = {c for a in dossier.actions for c in a.services}
            for title, code in dossier.suggested or ():
                assert title in titles and code in services and code not in declared, (dossier.id, code)
                assert dossier.category in services[code].applies_to, (dossier.id, code)
            positives.update(dossier.expected)
            negatives.update(codes - dossier.expected)
        every = {rule.code for g in grilles.values() for rule in g.mentions}
        least, most = (10, 40) if name == "development" else (6, 30)
        assert all(positives[code] >= least for code in every), (name, positives)
        assert all(negatives[code] >= most for code in every), (name, negatives)
    ids = [d.id for dossiers in sets.values() for d in dossiers]
    assert len(ids) == len(set(ids)), "a dossier belongs to one set"


def test_the_sets_have_hard_cases_of_every_kind() -> None:
    tags: Counter[str] = Counter()
    for path in DATA_DIR.glob("*/*.json"):
        for item in json.loads(path.read_text(encoding="utf-8")):
            tags.update(item["tags"])
    kinds = ("homonym", "negation", "intention", "misspelling", "paraphrase", "jargon", "loanword", "outdated")
    assert all(tags[t] >= 8 for t in kinds), tags
    assert all(tags[t] >= 2 for t in ("category", "hint")), tags


def test_the_report_lists_errors_and_the_exit_status_follows_the_targets(tmp_path: Path) -> None:
    (tmp_path / "set.json").write_text(
        json.dumps(
            [
                {
                    "id": "t-1",
                    "grille": "2017",
                    "category": "ville",
                    "actions": [{"title": "Réseau de chaleur", "description": "Réseau de chaleur bois."}],
                    "expected": ["reseaux_sociaux"],
                    "tags": [],
                },
                {
                    "id": "t-2",
                    "grille": "2018",
                    "category": "ville",
                    "actions": [{"title": "Page", "description": "La mairie publie sur sa page Facebook."}],
                    "expected": ["reseaux_sociaux"],
                    "suggested": [],
                    "tags": [],
                },
            ],
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    assert main(["--data", str(tmp_path)]) == 1
    report = evaluate(load_dossiers(tmp_path), load_grilles())
    assert report.scores["reseaux_sociaux"].recall == 0.5
    assert (report.suggestions.false_positives, report.suggestion_dossiers) == (1, 1)
    text = format_report(report)
    assert "t-1 [2017, set.json] reseaux_sociaux: faux négatif" in text
    assert "t-2 [2018, set.json] page_facebook (service suggéré): faux positif" in text
    assert main(["--data", str(tmp_path / "missing")]) == 2
    assert main(["--data", str(tmp_path), "--grilles", str(tmp_path)]) == 2


def test_the_command_prints_both_sets(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--quiet"])
    out = capsys.readouterr().out
    assert "development set:" in out and "heldout set:" in out and out.count("(overall, micro)") == 2

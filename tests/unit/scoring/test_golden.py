"""Golden pré-notations of hand-written dossiers (tests/unit/scoring/golden/*.json).

Three realistic dossiers under the 2017 grille (a village, a ville, an EPCI) and
the same ville dossier under the 2018 grille. Each file holds the full expected
result, computed by hand from docs/scoring.md: the `why` lines show the
arithmetic and `arithmetic` the weights it adds up, which
`test_the_hand_arithmetic_agrees_with_the_grille` checks against the grille
itself (so a wrong hand sum is caught apart from a wrong domain).
"""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from palmares_contracts import Action, Category, Grille, GrilleBody
from palmares_scoring.domain import Score, score_dossier

ROOT = Path(__file__).resolve().parents[3]
GRILLES_DIR = ROOT / "deploy" / "grilles"
GOLDEN_DIR = Path(__file__).parent / "golden"
CASES = sorted(p.name for p in GOLDEN_DIR.glob("*.json"))
CASES_2017 = [c for c in CASES if c.endswith("-2017.json")]


@cache
def load_grille(name: str, version: int) -> Grille:
    body = GrilleBody.model_validate_json((GRILLES_DIR / name).read_text(encoding="utf-8"))
    return Grille(**body.model_dump(), version=version)


@cache
def load_case(name: str) -> dict[str, Any]:
    case: dict[str, Any] = json.loads((GOLDEN_DIR / name).read_text(encoding="utf-8"))
    if "actions_from" in case:  # the same dossier under another grille
        source = load_case(case["actions_from"])
        case = {"collectivite": source["collectivite"], "actions": source["actions"], **case}
    return case


def grille_of(case: dict[str, Any]) -> Grille:
    return load_grille(case["grille"], case["grille_version"])


def category_of(case: dict[str, Any]) -> Category:
    return Category(case["collectivite"]["category"])


def actions_of(case: dict[str, Any]) -> list[Action]:
    return [Action.model_validate(a) for a in case["actions"]]


def score_case(name: str) -> Score:
    case = load_case(name)
    return score_dossier(actions_of(case), category_of(case), grille_of(case))


def as_golden(result: Score) -> dict[str, Any]:
    """The result in the shape of the golden files."""
    return {
        "score": result.score,
        "arobases": result.arobases,
        "enjeux": {e.code: {"coverage": e.coverage, "services": list(e.services)} for e in result.enjeux},
        "next_level": None
        if result.next_level is None
        else {
            "target_arobases": result.next_level.target_arobases,
            "points_missing": result.next_level.points_missing,
            "suggested_services": list(result.next_level.suggested_services),
        },
        "ignored_actions": {i.title: i.reason for i in result.ignored_actions},
    }


@pytest.mark.parametrize("name", CASES)
def test_golden_result(name: str) -> None:
    expected = load_case(name)["expected"]
    actual = as_golden(score_case(name))
    assert actual == expected
    # Dicts compare without order: the explanation's order matters too (grille order, input order).
    assert list(actual["enjeux"]) == list(expected["enjeux"])
    assert list(actual["ignored_actions"]) == list(expected["ignored_actions"])


@pytest.mark.parametrize("name", CASES)
def test_the_hand_arithmetic_agrees_with_the_grille(name: str) -> None:
    case = load_case(name)
    grille, category = grille_of(case), category_of(case)
    arithmetic, expected = case["arithmetic"], case["expected"]
    weights = {s.code: s.weight for s in grille.services if category in s.applies_to}
    assert arithmetic["applicable_weight"] == sum(weights.values())
    covered: dict[str, float] = {}
    for title, services in arithmetic["covered"].items():
        assert title not in expected["ignored_actions"]
        for code, weight in services.items():
            assert weights.get(code) == weight, f"{title}: {code}"
            covered[code] = weight
    assert arithmetic["covered_weight"] == sum(covered.values())
    assert expected["score"] == round(100 * arithmetic["covered_weight"] / arithmetic["applicable_weight"], 1)
    assert set(covered) == {c for e in expected["enjeux"].values() for c in e["services"]}
    # Every action is either counted (with its applicable codes) or ignored with a reason.
    titles = [a["title"] for a in case["actions"]]
    assert len(set(titles)) == len(titles)
    assert sorted(titles) == sorted([*arithmetic["covered"], *expected["ignored_actions"]])


@pytest.mark.parametrize("name", CASES)
def test_the_suggested_services_earn_the_next_arobase(name: str) -> None:
    case = load_case(name)
    grille = grille_of(case)
    next_level = case["expected"]["next_level"]
    more = Action(
        title="Services suggérés", services=tuple(next_level["suggested_services"]), started_on=date(2016, 1, 4)
    )
    result = score_dossier([*actions_of(case), more], category_of(case), grille)
    assert result.arobases == next_level["target_arobases"]


@pytest.mark.parametrize("name", CASES_2017)
def test_each_2017_dossier_shows_every_reason_to_ignore_an_action(name: str) -> None:
    case = load_case(name)
    reasons = list(case["expected"]["ignored_actions"].values())
    assert 5 <= len(case["actions"]) <= 10
    assert any("plus de deux ans avant la date limite du dossier" in r for r in reasons)
    assert any(r.startswith("action commencée le") and "après la date limite du dossier" in r for r in reasons)
    assert any(r.startswith("services qui ne s’appliquent pas aux ") for r in reasons)
    assert any(r.startswith("services inconnus de la grille 2017 (version 1)") for r in reasons)


def test_the_golden_dossiers_span_the_three_categories() -> None:
    assert sorted(category_of(load_case(n)) for n in CASES_2017) == sorted(Category)
    assert [(n, score_case(n).score, score_case(n).arobases) for n in CASES_2017] == [
        ("territoire-2017.json", 29.3, 4),
        ("village-2017.json", 15.9, 2),
        ("ville-2017.json", 20.0, 3),
    ]


def test_the_2018_grille_changes_the_ville_pre_notation() -> None:
    before, after = score_case("ville-2017.json"), score_case("ville-2018.json")
    # Same 57 weight points covered, but 295 apply instead of 285: 20.0 → 19.3 (3 @ both: the
    # thresholds calibrated on the 2017 jury carry over to 2018).
    assert (before.score, before.arobases, after.score, after.arobases) == (20.0, 3, 19.3, 3)
    # Removed in 2018: an action declaring only a removed code is now « unknown »…
    pes = "Dématérialisation de la chaîne comptable (PES V2)"
    assert "dematerialisation_comptable" in before.covered
    assert {i.title: i.reason for i in after.ignored_actions}[pes] == (
        "services inconnus de la grille 2018 (version 1)\u00a0: «\u00a0dematerialisation_comptable\u00a0»"
    )
    # …while a removed code beside valid ones is dropped without a word.
    assert "acces_libre_postes" in before.covered
    assert "acces_libre_postes" not in after.covered
    assert "Réseau des espaces publics numériques" not in {i.title for i in after.ignored_actions}
    # Added in 2018: the code unknown in 2017 now counts.
    assert "chatbot_municipal" not in before.covered
    assert "chatbot_municipal" in after.covered
    # Reweighted: conseil_en_direct 3 → 2 and accessibilite_rgaa 3 → 4 (see the enjeux coverage).
    enjeux_2017 = {e.code: e.coverage for e in before.enjeux}
    enjeux_2018 = {e.code: e.coverage for e in after.enjeux}
    assert (enjeux_2017["democratie_locale"], enjeux_2018["democratie_locale"]) == (
        round(12 / 30, 4),
        round(11 / 33, 4),
    )
    assert (enjeux_2017["cohesion_sociale"], enjeux_2018["cohesion_sociale"]) == (round(3 / 18, 4), round(4 / 19, 4))
    # The deadline moves a year: the app started in January 2017 now counts.
    assert "application_mobile" in after.covered

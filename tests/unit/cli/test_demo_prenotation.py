"""The demo's pré-notation agrees with the 2017 press article, with no jury override.

Each dossier of `deploy/demo/campaign-2017.json` goes the way `palmares demo`
sends it (`palmares_cli.demo.prepare`: services from its themes), gets the
category the submission service gives it for the 2017 edition (reference data
of the millésime in force at the deadline), and is scored by the scoring
service's own code under `deploy/grilles/grille-2017.json`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from palmares_cli.demo import DemoEntry, load_themes, prepare
from palmares_contracts import Action, Category, Grille, GrilleBody
from palmares_scoring.domain import Score, score_dossier
from palmares_submission.refdata import category_of, lookup_for_edition

REPO = Path(__file__).resolve().parents[3]
CAMPAIGN = json.loads((REPO / "deploy/demo/campaign-2017.json").read_text(encoding="utf-8"))
GRILLE = Grille(
    **GrilleBody.model_validate_json(
        (REPO / "deploy/grilles/grille-2017.json").read_text(encoding="utf-8")
    ).model_dump(),
    version=1,
)
ENTRIES = prepare(CAMPAIGN, load_themes(REPO / "deploy/demo/themes.json"), grille=GRILLE)
EXPECTED = {c["code"]: c["expected"] for c in CAMPAIGN["collectivites"]}


def category(entry: DemoEntry) -> Category:
    ref = lookup_for_edition(entry.code, 2017)
    assert ref is not None
    return Category(category_of(ref))


def pre_notation(entry: DemoEntry) -> Score:
    actions = [Action.model_validate(a) for a in entry.body["actions"]]
    return score_dossier(actions, category(entry), GRILLE)


NAMED_WITH_AROBASES = [e for e in ENTRIES if EXPECTED[e.code]["arobases_in_article"] is not None]
NAMED_VILLAGES = [e for e in ENTRIES if "arobases_range_in_article" in EXPECTED[e.code]]


def test_the_article_gives_arobases_to_ten_and_a_range_to_five_villages() -> None:
    assert len(NAMED_WITH_AROBASES) == 10
    assert {e.name for e in NAMED_VILLAGES} == {
        "Fresnay-sur-Sarthe",
        "Fréhel",
        "Saint-Sulpice-la-Forêt",
        "Bras-sur-Meuse",
        "Montvendre",
    }


@pytest.mark.parametrize("entry", NAMED_WITH_AROBASES, ids=lambda e: e.name)
def test_within_one_arobase_of_the_article(entry: DemoEntry) -> None:
    article = EXPECTED[entry.code]["arobases_in_article"]
    result = pre_notation(entry)
    assert abs(result.arobases - article) <= 1, f"{entry.name}: score {result.score}, {result.arobases} @"
    if article == 5:
        assert result.arobases >= 4


@pytest.mark.parametrize("entry", NAMED_VILLAGES, ids=lambda e: e.name)
def test_the_named_villages_get_between_two_and_four_arobases(entry: DemoEntry) -> None:
    assert category(entry) is Category.VILLAGE
    result = pre_notation(entry)
    assert 2 <= result.arobases <= 4, f"{entry.name}: score {result.score}, {result.arobases} @"


def test_forges_les_eaux_is_scored_as_a_village() -> None:
    [forges] = [e for e in ENTRIES if e.code == "76276"]
    assert category(forges) is Category.VILLAGE
    assert pre_notation(forges).arobases >= 4


def test_the_dossiers_reflect_the_size_of_the_collectivite() -> None:
    # A 5 @ collectivité covers many enjeux; a village of the article a few.
    def enjeux(entry: DemoEntry) -> int:
        return sum(e.coverage > 0 for e in pre_notation(entry).enjeux)

    assert min(enjeux(e) for e in NAMED_WITH_AROBASES) >= 10
    assert max(enjeux(e) for e in NAMED_VILLAGES) <= 8


def test_the_demo_table_shows_the_article_beside_the_pre_notation_and_the_jury() -> None:
    from palmares_cli.views import results_table
    from rich.console import Console

    assert {e.article for e in NAMED_WITH_AROBASES} == {"5 @"}
    assert {e.article for e in NAMED_VILLAGES} == {"2–4 @"}
    assert {e.article for e in ENTRIES if e not in NAMED_WITH_AROBASES + NAMED_VILLAGES} == {"-"}
    rows = [
        {"name": e.name, "code": e.code, "arobases": pre_notation(e).arobases, "article": e.article} for e in ENTRIES
    ]
    console = Console(width=200, record=True)
    console.print(results_table(rows))
    shown = console.export_text()
    assert "pré-notation" in shown and "jury" in shown and "article" in shown
    (fréhel,) = [line for line in shown.splitlines() if "Fréhel" in line]
    assert "2–4 @" in fréhel

"""The demo campaign (deploy/demo/campaign-2017.json): well formed, codes in the reference data."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from palmares_submission.refdata import category_of, lookup, lookup_for_edition

CAMPAIGN = Path(__file__).resolve().parents[3] / "deploy" / "demo" / "campaign-2017.json"
DEADLINE = date(2016, 11, 30)  # 30 November of the year before the 2017 edition
MENTIONS = {"gouvernement_ouvert", "teletravail", "reseaux_sociaux"}
EMAIL = re.compile(r"^[a-z0-9.-]+@[a-z0-9-]+\.example$")


def _load() -> dict[str, Any]:
    with CAMPAIGN.open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


CAMPAIGN_DATA = _load()
ENTRIES: list[dict[str, Any]] = CAMPAIGN_DATA["collectivites"]


def _ids(entry: dict[str, Any]) -> str:
    return f"{entry['code']}-{entry['name']}"


def test_top_level_shape() -> None:
    assert CAMPAIGN_DATA["edition"] == 2017
    assert isinstance(CAMPAIGN_DATA["source"], str) and CAMPAIGN_DATA["source"]
    assert date.fromisoformat(CAMPAIGN_DATA["dossier_deadline"]) == DEADLINE
    codes = [e["code"] for e in ENTRIES]
    assert len(codes) == 22 == len(set(codes))  # the 22 collectivités named in the article


@pytest.mark.parametrize("entry", ENTRIES, ids=_ids)
def test_entry_matches_reference_data(entry: dict[str, Any]) -> None:
    ref = lookup(entry["code"])
    assert ref is not None, f"{entry['code']} is not in the reference data"
    assert (entry["name"], entry["kind"]) == (ref.name, ref.kind)
    assert EMAIL.match(entry["contact_email"]), entry["contact_email"]


@pytest.mark.parametrize("entry", ENTRIES, ids=_ids)
def test_expected_block(entry: dict[str, Any]) -> None:
    expected = entry["expected"]
    assert expected["arobases_in_article"] in (None, 1, 2, 3, 4, 5)
    assert set(expected["mentions_in_article"]) <= MENTIONS
    assert expected["category_in_article"] in ("village", "ville", "territoire")
    # The article bounds the named villages « entre deux et quatre arobases ».
    if "arobases_range_in_article" in expected:
        assert expected["arobases_range_in_article"] == [2, 4]
        assert expected["category_in_article"] == "village" and expected["arobases_in_article"] is None


@pytest.mark.parametrize("entry", ENTRIES, ids=_ids)
def test_dossier_is_complete_and_dates_parse(entry: dict[str, Any]) -> None:
    dossier = entry["dossier"]
    assert dossier["narrative"].strip()
    actions = dossier["actions"]
    # Realistic sizes: a village declares a handful of actions, a 5 @ ville or territoire many.
    if entry["expected"]["category_in_article"] == "village" and entry["expected"]["arobases_in_article"] != 5:
        assert 4 <= len(actions) <= 8
    elif entry["expected"]["arobases_in_article"] == 5:
        assert 12 <= len(actions) <= 20
    else:
        assert 5 <= len(actions) <= 12
    for action in actions:
        assert action["title"].strip() and action["description"].strip()
        assert action["services"] == []  # filled once the grille's service codes exist
        # No theme: the action describes what grille 2017 has no service for (the demo's tendances).
        assert all(isinstance(t, str) and t for t in action["themes"])
        assert action["url"].startswith("https://") and ".example/" in action["url"]
        started = date.fromisoformat(action["started_on"])
        assert started <= DEADLINE
        if action["ended_on"] is not None:
            assert started <= date.fromisoformat(action["ended_on"]) <= DEADLINE


def test_article_facts_are_encoded() -> None:
    by_code = {e["code"]: e for e in ENTRIES}
    mentions = {code: set(e["expected"]["mentions_in_article"]) for code, e in by_code.items()}
    assert {c for c, m in mentions.items() if "gouvernement_ouvert" in m} == {"94041", "200041507"}
    assert {c for c, m in mentions.items() if "teletravail" in m} == {"73008", "200070530", "49007"}
    assert {c for c, m in mentions.items() if "reseaux_sociaux" in m} == {"62041", "07102"}
    five = {c for c, e in by_code.items() if e["expected"]["arobases_in_article"] == 5}
    assert five == {
        "25056",
        "38185",
        "49007",
        "47001",
        "78551",
        "56260",
        "60057",
        "51230",
        "76276",
        "200041333",
    }


def test_categories_follow_the_reference_data_of_the_edition() -> None:
    # With the populations in force at the 2017 deadline every category agrees with the article,
    # Forges-les-Eaux included (3,492 inhabitants: the article's « village (3500 habitants) »).
    def category_in(millesime_of: str) -> set[str]:
        return {
            e["code"]
            for e in ENTRIES
            if category_of(  # type: ignore[arg-type]
                lookup_for_edition(e["code"], 2017) if millesime_of == "edition" else lookup(e["code"])
            )
            != e["expected"]["category_in_article"]
        }

    assert category_in("edition") == set()
    # Today's populations would make it a ville (3,642 in 2026, with Le Fossé).
    assert category_in("today") == {"76276"}


def test_some_actions_fall_outside_the_two_year_rule() -> None:
    # Realistic data: a few actions ended more than two years before the deadline.
    stale = [
        a
        for e in ENTRIES
        for a in e["dossier"]["actions"]
        if a["ended_on"] is not None and (DEADLINE - date.fromisoformat(a["ended_on"])).days > 730
    ]
    assert 2 <= len(stale) <= 5

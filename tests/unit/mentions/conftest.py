"""The real mention rules of the grilles (deploy/grilles/), and a dossier builder."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from palmares_contracts import Action, GrilleBody, Mention, MentionMiss, MentionRule
from palmares_mentions.domain import detect

GRILLES = Path(__file__).resolve().parents[3] / "deploy" / "grilles"


def _rules(name: str) -> tuple[MentionRule, ...]:
    return GrilleBody.model_validate_json((GRILLES / f"grille-{name}.json").read_text(encoding="utf-8")).mentions


@pytest.fixture(scope="session")
def rules_2017() -> tuple[MentionRule, ...]:
    return _rules("2017")


@pytest.fixture(scope="session")
def rules_2018() -> tuple[MentionRule, ...]:
    return _rules("2018-v2")


def act(title: str, description: str = "", services: tuple[str, ...] = ()) -> Action:
    return Action(title=title, description=description, services=services, started_on=date(2016, 3, 1))


def found(
    rules: tuple[MentionRule, ...], *actions: Action, narrative: str = ""
) -> tuple[dict[str, Mention], dict[str, MentionMiss]]:
    """The mentions and misses of a dossier, by code."""
    mentions, missed = detect(actions, narrative, rules)
    return {m.code: m for m in mentions}, {m.code: m for m in missed}

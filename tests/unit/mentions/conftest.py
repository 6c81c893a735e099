"""The real grilles (deploy/grilles/), and a dossier builder."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from palmares_contracts import Action, Category, GrilleBody, Mention, MentionMiss
from palmares_mentions.domain import detect

GRILLES = Path(__file__).resolve().parents[3] / "deploy" / "grilles"


def load_grille(name: str) -> GrilleBody:
    return GrilleBody.model_validate_json((GRILLES / f"grille-{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def grille_2017() -> GrilleBody:
    return load_grille("2017")


@pytest.fixture(scope="session")
def grille_2018() -> GrilleBody:
    return load_grille("2018-v2")


def act(
    title: str,
    description: str = "",
    services: tuple[str, ...] = (),
    started_on: date = date(2016, 3, 1),
    ended_on: date | None = None,
) -> Action:
    return Action(title=title, description=description, services=services, started_on=started_on, ended_on=ended_on)


def found(
    grille: GrilleBody, *actions: Action, narrative: str = "", category: Category = Category.VILLE
) -> tuple[dict[str, Mention], dict[str, MentionMiss]]:
    """The mentions and misses of a dossier, by code."""
    detection = detect(actions, narrative, grille, category)
    return {m.code: m for m in detection.mentions}, {m.code: m for m in detection.missed}


def plain(text: str) -> str:
    """A French message with ordinary spaces (the messages carry non-breaking ones), to compare it legibly."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")

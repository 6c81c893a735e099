"""The collectivité a dossier records: population and category of its edition, or an operator's decision."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from palmares_contracts import Category, CategoryOverride
from palmares_submission.edition_category import dossier_collectivite


def forges(edition: int, override: CategoryOverride | None = None, **kw: Any) -> Any:
    args: dict[str, Any] = {
        "code": "76276",
        "kind": "commune",
        "name": "Forges-les-Eaux",
        "departement": "76",
        "registered_population": 3642,  # registered with today's reference data
        "registered_category": "ville",
        "contact_email": "mairie@forges.example",
        "edition": edition,
        "override": override,
        "village_max_population": 3500,
    }
    return dossier_collectivite(**{**args, **kw})


def test_the_2017_dossier_records_the_population_in_force_then() -> None:
    c = forges(2017)
    assert (c.population, c.category, c.millesime, c.category_override) == (3492, Category.VILLAGE, 2016, None)


def test_a_later_edition_records_todays_population() -> None:
    c = forges(2027)
    assert (c.population, c.category, c.millesime) == (3642, Category.VILLE, 2026)


def test_an_operators_decision_wins_and_travels_with_the_dossier() -> None:
    decision = CategoryOverride(
        category=Category.VILLE,
        reason="Commune nouvelle avec Le Fossé au 1er janvier 2016 : 3 989 habitants.",
        decided_by="Équipe du label",
        decided_at=datetime(2016, 12, 1, tzinfo=UTC),
    )
    c = forges(2017, decision)
    assert (c.population, c.category, c.category_override) == (3492, Category.VILLE, decision)


def test_a_code_unknown_to_the_editions_data_keeps_its_registration() -> None:
    # CC du Grand Autunois Morvan, created on 1 January 2017: unknown to the 2016 millésime.
    c = forges(2017, code="200070530", kind="epci", registered_population=36911, registered_category="territoire")
    assert (c.population, c.category, c.millesime) == (36911, Category.TERRITOIRE, None)


def test_the_village_threshold_is_the_services_setting() -> None:
    assert forges(2017, village_max_population=3000).category is Category.VILLE

"""A dossier's collectivité says where its population and category come from (additive fields)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from palmares_contracts import Category, CategoryOverride, Collectivite, SubmissionReceived
from pydantic import ValidationError

from tests.factories import submission

FORGES = {
    "code": "76276",
    "kind": "commune",
    "name": "Forges-les-Eaux",
    "population": 3492,
    "departement": "76",
    "contact_email": "mairie@forges.example",
    "category": "village",
}
OVERRIDE = CategoryOverride(
    category=Category.VILLE,
    reason="Commune nouvelle avec Le Fossé au 1er janvier 2016 : 3 989 habitants.",
    decided_by="Équipe du label",
    decided_at=datetime(2016, 12, 1, tzinfo=UTC),
)


def test_an_event_without_the_new_fields_reads_as_before() -> None:
    collectivite = Collectivite.model_validate(FORGES)
    assert (collectivite.millesime, collectivite.category_override) == (None, None)


def test_the_millesime_and_the_override_travel_with_the_dossier() -> None:
    collectivite = Collectivite.model_validate({**FORGES, "category": "ville", "millesime": 2016})
    collectivite = collectivite.model_copy(update={"category_override": OVERRIDE})
    event = submission(collectivite=collectivite)
    again = SubmissionReceived.model_validate_json(event.model_dump_json())
    assert again.collectivite.millesime == 2016
    assert again.collectivite.category_override == OVERRIDE


def test_an_override_is_the_category_of_the_collectivite() -> None:
    with pytest.raises(ValidationError, match="overridden category"):
        Collectivite.model_validate({**FORGES, "category_override": OVERRIDE.model_dump()})


def test_an_override_needs_a_reason() -> None:
    with pytest.raises(ValidationError):
        CategoryOverride(category=Category.VILLE, reason="", decided_by="x", decided_at=datetime.now(UTC))

"""Thresholds per category (an optional grille field) and the changelog entries of thresholds."""

from __future__ import annotations

from typing import Any

import pytest
from palmares_contracts import Category, ChangeKind, ChangelogEntry, Grille
from palmares_scoring.domain import score_dossier
from pydantic import ValidationError

from tests.factories import action, grille


def scale(*minimums: float) -> list[dict[str, Any]]:
    return [{"arobases": i + 1, "min_score": m} for i, m in enumerate((0, *minimums))]


def test_a_category_uses_its_own_thresholds_else_the_general_ones() -> None:
    g = grille(category_thresholds=[{"category": "village", "thresholds": scale(5, 15, 25, 35)}])
    assert [t.min_score for t in g.thresholds_for(Category.VILLAGE)] == [0, 5, 15, 25, 35]
    assert g.thresholds_for(Category.VILLE) == g.thresholds
    # The same dossier: 3 of 13 village points = 23.1 → 3 @ on the village scale.
    village = score_dossier([action(services=("portail_open_data",))], Category.VILLAGE, g)
    assert (village.score, village.arobases) == (23.1, 3)
    assert village.next_level is not None and village.next_level.target_arobases == 4
    assert village.next_level.points_missing == round(25 - 23.1, 1)
    without = score_dossier([action(services=("portail_open_data",))], Category.VILLAGE, grille())
    assert without.arobases == reference_arobases(grille(), without.score)


def reference_arobases(g: Grille, score: float) -> int:
    return max(t.arobases for t in g.thresholds if t.min_score <= score)


@pytest.mark.parametrize(
    ("own", "message"),
    [
        ([{"category": "village", "thresholds": scale(10, 5)}], "thresholds of village must increase"),
        ([{"category": "ville", "thresholds": [{"arobases": 1, "min_score": 3}]}], "must be 0"),
        ([{"category": "ville", "thresholds": scale(10)}, {"category": "ville", "thresholds": scale(20)}], "duplicate"),
    ],
)
def test_category_thresholds_are_checked_like_the_general_ones(own: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        grille(category_thresholds=own)


def test_a_grille_without_category_thresholds_reads_as_before() -> None:
    g = grille()
    assert g.category_thresholds == ()
    assert "category_thresholds" in g.model_dump()


def test_changelog_entries_name_a_service_or_thresholds() -> None:
    entry = ChangelogEntry(change=ChangeKind.THRESHOLDS, category=Category.VILLAGE, detail="seuils")
    assert entry.service_code is None
    assert ChangelogEntry(change=ChangeKind.THRESHOLDS, detail="seuils").category is None
    with pytest.raises(ValidationError, match="names no service"):
        ChangelogEntry(change=ChangeKind.THRESHOLDS, service_code="site_internet")
    with pytest.raises(ValidationError, match="names a service"):
        ChangelogEntry(change=ChangeKind.REWEIGHTED, detail="poids 1 → 2")
    with pytest.raises(ValidationError, match="names a service"):
        ChangelogEntry(change=ChangeKind.ADDED, service_code="site_internet", category=Category.VILLE)

"""The jury's decision: the revision it examined, the mentions it confirms, removes and adds."""

from __future__ import annotations

import pytest
from palmares_contracts import Evidence, Mention
from palmares_submission.domain.errors import Invalid
from palmares_submission.domain.jury import examined_revision, granted_mentions

from tests.factories import grille

RULES = grille().mentions  # gouvernement_ouvert, reseaux_sociaux
DETECTED = (
    Mention(
        code="gouvernement_ouvert",
        label="Gouvernement ouvert",
        evidence=(Evidence(action_title="Portail", snippet="données ouvertes", matched_terms=("données ouvertes",)),),
    ),
)


def test_no_ruling_on_mentions_leaves_the_detected_ones() -> None:
    assert granted_mentions(None, DETECTED, RULES) is None


def test_a_confirmed_mention_keeps_its_evidence() -> None:
    assert granted_mentions(["gouvernement_ouvert"], DETECTED, RULES) == DETECTED


def test_a_detected_mention_left_out_is_removed() -> None:
    assert granted_mentions([], DETECTED, RULES) == ()


def test_an_added_mention_comes_from_the_grille_without_evidence() -> None:
    granted = granted_mentions(["reseaux_sociaux", "gouvernement_ouvert", "reseaux_sociaux"], DETECTED, RULES)
    assert granted is not None
    assert [m.code for m in granted] == ["reseaux_sociaux", "gouvernement_ouvert"]
    assert granted[0].label == "Réseaux sociaux" and granted[0].evidence == ()


def test_a_mention_unknown_to_the_grille_is_refused_naming_it() -> None:
    with pytest.raises(Invalid) as caught:
        granted_mentions(["gouvernement_ouvert", "inventee"], DETECTED, RULES)
    assert caught.value.field == "mentions.1"
    assert "inventee" in caught.value.message


def test_the_examined_revision_defaults_to_the_current_one_and_must_exist() -> None:
    assert examined_revision(None, 3) == 3
    assert examined_revision(2, 3) == 2
    for wrong in (0, 4):
        with pytest.raises(Invalid) as caught:
            examined_revision(wrong, 3)
        assert caught.value.field == "revision"

"""Mention detection: services, French terms without case or accents, homonyms, evidence."""

from __future__ import annotations

from collections.abc import Sequence

from palmares_contracts import Action, Category, Mention
from palmares_mentions.domain import detect as detect_in
from palmares_mentions.domain import normalize

from tests.factories import action, grille

GRILLE = grille()


def detect(actions: Sequence[Action], narrative: str) -> tuple[tuple[Mention, ...], object]:
    found = detect_in(actions, narrative, GRILLE, Category.VILLE)
    return found.mentions, found.missed


def codes(mentions: tuple[Mention, ...]) -> set[str]:
    return {m.code for m in mentions}


def test_normalize_removes_case_and_accents() -> None:
    assert normalize("Données OUVERTES à Évry") == "donnees ouvertes a evry"


def test_a_declared_service_the_grille_calls_sufficient_is_evidence() -> None:
    mentions, _ = detect([action(description="", services=("portail_open_data",))], "")
    assert codes(mentions) == {"gouvernement_ouvert"}
    assert mentions[0].evidence[0].service_codes == ("portail_open_data",)


def test_terms_match_without_accents_or_case() -> None:
    a = action(title="Open Data", description="Nous publions des DONNEES OUVERTES.", services=())
    mentions, _ = detect([a], "")
    assert codes(mentions) == {"gouvernement_ouvert"}
    assert set(mentions[0].evidence[0].matched_terms) == {"données ouvertes", "open data"}
    assert "DONNEES OUVERTES" in mentions[0].evidence[0].snippet


def test_homonyms_are_not_evidence() -> None:
    narrative = "La mairie est ouvert le samedi. Le réseau d'eau et le réseau de chaleur ont été rénovés."
    mentions, _ = detect([action(title="Travaux", description="", services=())], narrative)
    assert mentions == ()


def test_words_are_matched_whole() -> None:
    mentions, _ = detect([action(title="Twitterature", description="atelier d'écriture", services=())], "")
    assert mentions == ()


def test_narrative_evidence_has_no_action_title() -> None:
    mentions, _ = detect([action(title="Site", description="", services=())], "Nous animons un réseau social local.")
    assert codes(mentions) == {"reseaux_sociaux"}
    assert mentions[0].evidence[0].action_title is None

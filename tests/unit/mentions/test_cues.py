"""Negation and intention: what makes a term occurrence not evidence, and how far a cue reaches."""

from __future__ import annotations

import pytest
from palmares_mentions.cues import Reason, cue_marks, read_clause
from palmares_mentions.french import WORD, fold


def reason(clause: str, term: str, describes_people: bool = False) -> Reason | None:
    """Why the first word of `term` in `clause` (one clause) would not be evidence."""
    originals = WORD.findall(clause)
    words = [fold(w) for w in originals]
    position = words.index(fold(WORD.findall(term)[0]))
    after_n = [clause[m.end() : m.end() + 1] in "'’" for m in WORD.finditer(clause)]

    def is_ne(i: int) -> bool:
        return originals[i].lower() == "ne" or (originals[i].lower() == "n" and after_n[i])

    cues = read_clause(words, cue_marks(words), is_ne, 0, len(words), describes_people)
    return cues.reason(position)


@pytest.mark.parametrize(
    ("clause", "term"),
    [
        ("nous n’avons pas encore de tiers-lieu", "tiers"),
        ("le télétravail n'est pas autorisé pour les agents", "télétravail"),  # the term before the negation
        ("aucun agent ne télétravaille", "télétravaille"),
        ("ni Facebook ni Twitter", "Twitter"),
        ("pas de page Facebook pour l’instant", "Facebook"),
        ("la commune n’a plus d’espace public numérique", "espace"),
        ("le télécentre a fermé ses portes en 2015", "télécentre"),
        ("le compte Twitter a été supprimé", "Twitter"),
        ("une commune sans compte Twitter", "Twitter"),
    ],
)
def test_negations(clause: str, term: str) -> None:
    assert reason(clause, term) is Reason.NEGATION


@pytest.mark.parametrize(
    ("clause", "term"),
    [
        ("nous envisageons un espace de coworking", "coworking"),
        ("le télétravail est envisagé pour le service urbanisme", "télétravail"),  # passive: before the cue
        ("nous souhaiterions équiper les classes de TBI", "TBI"),
        ("un budget participatif est à l’étude", "budget"),
        ("la publication est prévue pour 2018", "publication"),
        ("une médiatrice numérique devrait être recrutée", "médiatrice"),
        ("la mise en ligne sur data.gouv.fr interviendra en 2018", "data"),  # any future tense
        ("une page Facebook sera créée début 2018", "Facebook"),
        ("projet de tiers-lieu dans l’ancienne gare", "tiers"),
        ("le futur tiers-lieu de la gare", "tiers"),
        ("une réflexion est engagée sur le télétravail", "télétravail"),
        ("le conseil municipal a débattu du télétravail", "télétravail"),
    ],
)
def test_intentions(clause: str, term: str) -> None:
    assert reason(clause, term) is Reason.INTENTION


@pytest.mark.parametrize(
    ("clause", "term"),
    [
        ("n’hésitez pas à nous suivre sur Facebook", "Facebook"),
        ("pas seulement sur Facebook", "Facebook"),
        ("Facebook plus que jamais", "Facebook"),
        ("le projet est né en 2015 et compte plus de 300 abonnés sur Facebook", "Facebook"),  # « né » is not « ne »
        ("les agents qui le souhaitent peuvent télétravailler", "télétravailler"),
        ("forts du succès de notre page Facebook, nous souhaitons ouvrir un compte Instagram", "Facebook"),
        ("le projet de tiers-lieu, inauguré en 2016, accueille douze coworkers", "tiers"),
        ("les habitants ont choisi en ligne les aménagements du futur parc", "choisi"),  # « futur » covers « parc »
        ("comme prévu, le tiers-lieu a ouvert en 2016", "tiers"),
        ("les règles de calcul sont expliquées en ligne comme le prévoit la loi", "règles"),
        ("coffre-fort numérique pour les personnes sans domicile", "coffre"),
        ("Le télétravail concerne 14 agents depuis 2016", "télétravail"),
    ],
)
def test_not_negated_nor_intended(clause: str, term: str) -> None:
    assert reason(clause, term) is None


def test_sans_covers_the_next_few_words_only() -> None:
    assert (
        reason("sans se déplacer jusqu’à la mairie, les habitants consultent le budget participatif", "budget") is None
    )


def test_a_clause_describing_people_negates_nothing() -> None:
    # « une secrétaire aide les habitants | qui n’ont pas d’ordinateur à faire leurs démarches »
    clause = "qui n’ont pas d’ordinateur à faire leurs démarches"
    assert reason(clause, "démarches") is Reason.NEGATION
    assert reason(clause, "démarches", describes_people=True) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("nous organiserons une concertation en ligne", Reason.INTENTION),
        ("vous pourrez voter en ligne", Reason.INTENTION),
        ("aux environs de la mairie un espace de coworking", None),
        ("une étude sur le télétravail", Reason.TOPIC),
        ("une conférence sur les réseaux sociaux", Reason.TOPIC),
    ],
)
def test_first_person_futures_and_topics(text: str, reason: Reason | None) -> None:
    folded = [fold(w) for w in WORD.findall(text)]
    cues = read_clause(folded, cue_marks(folded), lambda i: folded[i] in ("ne", "n"), 0, len(folded))
    assert cues.reason(len(folded) - 1) is reason


def test_a_project_about_something_is_its_topic() -> None:
    folded = [fold(w) for w in WORD.findall("un projet Erasmus+ sur les ateliers numériques")]
    cues = read_clause(folded, cue_marks(folded), lambda i: False, 0, len(folded))
    assert cues.reason(folded.index("erasmus")) is None
    assert cues.reason(folded.index("ateliers")) is Reason.TOPIC

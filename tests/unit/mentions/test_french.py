"""French text: folding, the light stemmer, expression gaps, sentences and clauses."""

from __future__ import annotations

import pytest
from palmares_mentions.french import WORD, fold, is_tight, key_of, segment, stem


def test_fold_removes_case_accents_and_ligatures() -> None:
    assert [fold(w) for w in ("Télétravail", "ÉCOLE", "vœux", "Emmaüs")] == ["teletravail", "ecole", "voeux", "emmaus"]


@pytest.mark.parametrize(
    ("inflected", "base"),
    [
        ("réseaux", "réseau"),
        ("sociaux", "social"),
        ("sociale", "social"),
        ("ouvertes", "ouvert"),
        ("numériques", "numérique"),
        ("publiques", "public"),
        ("éducative", "éducatif"),
        ("médiatrice", "médiateur"),
        ("télétravailleuses", "télétravailleur"),
        ("européenne", "européen"),
        ("jumelées", "jumelé"),
        ("tiers-lieux", "tiers-lieu"),
        ("échangent", "échange"),
        ("télétravaillent", "télétravaille"),
    ],
)
def test_inflections_share_a_key(inflected: str, base: str) -> None:
    assert key_of(inflected) == key_of(base)


@pytest.mark.parametrize(("one", "other"), [("données", "don"), ("communauté", "commune"), ("travaux", "travail")])
def test_the_stemmer_does_not_over_stem(one: str, other: str) -> None:
    # Snowball's French stemmer gives « don » for « données », « commun » for both.
    assert key_of(one) != key_of(other)


def test_short_words_and_numbers_are_kept() -> None:
    assert [stem(w) for w in ("ent", "epn", "bus", "2018")] == ["ent", "epn", "bus", "2018"]


def test_expressions_hold_across_spaces_apostrophes_hyphens_and_domain_dots() -> None:
    assert all(is_tight(gap) for gap in (" ", "’", "'", "-", ".", " « ", "\u00a0"))
    assert not any(is_tight(gap) for gap in (", ", ". ", " ; ", " (", "\n"))


def _segment(text: str) -> tuple[list[str], list[int], list[int]]:
    found = list(WORD.finditer(text))
    words = [fold(m.group()) for m in found]
    sentences, clauses = segment(text, [m.span() for m in found], words)
    return words, sentences, clauses


def test_sentences_end_at_punctuation_but_not_inside_a_domain_name() -> None:
    words, sentences, clauses = _segment("Publié sur data.gouv.fr depuis 2016. Nouveau : le budget")
    assert sentences[words.index("fr")] == sentences[words.index("data")] == 0
    assert sentences[words.index("nouveau")] == 1
    # A colon explains what precedes it: same sentence (for contexts), a new clause (for negations).
    assert sentences[words.index("budget")] == 1
    assert clauses[words.index("budget")] != clauses[words.index("nouveau")]


def test_clauses_open_at_mais_relatives_and_et_with_a_subject() -> None:
    words, _, clauses = _segment(
        "La page est suivie, mais le compte est fermé et nous souhaitons un blog, qui sera ouvert"
    )
    assert clauses[words.index("page")] != clauses[words.index("compte")]
    assert clauses[words.index("compte")] != clauses[words.index("souhaitons")]
    assert clauses[words.index("blog")] != clauses[words.index("sera")]


def test_a_parenthetical_connector_does_not_open_a_clause() -> None:
    words, _, clauses = _segment("Le télétravail, en revanche, n’est pas encore ouvert")
    assert clauses[words.index("teletravail")] == clauses[words.index("pas")]


def test_conjugated_verbs_share_the_key_of_their_other_forms() -> None:
    # simplemma gives the infinitive of forms the light stemmer cannot undo.
    assert {stem(fold(w)) for w in ("aidons", "aident", "aide", "aidé", "aidés")} == {"aid"}
    assert {stem(fold(w)) for w in ("accompagnons", "accompagnent", "accompagne", "accompagnée")} == {"accompagn"}
    # Nouns and participles are left to the light stemmer: simplemma's lemma of « donnée » is « donner ».
    assert stem(fold("donnée")) == stem(fold("données"))
    assert stem(fold("agents")) == stem(fold("agent"))

"""French as the mention detector reads it: words, folding, a light stemmer, clauses.

Pure functions and constants, no I/O. Words are found in the *original* text
(Unicode word characters), so every offset points into what the collectivité
wrote; each distinct word is folded (no case, no accents) and stemmed once and
cached, because a dossier repeats the same few hundred words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

import simplemma
from unidecode import unidecode

# A word: letters, digits (and underscores) of any script. Apostrophes, hyphens and
# dots split words ("d’eau", "tiers-lieu", "data.gouv.fr"), as the rules' terms are split.
WORD = re.compile(r"\w+")

# What may separate two words of one expression: spaces, apostrophes, hyphens,
# a dot inside a domain name, a slash, quotes. Not a comma, not a sentence end.
_TIGHT_GAP = re.compile(r"[ \t\u00a0\u202f'’ʼ‘\-‐‑–./«»\"“”]{0,4}")
# A sentence ends at . ! ? ; or a line break; a dot ends it only before a space
# ("data.gouv.fr" has no space after its dots). A colon ends a clause (a negation stops
# there) but not the sentence: what follows it explains what precedes (« des ateliers pour
# débutants : allumer l’ordinateur, naviguer », where « ordinateur » is the context of « ateliers »).
_SENTENCE_END = re.compile(r"\.\s|[!?;…\n•:]")


def normalize(text: str) -> str:
    """Lowercase ASCII form of French text: 'Données Ouvertes' → 'donnees ouvertes'."""
    return unidecode(text).lower()


@lru_cache(maxsize=65_536)
def fold(word: str) -> str:
    """One word without case or accents: 'Télétravail' → 'teletravail', 'œuvre' → 'oeuvre'."""
    if word.isascii():
        return word.lower()
    return unidecode(word).lower()


# Light stemmer: plural and feminine endings, and the « -ent » of verbs, applied to folded words.
# Snowball's French stemmer over-stems for this purpose ("données" → "don", like
# "don d’ordinateurs"; "communauté" → "commun"), depends on accents
# ("éducative" → "éduc" but "educative" → "educ") and keeps "publique" apart from
# "public"; matching whole expressions needs the endings gone, not the roots.
_ENDINGS = (
    ("trice", "teur"),  # médiatrice → médiateur
    ("euse", "eur"),  # télétravailleuse → télétravailleur
    ("ique", "ic"),  # publique → public, numérique → numéric
    ("ive", "if"),  # éducative → éducatif
    ("elle", "el"),  # culturelle → culturel
    ("enne", "en"),  # européenne → européen, citoyenne → citoyen
    ("ee", "e"),  # jumelée → jumelé, données → donné
)


# Conjugated forms whose ending the light stemmer cannot undo (« aidons », « accompagnons »,
# « votaient », « organisez »): simplemma's French lemmas (PyPI `simplemma`, data shipped in the
# wheel) give their infinitive. Only these endings are lemmatised: simplemma tags no part of
# speech, and its lemma of a noun or a participle can be a verb (« donnée » → « donner »).
_CONJUGATED = ("ons", "ez", "aient", "ait", "ent")


def _verb_radical(word: str) -> str | None:
    """The radical of a conjugated -er verb (folded): 'aidons' → 'aid', 'accompagnent' → 'accompagn'."""
    if len(word) < 5 or not word.endswith(_CONJUGATED):
        return None
    lemma = fold(simplemma.lemmatize(word, lang="fr"))
    if lemma == word or not lemma.endswith("er") or len(lemma) < 5:
        return None
    return lemma[:-2]


@lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """The comparison key of a folded word: 'reseaux' → 'reseau', 'ouvertes' → 'ouvert', 'aidons' → 'aid'."""
    if len(word) <= 3 or not word.isalpha():
        return word
    radical = _verb_radical(word)
    if radical is not None:
        return radical
    if word.endswith("eaux"):
        word = word[:-1]
    elif word.endswith("aux") and len(word) > 5:
        word = word[:-3] + "al"  # sociaux → social, locaux → local
    elif word[-1] in "sx" and word[-2] != "s":
        word = word[:-1]
    for ending, replacement in _ENDINGS:
        if word.endswith(ending) and len(word) > len(ending) + 2:
            word = word[: -len(ending)] + replacement
            break
    else:
        if len(word) > 6 and word.endswith("ent"):  # échangent → échang, like échange
            word = word[:-3]
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    return word


def words_of(text: str) -> list[str]:
    """The words of a term or an expression, folded: 'Réseau d’eau' → ['reseau', 'd', 'eau']."""
    return [fold(w) for w in WORD.findall(text)]


def key_of(text: str) -> tuple[str, ...]:
    """The comparison keys of a term: its folded, stemmed words."""
    return tuple(stem(w) for w in words_of(text))


def is_tight(gap: str) -> bool:
    """Whether two words separated by `gap` can belong to one expression."""
    return _TIGHT_GAP.fullmatch(gap) is not None and not ("." in gap and any(c.isspace() for c in gap))


# Words that open a new clause (the scope of a negation or an intention stops
# there): « La page Facebook est suivie, mais nous n’avons pas de compte Twitter ».
# A relative clause too: « une secrétaire aide les habitants qui n’ont pas d’ordinateur à faire leurs démarches ».
CLAUSE_OPENERS = frozenset(
    {
        "mais",
        "cependant",
        "toutefois",
        "neanmoins",
        "pourtant",
        "puis",
        "tandis",
        "qui",
        "dont",
        "lesquels",
        "lesquelles",
    }
)
# Openers only after a comma: « …, et le télétravail … », « …, ce qui … ».
COMMA_OPENERS = frozenset({"et", "ou", "alors", "ce", "car"})
# « et » opens a clause without a comma when a subject pronoun follows: « … et nous souhaitons … ».
SUBJECT_PRONOUNS = frozenset({"nous", "il", "elle", "ils", "elles", "on", "je"})
# Two-word openers, unless they are a parenthesis (« Le télétravail, en revanche, n’est pas… »).
PAIR_OPENERS = frozenset({("en", "revanche"), ("par", "contre"), ("alors", "que"), ("si", "bien")})


def segment(text: str, spans: Sequence[tuple[int, int]], folded: Sequence[str]) -> tuple[list[int], list[int]]:
    """The sentence and the clause of every word of a text (numbers, in reading order).

    `spans` are the words' offsets in `text`, `folded` the words without case or accents.
    """
    count = len(spans)
    sentence_of = [0] * count
    clause_of = [0] * count
    ends = [(m.start(), m.group() != ":") for m in _SENTENCE_END.finditer(text)]  # all between words
    next_end = 0
    sentence = clause = 0
    for i in range(1, count):
        start = spans[i][0]
        new_sentence = new_clause = False
        while next_end < len(ends) and ends[next_end][0] < start:
            new_clause = True
            new_sentence = new_sentence or ends[next_end][1]
            next_end += 1
        word = folded[i]
        if new_clause:
            sentence += new_sentence
            clause += 1
        elif (
            word in CLAUSE_OPENERS
            or (word in COMMA_OPENERS and "," in text[spans[i - 1][1] : start])
            or (
                i + 1 < count
                and (
                    (word == "et" and folded[i + 1] in SUBJECT_PRONOUNS)
                    or (
                        (word, folded[i + 1]) in PAIR_OPENERS
                        and "," not in text[spans[i + 1][1] : spans[i + 2][0] if i + 2 < count else len(text)]
                    )
                )
            )
        ):
            clause += 1
        sentence_of[i] = sentence
        clause_of[i] = clause
    return sentence_of, clause_of

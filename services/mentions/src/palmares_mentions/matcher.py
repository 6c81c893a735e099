"""The mention rules of a grille, compiled once, and what they find in one passage of text.

Compilation (cached per rule set, see `compile_rules`) turns every term,
contextual term, context and exclusion into the keys of its words
(`french.key_of`) and indexes it by its rarest word, its *anchor*. A passage is
read word by word only if it holds the anchor of a term, or the anchors of a
contextual term and of one of its contexts. Each distinct word met is keyed
once (folded, stemmed, corrected if misspelt) and cached with the rules.

Variants generated at compilation, so that matching stays exact lookups:
- one-word terms of 8+ letters split in two (« coworking » also matches « co
  working », « facebook » « face book »), many-word terms glued (« tiers-lieu » also
  matches « tierslieu »);
- misspellings: a word of 6+ letters is corrected to a one-word term of 7+
  letters at one edit (deletion, insertion, substitution or swap of neighbours)
  with the same first letter, if exactly one is (« facebok », « twiter »,
  « cowoking »; « téletravail » is already folded). Words of many-word terms
  are never targets (« factures » is not « fracture »), nor are short words
  (« ouvert » / « couvert », « aidant » / « aident » are real words).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence, Set
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import compress
from typing import NamedTuple

import simplemma
from palmares_contracts import MentionRule

from palmares_mentions.french import WORD, fold, is_tight, key_of, stem, words_of


class Kind(enum.Enum):
    """The role of an expression in a mention rule."""

    TERM = "term"
    WEAK = "weak"  # a contextual term
    CONTEXT = "context"
    EXCLUSION = "exclusion"


@dataclass(frozen=True, slots=True)
class Phrase:
    """An expression of a rule, as the keys of its words; `anchor` is the index of its rarest word.

    `group` numbers the rule's contextual group of a WEAK term or a CONTEXT (-1
    otherwise), `pair` the same group across the rule set (-1 otherwise); `role`
    numbers (rule, kind, group) across the rule set. Numbers are cheap to compare.
    """

    keys: tuple[str, ...]
    anchor: int
    rule: int
    kind: Kind
    term: str
    group: int
    role: int
    pair: int


class Occurrence(NamedTuple):
    """A phrase found in a passage, on words [start, end)."""

    phrase: Phrase
    start: int
    end: int


_CONTEXTUAL = (Kind.WEAK, Kind.CONTEXT)
# NamedTuple's own constructor is a Python function; the tuple's is not (hot loop).
_occurrence = tuple.__new__


@dataclass(slots=True)
class Reading:
    """A passage read by the matcher: its words (with offsets in the original text) and the phrases found."""

    text: str
    spans: list[tuple[int, int]]
    words: list[str]
    occurrences: list[Occurrence] = field(default_factory=list)


# The most frequent words of dossiers, roughly most frequent first: chosen as an
# anchor only when an expression has no rarer word (« réseau social » is anchored
# on « social », « conseil de quartier » on « quartier »).
_FREQUENT = (  # noqa: SIM905 (one string reads better than a list of a hundred lines)
    "de d la le les l a au aux du des en et un une pour sur par avec dans ou est sont qui que leur leurs "
    "son sa ses nos notre ce cette ces il elle ils on nous y se tout tous chaque depuis plus numerique "
    "numeriques ligne site sites service services public publique commune communes ville villes habitants "
    "internet donnees projet espace municipal municipale reseau acces personnes conseil atelier ateliers "
    "centre portail aide ecole ecoles classe classes travail point mise place web agents accompagnement "
    "demarches plateforme outil"
).split()
_FREQUENCY_RANK = {key_of(word)[0]: rank for rank, word in enumerate(_FREQUENT)}

_MIN_FUZZY_TERM = 7  # a one-word term must be this long to be reached by a correction
_MIN_FUZZY_WORD = 6  # and the text word at least this long
# A word of a many-word term is a target only this long (as a key): « accessibilté du site » is
# corrected, « factures » is not taken for « fracture ».
_MIN_FUZZY_LONG_WORD = 9
_SPLIT_PREFIXES = frozenset({"co"})  # « co working »: a split part may be this short
_MAX_CACHED_WORDS = 200_000


def _rarity(key: str) -> tuple[int, int]:
    rank = _FREQUENCY_RANK.get(key)
    return (len(_FREQUENT) + len(key), 0) if rank is None else (rank, len(key))


def _anchor(keys: tuple[str, ...]) -> int:
    return max(range(len(keys)), key=lambda i: _rarity(keys[i]))


def _deletions(key: str) -> set[str]:
    return {key[:i] + key[i + 1 :] for i in range(len(key))}


def _variants(words: list[str]) -> set[tuple[str, ...]]:
    """The keys of a term split in two (one word) or glued (several words)."""
    variants: set[tuple[str, ...]] = set()
    if len(words) == 1 and len(words[0]) >= 8 and words[0].isalpha():
        word = words[0]
        variants |= {
            (stem(word[:i]), stem(word[i:])) for i in range(2, len(word) - 2) if i >= 3 or word[:i] in _SPLIT_PREFIXES
        }
    elif len(words) > 1:
        glued = "".join(words)
        if len(glued) >= 6:
            variants.add((stem(glued),))
    return variants


# French says « en ligne », « par internet », « sur internet » and « via internet » alike:
# an expression written with one also matches the others (« votent par internet » is « votent en ligne »).
_ONLINE = (("en", "lign"), ("par", "internet"), ("sur", "internet"), ("via", "internet"))


def _synonyms(keys: tuple[str, ...]) -> set[tuple[str, ...]]:
    """The keys of an expression with each way of saying « en ligne » (the expression itself included)."""
    for i in range(len(keys) - 1):
        if keys[i : i + 2] in _ONLINE:
            return {keys[:i] + pair + rest for pair in _ONLINE for rest in _synonyms(keys[i + 2 :])}
    return {keys}


def _expressions(rule: MentionRule) -> list[tuple[Kind, int, tuple[str, ...]]]:
    """The expressions of a rule by kind, with the number of their contextual group."""
    found = [(Kind.TERM, -1, rule.terms), (Kind.EXCLUSION, -1, rule.exclusions)]
    for group, contextual in enumerate(rule.contextual):
        found += [(Kind.WEAK, group, contextual.terms), (Kind.CONTEXT, group, contextual.context)]
    return found


class Matcher:
    """The compiled mention rules of one grille, with the word caches that go with them."""

    def __init__(self, rules: Sequence[MentionRule]) -> None:
        self.rules = tuple(rules)
        self.rules_of_service: dict[str, tuple[int, ...]] = {}
        for number, rule in enumerate(self.rules):
            for code in dict.fromkeys(rule.service_codes):
                self.rules_of_service[code] = (*self.rules_of_service.get(code, ()), number)

        expressions: dict[tuple[int, Kind, int, tuple[str, ...]], str] = {}
        # Terms as written first, then their split and glued variants (of terms only),
        # so that a variant never hides a term (« open data » is a term and the split of « opendata »).
        for as_written in (True, False):
            for number, rule in enumerate(self.rules):
                for kind, group, terms in _expressions(rule):
                    if not as_written and kind is not Kind.TERM:
                        continue
                    for term in terms:
                        words = words_of(term)
                        written = tuple(stem(w) for w in words)
                        for keys in _synonyms(written) if as_written else _variants(words) - {written}:
                            if keys:
                                expressions.setdefault((number, kind, group, keys), term)

        self._index: dict[str, list[Phrase]] = {}
        roles: dict[tuple[int, Kind, int], int] = {}
        # The contextual groups of the rule set, numbered; for each, the anchors of its
        # contextual terms and of its contexts. A passage can hold evidence only if it holds
        # the anchor of a term, or the anchors of a contextual term and of a context of a group.
        groups: dict[tuple[int, int], tuple[set[str], set[str]]] = {}
        term_anchors: set[str] = set()
        one_word_terms: set[str] = set()
        long_words: set[str] = set()
        for (number, kind, group, keys), term in expressions.items():
            role = roles.setdefault((number, kind, group), len(roles))
            contextual = kind in (Kind.WEAK, Kind.CONTEXT)
            if contextual:
                groups.setdefault((number, group), (set(), set()))
            pair = list(groups).index((number, group)) if contextual else -1
            phrase = Phrase(keys, _anchor(keys), number, kind, term, group, role, pair)
            anchor = keys[phrase.anchor]
            self._index.setdefault(anchor, []).append(phrase)
            if kind is Kind.TERM:
                term_anchors.add(anchor)
                if len(keys) == 1:
                    one_word_terms.add(anchor)
                else:
                    long_words.update(k for k in keys if len(k) >= _MIN_FUZZY_LONG_WORD)
            elif contextual:
                groups[number, group][kind is Kind.CONTEXT].add(anchor)
        self._group_keys = [(frozenset(weak), frozenset(context)) for weak, context in groups.values()]
        self._group_rules = [number for number, _ in groups]
        self._all_keys = frozenset(k for phrases in self._index.values() for p in phrases for k in p.keys)
        self._corrections: dict[str, set[str]] = {}
        for key in one_word_terms | long_words:
            if len(key) >= _MIN_FUZZY_TERM and key.isalpha():
                for variant in _deletions(key) | {key}:
                    self._corrections.setdefault(variant, set()).add(key)

        self._keys: dict[str, str] = {}  # word as written → key
        self._known: set[str] = set()  # the words of self._keys, as a set (fast superset tests)
        self._term_words: set[str] = set()  # words whose key anchors a term
        self._group_words: list[tuple[set[str], set[str]]] = [(set(), set()) for _ in self._group_keys]
        self._weak_words: set[str] = set()  # words of all the groups' contextual terms
        # key → the sets of words above that a word of that key belongs to (learning is one lookup)
        self._word_sets: dict[str, list[set[str]]] = {}
        for key in term_anchors:
            self._word_sets.setdefault(key, []).append(self._term_words)
        for (weak_keys, context_keys), (weak, context) in zip(self._group_keys, self._group_words, strict=True):
            for key in weak_keys:
                self._word_sets.setdefault(key, []).extend((weak, self._weak_words))
            for key in context_keys:
                self._word_sets.setdefault(key, []).append(context)

    def _correct(self, key: str) -> str:
        """The one-word term key `key` is a misspelling of, or `key` itself."""
        if key in self._all_keys or len(key) < _MIN_FUZZY_WORD or not key.isalpha():
            return key
        found: set[str] = set(self._corrections.get(key, ()))
        for variant in _deletions(key):
            found |= self._corrections.get(variant, set())
        found = {c for c in found if c[0] == key[0] and abs(len(c) - len(key)) <= 1}
        return found.pop() if len(found) == 1 else key

    def _learn(self, words: set[str]) -> None:
        if len(self._keys) > _MAX_CACHED_WORDS:
            self._keys.clear()
            self._known.clear()
            self._term_words.clear()
            self._weak_words.clear()
            for weak, context in self._group_words:
                weak.clear()
                context.clear()
        self._known |= words
        for word in words:
            key = stem(fold(word))
            # A word French knows is no misspelling (« interrogé » is not « Interreg », « tablette »
            # not « tablettes »): simplemma's dictionary says which, misspelt words are unknown to it.
            if not simplemma.is_known(word.lower(), lang="fr"):
                key = self._correct(key)
            self._keys[word] = key
            for belongs in self._word_sets.get(key, ()):
                belongs.add(word)

    def pairs_of(self, rules: frozenset[int]) -> frozenset[int]:
        """The contextual groups (`Phrase.pair`) of some rules."""
        return frozenset(pair for pair, rule in enumerate(self._group_rules) if rule in rules)

    def read(self, text: str, hinted: frozenset[int] = frozenset(), ignored: Set[int] = frozenset()) -> Reading | None:
        """The phrases of the rules found in `text`; None when no evidence can be there.

        `hinted`: contextual groups (`pairs_of`) whose terms count without their
        context here (the passage's action declares one of the rule's services).
        `ignored`: rules (by number) not to look for here.
        """
        words = WORD.findall(text)
        distinct = set(words)  # set against set: each test walks the smaller one
        keys_of = self._keys
        if not self._known.issuperset(distinct):  # words never met: key them once (most dossiers bring few)
            self._learn(distinct.difference(keys_of))
        # Most passages hold no contextual term at all: one set operation says so.
        active = (
            {
                n
                for n, (weak, context) in enumerate(self._group_words)
                if not weak.isdisjoint(distinct) and (n in hinted or not context.isdisjoint(distinct))
            }
            if not self._weak_words.isdisjoint(distinct)
            else set()
        )
        if not active and self._term_words.isdisjoint(distinct):
            return None
        keys = list(map(keys_of.__getitem__, words))
        index = self._index
        found = list(map(index.get, keys))
        total = len(keys)
        candidates: list[Occurrence] = []
        for i in compress(range(total), found):
            for phrase in found[i]:  # type: ignore[union-attr]  # compress keeps the found ones
                if (phrase.kind in _CONTEXTUAL and phrase.pair not in active) or phrase.rule in ignored:
                    continue
                start = i - phrase.anchor
                end = start + len(phrase.keys)
                if start >= 0 and end <= total and (end - start == 1 or tuple(keys[start:end]) == phrase.keys):
                    candidates.append(_occurrence(Occurrence, (phrase, start, end)))
        if not _may_be_evidence(candidates, hinted):
            return None
        # Only now the offsets: an expression's words must not be split by punctuation.
        spans = [m.span() for m in WORD.finditer(text)]
        occurrences = [
            o
            for o in candidates
            if o.end - o.start == 1
            or all(is_tight(text[spans[j][1] : spans[j + 1][0]]) for j in range(o.start, o.end - 1))
        ]
        if not _may_be_evidence(occurrences, hinted):
            return None
        return Reading(text, spans, words, _outermost(occurrences))


def _may_be_evidence(occurrences: list[Occurrence], hinted: frozenset[int]) -> bool:
    """Whether some rule has a term, or a contextual term and a context of its group (or a hint), among `occurrences`."""
    weak: set[int] = set()
    context: set[int] = set()
    for phrase, _, _ in occurrences:
        kind = phrase.kind
        if kind is Kind.TERM:
            return True
        if kind is Kind.WEAK:
            weak.add(phrase.pair)
        elif kind is Kind.CONTEXT:
            context.add(phrase.pair)
    return not weak.isdisjoint(context) or not weak.isdisjoint(hinted)


def _outermost(occurrences: list[Occurrence]) -> list[Occurrence]:
    """Drop an occurrence inside a longer one of the same role (« réseau social » in « réseau social local »)."""
    if len(occurrences) < 2:
        return occurrences
    occurrences.sort(key=lambda o: (o.start, o.start - o.end))  # by start, the longest first
    kept: list[Occurrence] = []
    reach: dict[int, int] = {}  # how far the kept occurrences of a role go
    for o in occurrences:
        role = o.phrase.role
        if reach.get(role, -1) >= o.end:
            continue
        kept.append(o)
        reach[role] = max(reach.get(role, -1), o.end)
    return kept


_LAST: list[tuple[tuple[MentionRule, ...], Matcher]] = []  # the rule sets of the last grilles, by identity


def compile_rules(rules: tuple[MentionRule, ...]) -> Matcher:
    """The compiled rules of a grille, built once per rule set.

    The same tuple (one grille version) is found by identity without hashing its
    rules; an equal rule set (another copy of the grille) by equality.
    """
    for known, matcher in _LAST:
        if known is rules:
            return matcher
    matcher = _compile(rules)
    _LAST.insert(0, (rules, matcher))
    del _LAST[8:]
    return matcher


@lru_cache(maxsize=8)
def _compile(rules: tuple[MentionRule, ...]) -> Matcher:
    return Matcher(rules)


def clear_caches() -> None:
    """Forget every compiled rule set (for benchmarks and tests)."""
    _LAST.clear()
    _compile.cache_clear()

"""The mention rules of a grille, compiled once, and what they find in one passage of text.

Compilation (cached per rule set, see `compile_rules`) turns every term, weak
term, context term and exclusion into the keys of its words (`french.key_of`)
and indexes it by its rarest word, its *anchor*: a passage is read word by word
only if one of its words is an anchor, which most passages are not. Each
distinct word met is keyed once (folded, stemmed, corrected if misspelt) and
cached with the rules.

Variants generated at compilation, so that matching stays exact lookups:
- one-word terms split in two (« coworking » also matches « co working »,
  « facebook » « face book »), many-word terms glued (« tiers-lieu » also
  matches « tierslieu »);
- misspellings: a word of 6+ letters that is no term word is corrected to the
  term word of 7+ letters at one edit (deletion, insertion, substitution or
  swap of neighbours) with the same first letter, if exactly one is (« facebok »,
  « twiter », « téletravail » is already folded). Shorter words are never
  corrected: « ouvert » / « couvert », « aidant » / « aident » are real words.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from palmares_contracts import MentionRule

from palmares_mentions.french import WORD, fold, is_tight, key_of, stem, words_of


class Kind(enum.Enum):
    """The role of an expression in a mention rule."""

    TERM = "term"
    WEAK = "weak"
    CONTEXT = "context"
    EXCLUSION = "exclusion"


@dataclass(frozen=True, slots=True)
class Phrase:
    """An expression of a rule, as the keys of its words; `anchor` is the index of its rarest word.

    `group` numbers the rule's contextual group of a WEAK term or a CONTEXT (-1 otherwise).
    """

    keys: tuple[str, ...]
    anchor: int
    rule: int
    kind: Kind
    term: str
    group: int = -1


@dataclass(frozen=True, slots=True)
class Occurrence:
    """A phrase found in a passage, on words [start, end)."""

    phrase: Phrase
    start: int
    end: int


@dataclass(slots=True)
class Reading:
    """A passage read by the matcher: its words (with offsets in the original text) and the phrases found."""

    text: str
    spans: list[tuple[int, int]]
    words: list[str]
    occurrences: list[Occurrence] = field(default_factory=list)


# The most frequent words of dossiers, most frequent first: never chosen as
# anchors when an expression has a rarer word (« point numérique » is anchored
# on « point », « réseau social » on « social »).
_FREQUENT = [
    "de",
    "d",
    "la",
    "le",
    "les",
    "l",
    "a",
    "au",
    "aux",
    "du",
    "des",
    "en",
    "et",
    "un",
    "une",
    "pour",
    "sur",
    "par",
    "avec",
    "dans",
    "ou",
    "est",
    "sont",
    "qui",
    "que",
    "numerique",
    "numeriques",
    "ligne",
    "site",
    "sites",
    "service",
    "services",
    "public",
    "publique",
    "commune",
    "communes",
    "ville",
    "villes",
    "habitants",
    "internet",
    "donnees",
    "projet",
    "espace",
    "reseau",
    "acces",
    "personnes",
    "conseil",
    "atelier",
    "ateliers",
    "aide",
    "ecole",
    "ecoles",
    "classe",
    "classes",
    "travail",
    "point",
    "mise",
    "place",
    "web",
    "agents",
    "accompagnement",
    "demarches",
    "plateforme",
    "outil",
]
_FREQUENCY_RANK = {key_of(word)[0]: rank for rank, word in enumerate(_FREQUENT)}

_MIN_FUZZY_TERM = 7  # a term word must be this long to be reached by a correction
_MIN_FUZZY_WORD = 6  # and the text word at least this long
# Real words at one edit of a term word: never corrected.
_NOT_MISSPELLINGS = frozenset({"twister", "aident", "distant", "tablette"})
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
    if len(words) == 1 and len(words[0]) >= 6 and words[0].isalpha():
        word = words[0]
        variants |= {(stem(word[:i]), stem(word[i:])) for i in range(2, len(word) - 1)}
    elif len(words) > 1:
        glued = "".join(words)
        if len(glued) >= 6:
            variants.add((stem(glued),))
    return variants


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
        self._index: dict[str, list[Phrase]] = {}
        triggers: set[str] = set()
        phrases: dict[tuple[int, Kind, int, tuple[str, ...]], str] = {}
        # Terms as written first, then their split and glued variants, so that a
        # variant never hides a term (« open data » is a term and the split of « opendata »).
        for as_written in (True, False):
            for number, rule in enumerate(self.rules):
                for kind, group, terms in _expressions(rule):
                    for term in terms:
                        words = words_of(term)
                        written = tuple(stem(w) for w in words)
                        for keys in {written} if as_written else _variants(words) - {written}:
                            if keys:
                                phrases.setdefault((number, kind, group, keys), term)
        # A passage can hold evidence only if it holds the anchor of a term, or the
        # anchors of a contextual term and of a context of the same group.
        groups: dict[tuple[int, int], tuple[set[str], set[str]]] = {}
        for (number, kind, group, keys), term in phrases.items():
            phrase = Phrase(keys, _anchor(keys), number, kind, term, group)
            anchor = keys[phrase.anchor]
            self._index.setdefault(anchor, []).append(phrase)
            if kind is Kind.TERM:
                triggers.add(anchor)
            elif kind in (Kind.WEAK, Kind.CONTEXT):
                groups.setdefault((number, group), (set(), set()))[kind is Kind.CONTEXT].add(anchor)
        self._group_keys = [(frozenset(weak), frozenset(context)) for weak, context in groups.values()]
        self._triggers = frozenset(triggers)
        self._all_triggers = self._triggers.union(*(w for w, _ in self._group_keys))
        self._term_keys = frozenset(k for phrases in self._index.values() for p in phrases for k in p.keys)
        self._corrections: dict[str, set[str]] = {}
        for key in self._term_keys:
            if len(key) >= _MIN_FUZZY_TERM and key.isalpha():
                for variant in _deletions(key) | {key}:
                    self._corrections.setdefault(variant, set()).add(key)
        self._keys: dict[str, str] = {}  # word as written → key
        self._known: set[str] = set()
        self._trigger_words: set[str] = set()  # words whose key anchors a term or a contextual term
        self._term_words: set[str] = set()  # words whose key anchors a term
        self._group_words: list[tuple[set[str], set[str]]] = [(set(), set()) for _ in self._group_keys]

    def _correct(self, key: str) -> str:
        """The term key `key` is a misspelling of, or `key` itself."""
        if key in self._term_keys or len(key) < _MIN_FUZZY_WORD or key in _NOT_MISSPELLINGS or not key.isalpha():
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
            self._trigger_words.clear()
            self._term_words.clear()
            for weak, context in self._group_words:
                weak.clear()
                context.clear()
        for word in words:
            key = self._correct(stem(fold(word)))
            self._keys[word] = key
            if key in self._all_triggers:
                self._trigger_words.add(word)
                if key in self._triggers:
                    self._term_words.add(word)
            for (weak_keys, context_keys), (weak, context) in zip(self._group_keys, self._group_words, strict=True):
                if key in weak_keys:
                    weak.add(word)
                if key in context_keys:
                    context.add(word)
        self._known |= words

    def _may_hold_evidence(self, words: set[str]) -> bool:
        if words.isdisjoint(self._trigger_words):
            return False
        if not words.isdisjoint(self._term_words):
            return True
        return any(not words.isdisjoint(w) and not words.isdisjoint(c) for w, c in self._group_words)

    def read(self, text: str) -> Reading | None:
        """The phrases of the rules found in `text`; None when no term can be there."""
        distinct = set(WORD.findall(text))
        new = distinct - self._known
        if new:
            self._learn(new)
        if not self._may_hold_evidence(distinct):
            return None
        found = list(WORD.finditer(text))
        words = [m.group() for m in found]
        spans = [m.span() for m in found]
        keys = [self._keys[w] for w in words]
        reading = Reading(text, spans, words)
        total = len(keys)
        for i, key in enumerate(keys):
            phrases = self._index.get(key)
            if phrases is None:
                continue
            for phrase in phrases:
                start = i - phrase.anchor
                end = start + len(phrase.keys)
                if start < 0 or end > total:
                    continue
                if end - start > 1 and (
                    tuple(keys[start:end]) != phrase.keys
                    or not all(is_tight(text[spans[j][1] : spans[j + 1][0]]) for j in range(start, end - 1))
                ):
                    continue
                reading.occurrences.append(Occurrence(phrase, start, end))
        reading.occurrences = _outermost(reading.occurrences)
        return reading


def _outermost(occurrences: list[Occurrence]) -> list[Occurrence]:
    """Drop an occurrence inside a longer one of the same role (« réseau social » in « réseau social local »)."""
    if len(occurrences) < 2:
        return occurrences
    occurrences.sort(key=lambda o: (o.start, o.start - o.end))  # by start, the longest first
    kept: list[Occurrence] = []
    reach: dict[tuple[int, Kind, int], int] = {}  # how far the kept occurrences of a role go
    for o in occurrences:
        role = (o.phrase.rule, o.phrase.kind, o.phrase.group)
        if reach.get(role, -1) >= o.end:
            continue
        kept.append(o)
        reach[role] = max(reach.get(role, -1), o.end)
    return kept


@lru_cache(maxsize=8)
def compile_rules(rules: tuple[MentionRule, ...]) -> Matcher:
    """The compiled rules of a grille, built once per rule set (grilles are frozen, so rules are hashable)."""
    return Matcher(rules)

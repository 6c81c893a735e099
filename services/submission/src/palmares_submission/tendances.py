"""Tendances de la grille (pure): the actions that no service of the grille describes, grouped into themes.

The grille « évolue de 20 % par an, en fonction des actions publiées par les
villes »: the comité looks for what collectivités do that the grille does not
name yet. An action is *described* by the grille when it declares one of its
services, or when its title and description hold a service's term or every
significant word of its label (compared as lemmas: simplemma's French lemmas,
without accents, a plural left by the lemmatiser removed).

The undescribed actions are grouped greedily: the pair of adjacent lemmas (or,
failing that, the lemma) found in the most dossiers becomes a theme with every
action that holds it; those actions leave the pool, and so on while a key is
shared by at least `min_dossiers` dossiers. Each theme is named by the words
the collectivités wrote most often for its key. Deterministic and explainable:
a theme is the actions that share its words.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import simplemma
from palmares_contracts import ChangeKind, ChangelogEntry, Grille
from unidecode import unidecode

_WORD = re.compile(r"[^\W\d_]+")
# Two significant words make one expression when only a few small words separate them
# (« registre des délibérations »), never a sentence's end.
_PHRASE_GAP = re.compile(r"[\s'’\-]*(?:[^\W\d_]{1,3}[\s'’\-]+){0,2}")

# Function words, and the words every dossier of the label uses (they name no theme).
_STOP_WORDS = """
    a à au aux avec ce ces cette cet chaque comme dans de des du elle en et être leur leurs la le les lui mais
    même ne ni nos notre nous on ou où par pas plus pour qu que qui sa sans se ses son sont sur ta te tes ton
    tous tout toute toutes un une vos votre vous y d l s n c j m qu est ont été fait faire aussi afin ainsi
    alors après avant bien chez depuis dont entre lors mois année an ans fois très contre vers sous selon
    grâce autour auprès encore déjà jour jours tout deux trois premier première nouveau nouvelle nouveaux
    nouvelles commune communes ville villes village villages collectivité collectivités territoire territoires
    habitant habitants mairie municipal municipale municipaux service services numérique numériques projet
    projets action actions mise place mettre mis ligne site internet web outil outils permettre permet
    permettant public publique publics publiques usager usagers citoyen citoyens agglomération communauté
    intercommunalité ensemble développement dispositif
"""
_STOP = frozenset(unidecode(w) for w in _STOP_WORDS.split())


@lru_cache(maxsize=65_536)
def lemma(word: str) -> str:
    """A word's comparison key: its French lemma, lower case, without accents (« rumeurs » → « rumeur »)."""
    found = simplemma.lemmatize(word.lower(), lang="fr").lower()
    folded = unidecode(found)
    if folded == unidecode(word.lower()) and len(folded) > 4:
        # The lemmatiser does not know every word: take off a plural it left.
        if folded.endswith("aux"):
            folded = folded[:-3] + "al"
        elif folded.endswith(("s", "x")) and not folded.endswith("ss"):
            folded = folded[:-1]
    return folded


@lru_cache(maxsize=65_536)
def _significant(word: str) -> str | None:
    """A word's lemma, or None for a short word, a function word or a word every dossier uses."""
    if len(word) < 3 or unidecode(word.lower()) in _STOP:
        return None
    key = lemma(word)
    return key if key not in _STOP and len(key) >= 3 else None


def spans(text: str) -> list[tuple[str, int, int]]:
    """The significant words of a text: (lemma, start, end), in order."""
    found = []
    for m in _WORD.finditer(text):
        key = _significant(m.group())
        if key is not None:
            found.append((key, m.start(), m.end()))
    return found


def words(text: str) -> list[tuple[str, str]]:
    """The significant words of a text: (lemma, the word as written, lower case), in order."""
    return [(key, text[start:end].lower()) for key, start, end in spans(text)]


def _keys(text: str) -> tuple[str, ...]:
    return tuple(k for k, _ in words(text))


@dataclass(frozen=True, slots=True)
class ServiceKeys:
    code: str
    label: str
    keys: tuple[tuple[str, ...], ...]  # each: lemmas that must all be in an action


def service_keys(grille: Grille) -> list[ServiceKeys]:
    """How the grille's services are recognised in a text: each term, and the label's significant words."""
    found = []
    for s in grille.services:
        # A term of one common word (« page », « accueil ») names no service on its own; a
        # distinctive word (« chatbot ») or an acronym (« TIPI ») does.
        keys = [k for k, t in ((_keys(t), t) for t in s.terms) if len(k) >= 2 or _is_word(k, t)]
        label = _keys(s.label)
        if 2 <= len(label) <= 4:
            keys.append(label)
        found.append(ServiceKeys(s.code, s.label, tuple(keys)))
    return found


# Words of the grille's terms too common to name a service alone.
_GENERIC_WORDS = "page accueil demarche portail application espace information reseau donnee formation atelier video carte journal lettre guichet plateforme borne ecran compte agenda"
_GENERIC = frozenset(_GENERIC_WORDS.split())


def _is_word(key: tuple[str, ...], term: str) -> bool:
    return len(key) == 1 and " " not in term.strip() and key[0] not in _GENERIC


Index = dict[str, list[tuple[str, frozenset[str]]]]


def index(services: Sequence[ServiceKeys]) -> Index:
    """The services' keys under their first lemma: a text is checked only against the keys one of its words opens
    (at national scale, every action against every key was most of the report's time)."""
    found: Index = {}
    for s in services:
        for k in s.keys:
            found.setdefault(k[0], []).append((s.code, frozenset(k)))
    return found


def described_by(text: str, services: Sequence[ServiceKeys], keys: Index | None = None) -> list[str]:
    """The codes of the services whose term (or whole short label) the text holds: a term of several words, or
    an acronym or a name; a label of two to four significant words. In the grille's order; `keys`: the
    services' `index`, when the caller reads many texts."""
    present = set(_keys(text))
    by_first = index(services) if keys is None else keys
    found = {code for word in present for code, key in by_first.get(word, ()) if key <= present}
    return [s.code for s in services if s.code in found]


@dataclass(frozen=True, slots=True)
class ActionText:
    """An action of the edition, with what the tendances need of its dossier."""

    submission_id: str
    collectivite: str
    category: str
    title: str
    description: str
    services: tuple[str, ...]

    @property
    def text(self) -> str:
        return f"{self.title}. {self.description}"


@dataclass(frozen=True, slots=True)
class Theme:
    key: tuple[str, ...]
    label: str
    actions: list[ActionText]
    dossiers: int
    share_of_dossiers: float
    categories: dict[str, int]
    examples: list[ActionText] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Tendances:
    edition: int
    dossiers: int
    actions: int
    undescribed: int
    themes: list[Theme]
    undeclared_services: list[tuple[str, str]]  # (code, label) that no dossier declared


def _grams(text: str) -> dict[tuple[str, ...], list[str]]:
    """Each lemma and each expression of two lemmas of a text, with the words written for it."""
    found = spans(text)
    grams: dict[tuple[str, ...], list[str]] = {}
    for i, (key, start, end) in enumerate(found):
        grams.setdefault((key,), []).append(text[start:end].lower())
        if i + 1 < len(found):
            after, start2, end2 = found[i + 1]
            if after != key and _PHRASE_GAP.fullmatch(text[end:start2]):
                grams.setdefault((key, after), []).append(text[start:end2].lower())
    return grams


def themes(pool: Sequence[ActionText], dossiers: int, *, min_dossiers: int = 2, max_themes: int = 20) -> list[Theme]:
    """Group undescribed actions into themes (see the module's docstring); the largest first."""
    grams = {id(a): _grams(a.text) for a in pool}
    remaining = list(pool)
    found: list[Theme] = []
    while remaining and len(found) < max_themes:
        support: dict[tuple[str, ...], set[str]] = {}
        occurrences: Counter[tuple[str, ...]] = Counter()
        for a in remaining:
            for gram, forms in grams[id(a)].items():
                support.setdefault(gram, set()).add(a.submission_id)
                occurrences[gram] += len(forms)
        # Most dossiers first; then a pair shared by as many dossiers as its best word says more
        # than the word alone; then the most repeated.
        best = max(
            support.items(),
            key=lambda kv: (len(kv[1]), len(kv[0]), occurrences[kv[0]], kv[0]),
            default=None,
        )
        if best is None or len(best[1]) < min_dossiers:
            break
        key = best[0]
        members = [a for a in remaining if key in grams[id(a)]]
        written = Counter(w for a in members for w in grams[id(a)][key])
        found.append(
            Theme(
                key=key,
                label=written.most_common(1)[0][0],
                actions=members,
                dossiers=len(best[1]),
                share_of_dossiers=round(len(best[1]) / dossiers, 4) if dossiers else 0.0,
                categories=dict(Counter(a.category for a in members)),
                examples=members[:3],
            )
        )
        remaining = [a for a in remaining if key not in grams[id(a)]]
    return found


def tendances(
    edition: int, grille: Grille, actions: Iterable[ActionText], *, min_dossiers: int = 2, text_only: bool = False
) -> Tendances:
    """The edition's undescribed actions in themes, and the grille's services that no dossier declared.

    `text_only`: an action's declared services do not count, only its words (what a dossier
    describes in words the grille does not have, even when it ticked a service).
    """
    everything = list(actions)
    services = service_keys(grille)
    known = set() if text_only else {s.code for s in grille.services}
    keys = index(services)
    pool = [a for a in everything if not (set(a.services) & known) and not described_by(a.text, services, keys)]
    declared = {c for a in everything for c in a.services}
    dossiers = len({a.submission_id for a in everything})
    return Tendances(
        edition=edition,
        dossiers=dossiers,
        actions=len(everything),
        undescribed=len(pool),
        themes=themes(pool, dossiers, min_dossiers=min_dossiers),
        undeclared_services=[(s.code, s.label) for s in grille.services if s.code not in declared],
    )


def answered_by(found: Tendances, grille: Grille) -> dict[str, Theme]:
    """The themes of an edition's tendances that services of the next grille answer: code → theme.

    A service answers a theme when it describes (its terms or its label, as above) more than half of the
    theme's actions; of several themes, the one it describes most actions of.
    """
    answered: dict[str, Theme] = {}
    for service in service_keys(grille):
        best = max(
            ((sum(1 for a in t.actions if described_by(a.text, [service])), t) for t in found.themes),
            key=lambda nt: nt[0],
            default=(0, None),
        )
        if best[1] is not None and 2 * best[0] > len(best[1].actions):
            answered[service.code] = best[1]
    return answered


def cite_themes(found: Tendances, grille: Grille) -> list[ChangelogEntry]:
    """The next grille's changelog, each « added » service citing the theme of `found` it answers (if any)."""
    answered = answered_by(found, grille)
    return [
        e.model_copy(update={"theme": answered[e.service_code].label})
        if e.change is ChangeKind.ADDED and e.service_code in answered
        else e
        for e in grille.changelog
    ]


def citations(found: Tendances, grille: Grille) -> dict[tuple[str, ...], list[tuple[str, str]]]:
    """Each theme's key → the next grille's « added » services that cite it (code, label), as `cite_themes` does."""
    added = {e.service_code for e in grille.changelog if e.change is ChangeKind.ADDED}
    labels = {s.code: s.label for s in grille.services}
    cited: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    for code, theme in answered_by(found, grille).items():
        if code in added:
            cited.setdefault(theme.key, []).append((code, labels[code]))
    return cited

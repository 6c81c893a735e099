"""Detection of the label's mentions in a dossier (pure, no I/O).

A mention's rule (in the grille) names the services and the French terms that
evidence it, and the exclusions (homonyms) that do not. Evidence comes from
the services declared by the actions, and from the text of the actions and of
the narrative, compared without case or accents, on word boundaries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from palmares_contracts import Action, Evidence, Mention, MentionMiss, MentionRule
from unidecode import unidecode

SNIPPET_RADIUS = 60


def normalize(text: str) -> str:
    """Lowercase ASCII form of French text: 'Données Ouvertes' → 'donnees ouvertes'."""
    return unidecode(text).lower()


@lru_cache(maxsize=4096)
def _pattern(term: str) -> re.Pattern[str]:
    words = normalize(term).split()
    return re.compile(r"(?<![a-z0-9])" + r"[\s'’-]+".join(re.escape(w) for w in words) + r"(?![a-z0-9])")


@dataclass(frozen=True, slots=True)
class Passage:
    """A piece of text of the dossier, and the action it belongs to (None: the narrative)."""

    action_title: str | None
    text: str


def passages(actions: Iterable[Action], narrative: str) -> list[Passage]:
    found = [Passage(a.title, f"{a.title}. {a.description}") for a in actions]
    if narrative.strip():
        found.append(Passage(None, narrative))
    return found


def _find_terms(rule: MentionRule, passage: Passage) -> Evidence | None:
    # unidecode keeps one output character per input character for Latin text
    # (French accents), so offsets in the normalized text match the original.
    norm = normalize(passage.text)
    same_length = len(norm) == len(passage.text)
    excluded = [(m.start(), m.end()) for term in rule.exclusions for m in _pattern(term).finditer(norm)]
    matched: list[str] = []
    first: int | None = None
    for term in rule.terms:
        for m in _pattern(term).finditer(norm):
            if any(s <= m.start() < e for s, e in excluded):
                continue
            matched.append(term)
            first = m.start() if first is None else min(first, m.start())
            break
    if not matched or first is None:
        return None
    source = passage.text if same_length else norm
    start = max(first - SNIPPET_RADIUS, 0)
    snippet = source[start : first + SNIPPET_RADIUS].strip()
    return Evidence(
        action_title=passage.action_title,
        snippet=("…" if start else "") + snippet + "…",
        matched_terms=tuple(dict.fromkeys(matched)),
    )


def detect(
    actions: Iterable[Action], narrative: str, rules: Iterable[MentionRule]
) -> tuple[tuple[Mention, ...], tuple[MentionMiss, ...]]:
    """The mentions a dossier earns, with evidence; and those missed, with what lacked."""
    actions = list(actions)
    texts = passages(actions, narrative)
    mentions: list[Mention] = []
    missed: list[MentionMiss] = []
    for rule in rules:
        evidence: list[Evidence] = []
        wanted = set(rule.service_codes)
        for action in actions:
            codes = tuple(c for c in action.services if c in wanted)
            if codes:
                evidence.append(Evidence(action_title=action.title, service_codes=codes))
        for passage in texts:
            found = _find_terms(rule, passage)
            if found is not None:
                evidence.append(found)
        if len(evidence) >= rule.min_evidence:
            mentions.append(Mention(code=rule.code, label=rule.label, evidence=tuple(evidence)))
        elif evidence:
            missed.append(
                MentionMiss(
                    code=rule.code,
                    label=rule.label,
                    lacking=f"{len(evidence)} élément(s) probant(s) sur {rule.min_evidence} requis",
                )
            )
    return tuple(mentions), tuple(missed)

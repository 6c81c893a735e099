"""The pré-notation in arobases: pure, deterministic, explained (no I/O).

Model (see docs/scoring.md):
- an action counts at the dossier deadline by the label's 2-year rule
  (`palmares_label.actions`: started on or before the deadline, and less than
  two years before it or still running at it) and if it declares a service;
- the services that count are those the counted actions declare, that exist
  in the grille version and apply to the collectivité's category;
- score = 100 × (weight of the services covered) / (weight of every service
  applicable to the category), rounded to 0.1;
- arobases = the highest threshold reached, among the category's own
  thresholds if the grille has some, else the general ones (threshold of 1 @
  is 0: every participant gets at least 1 @);
- the explanation gives the coverage of each enjeu, the ignored actions with
  their reason, and the services that would earn the next arobase.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from palmares_contracts import (
    Action,
    Category,
    EnjeuCoverage,
    Grille,
    GrilleService,
    IgnoredAction,
    NextLevel,
    Threshold,
)
from palmares_label.actions import why_not_counted
from palmares_label.french import category_plural, quoted, typeset


@dataclass(frozen=True, slots=True)
class Score:
    """A pré-notation and its explanation."""

    score: float
    arobases: int
    enjeux: tuple[EnjeuCoverage, ...]
    next_level: NextLevel | None
    ignored_actions: tuple[IgnoredAction, ...]
    covered: frozenset[str]


def action_ignored_because(action: Action, deadline: date) -> str | None:
    """Why an action does not count at the deadline (French), or None if it counts."""
    reason = why_not_counted(action, deadline)
    if reason is not None:
        return reason
    if not action.services:
        return "aucun service de la grille n’est déclaré pour cette action"
    return None


def unknown_services(edition: int, version: int, codes: Iterable[str]) -> str:
    """Why an action whose services the grille does not know is ignored (French, the codes as declared)."""
    return typeset(
        f"services inconnus de la grille {edition} (version {version}) : {', '.join(quoted(code) for code in codes)}"
    )


def inapplicable_services(labels: Iterable[str], category: Category) -> str:
    """Why an action whose services do not apply to the collectivité's category is ignored (French)."""
    return typeset(
        f"services qui ne s’appliquent pas aux {category_plural(category)} : {', '.join(quoted(label) for label in labels)}"
    )


def applicable(grille: Grille, category: Category) -> list[GrilleService]:
    """The services of the grille that apply to a category (the adapted questionnaire)."""
    return [s for s in grille.services if category in s.applies_to]


def score_dossier(actions: Iterable[Action], category: Category, grille: Grille) -> Score:
    """Score a dossier's actions for a collectivité of `category` under `grille`."""
    deadline = grille.effective_deadline
    services = {s.code: s for s in applicable(grille, category)}
    known = {s.code for s in grille.services}
    covered: set[str] = set()
    ignored: list[IgnoredAction] = []
    for action in actions:
        reason = action_ignored_because(action, deadline)
        if reason is None:
            useful = [c for c in action.services if c in services]
            if useful:
                covered.update(useful)
                continue
            unknown = [c for c in action.services if c not in known]
            reason = (
                unknown_services(grille.edition, grille.version, unknown)
                if unknown
                else inapplicable_services([s.label for s in grille.services if s.code in action.services], category)
            )
        ignored.append(IgnoredAction(title=action.title, reason=reason))

    total = sum(s.weight for s in services.values())
    won = sum(services[c].weight for c in sorted(covered))
    score = round(100 * won / total, 1) if total else 0.0
    levels = sorted(grille.thresholds_for(category), key=lambda t: t.arobases)
    arobases = max(t.arobases for t in levels if t.min_score <= score)
    return Score(
        score=score,
        arobases=arobases,
        enjeux=_coverage(grille, services, covered),
        next_level=_next_level(levels, arobases, score, services, covered, total),
        ignored_actions=tuple(ignored),
        covered=frozenset(covered),
    )


def _coverage(grille: Grille, services: dict[str, GrilleService], covered: set[str]) -> tuple[EnjeuCoverage, ...]:
    # Grouped once: scanning every service for each enjeu was a tenth of a re-evaluation's CPU.
    by_enjeu: dict[str, list[GrilleService]] = {}
    for service in services.values():
        by_enjeu.setdefault(service.enjeu, []).append(service)
    result = []
    for enjeu in grille.enjeux:
        members = by_enjeu.get(enjeu.code, [])
        total = sum(s.weight for s in members)
        won = [s for s in members if s.code in covered]
        result.append(
            EnjeuCoverage(
                code=enjeu.code,
                label=enjeu.label,
                coverage=round(sum(s.weight for s in won) / total, 4) if total else 0.0,
                services=tuple(sorted(s.code for s in won)),
            )
        )
    return tuple(result)


def _next_level(
    levels: list[Threshold],
    arobases: int,
    score: float,
    services: dict[str, GrilleService],
    covered: set[str],
    total: float,
) -> NextLevel | None:
    above = [t for t in levels if t.arobases == arobases + 1]
    if not above or not total:
        return None
    target = above[0].min_score
    won = sum(services[c].weight for c in sorted(covered))
    # Heaviest services first: the fewest new services that close the gap. The
    # gap is judged on the score as it is published (rounded to 0.1), so the
    # suggestion neither stops one service short nor adds one too many.
    candidates = sorted((s for c, s in services.items() if c not in covered), key=lambda s: (-s.weight, s.code))
    suggested: list[str] = []
    for service in candidates:
        if round(100 * won / total, 1) >= target:
            break
        suggested.append(service.code)
        won += service.weight
    # A score is published to 0.1 but a calibrated threshold may have two decimals
    # (17.71): the score that earns it is the next tenth (17.8). Rounding the gap
    # to the nearest tenth instead would tell a dossier at 17.7 that it misses
    # 0.0 point, and one at 15.9 that 1.8 points (15.9 + 1.8 = 17.7) suffice.
    # The inner round keeps a float product just above a whole tenth from adding one.
    reached_at = math.ceil(round(target * 10, 6)) / 10
    return NextLevel(
        target_arobases=arobases + 1,
        points_missing=round(max(reached_at - score, 0.0), 1),
        suggested_services=tuple(suggested),
    )

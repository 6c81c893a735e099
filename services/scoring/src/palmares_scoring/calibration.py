"""Calibration of the arobase thresholds against the jury (pure: no I/O).

The pré-notation maps a score (0–100, `domain.score_dossier`) to arobases
through the grille's thresholds. The jury places each dossier on the 1–5 @
scale. Calibration fits the thresholds to the jury's decisions and says how
well the pré-notation agrees with the jury, before and after.

A jury decision is a range `[low, high]`: one value for an exact decision
(« 5 @ »), or a range where the source only bounds it (the 2017 press article
places the named villages « entre deux et quatre arobases »).

Fit. The arobases a set of thresholds gives never decrease with the score, so
fitting thresholds is an isotonic regression with integer levels: sort the
cases by score, give each score a level 1–5, never decreasing, minimising
the squared distance from each level to its case's range (0 inside the range,
the quadratic loss of the weighted kappa). Ties among optimal fits go to the
levels the current thresholds give (a tiny extra cost per level away from
them). A dynamic programme over the distinct scores finds the optimum exactly
in O(n·5²). The fit bounds each threshold between two scores; within those
bounds the current scale keeps its shape: all its thresholds are multiplied by
the one factor the bounds clip least (the nearest to 1 among equals), then
clipped into their bounds.

Per category. A category gets its own thresholds when its cases support it:
at least `MIN_CASES_PER_CATEGORY` cases whose ranges span at least two
levels; otherwise it uses the general thresholds, fitted on every case.

Agreement (`Agreement`): exact rate, within-one rate, quadratic weighted kappa
and the confusion matrix (jury × pré-notation). A range decision counts as the
value of its range nearest to the pré-notation (inside the range: agreement).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from palmares_contracts import Category, Threshold

LEVELS = (1, 2, 3, 4, 5)
MIN_CASES_PER_CATEGORY = 8
# Per level away from the current thresholds' level: far below the smallest jury
# loss (1), so it only breaks ties between fits that agree with the jury equally.
_STABILITY = 1e-3
# The least gap between two thresholds, and between a threshold and a score below it.
_STEP = 0.01
# Factors tried to rescale the current thresholds: ×0.25 to ×4, by steps of 0.1 %.
_FACTORS = tuple(round(0.25 * 1.001**i, 6) for i in range(1388))


@dataclass(frozen=True, slots=True)
class Case:
    """One dossier: its collectivité, category and score, and the jury's decision (a range)."""

    code: str
    category: Category
    score: float
    low: int
    high: int
    name: str = ""

    def __post_init__(self) -> None:
        if not (1 <= self.low <= self.high <= 5):
            raise ValueError(f"{self.code}: jury range {self.low}–{self.high} is not within 1–5")

    @property
    def exact(self) -> bool:
        return self.low == self.high

    def nearest(self, arobases: int) -> int:
        """The jury's value nearest to a pré-notation (the pré-notation itself inside the range)."""
        return min(max(arobases, self.low), self.high)


def arobases_for(score: float, thresholds: Sequence[Threshold]) -> int:
    """The highest level whose minimum the score reaches (as `domain.score_dossier` does)."""
    return max(t.arobases for t in thresholds if t.min_score <= score)


@dataclass(frozen=True, slots=True)
class Agreement:
    """How a set of pré-notations agrees with the jury's decisions."""

    cases: int
    exact: float  # share of pré-notations equal to the jury's (inside its range)
    within_one: float  # share at most one arobase away from the jury's range
    kappa: float | None  # quadratic weighted kappa; None when undefined (one level only on both sides)
    # confusion[j][p]: cases the jury placed at j + 1 @ and the pré-notation at p + 1 @.
    confusion: tuple[tuple[int, ...], ...]
    pairs: tuple[tuple[int, int], ...] = field(repr=False)


def agreement(cases: Sequence[Case], predict: Callable[[Case], int]) -> Agreement:
    """Agreement between `predict` (a pré-notation per case) and the jury."""
    pairs = tuple((case.nearest(p), p) for case in cases for p in (predict(case),))
    confusion = [[0] * len(LEVELS) for _ in LEVELS]
    for jury, pre in pairs:
        confusion[jury - 1][pre - 1] += 1
    n = len(pairs)
    return Agreement(
        cases=n,
        exact=sum(j == p for j, p in pairs) / n if n else 0.0,
        within_one=sum(abs(j - p) <= 1 for j, p in pairs) / n if n else 0.0,
        kappa=quadratic_weighted_kappa(pairs),
        confusion=tuple(tuple(row) for row in confusion),
        pairs=pairs,
    )


def quadratic_weighted_kappa(pairs: Sequence[tuple[int, int]], levels: Sequence[int] = LEVELS) -> float | None:
    """Cohen's kappa with quadratic weights of (rater a, rater b) pairs on `levels`.

    κ = 1 − Σ w·O / Σ w·E, w_ij = (i − j)² / (k − 1)², O the observed joint
    counts, E the product of the marginals / n. Written here rather than taken
    from scikit-learn (`cohen_kappa_score(weights="quadratic")`, which gives the
    same value: a test compares them on fixed cases) because the pure scoring
    package would otherwise pull numpy, scipy and scikit-learn into every image
    for twenty lines of arithmetic. None when undefined (Σ w·E = 0: both raters
    used a single level).
    """
    n = len(pairs)
    if n == 0:
        return None
    k = len(levels)
    index = {level: i for i, level in enumerate(levels)}
    observed = [[0.0] * k for _ in range(k)]
    for a, b in pairs:
        observed[index[a]][index[b]] += 1
    rows = [sum(r) for r in observed]
    cols = [sum(observed[i][j] for i in range(k)) for j in range(k)]
    weight = [[(i - j) ** 2 / (k - 1) ** 2 for j in range(k)] for i in range(k)]
    disagreement = sum(weight[i][j] * observed[i][j] for i in range(k) for j in range(k))
    chance = sum(weight[i][j] * rows[i] * cols[j] / n for i in range(k) for j in range(k))
    if chance == 0:
        return None
    return 1 - disagreement / chance


def _reachable(score: float, level: int) -> bool:
    """A score of 0 is 1 @ whatever the thresholds (above 1 @ they are > 0); a score of 100 is 5 @."""
    return (level == 1 or score > 0) and (level == LEVELS[-1] or score < 100)


def _loss(case: Case, level: int) -> float:
    distance = case.low - level if level < case.low else level - case.high if level > case.high else 0
    return float(distance * distance)


def fit(cases: Sequence[Case], current: Sequence[Threshold]) -> tuple[Threshold, ...]:
    """Thresholds 1–5 @ that best agree with the cases' jury, moved as little as possible from `current`."""
    levels = [t.arobases for t in sorted(current, key=lambda t: t.arobases)]
    if levels != list(LEVELS):
        raise ValueError("calibration fits the five levels 1–5 @")
    if not cases:
        return tuple(sorted(current, key=lambda t: t.arobases))
    by_score: dict[float, list[Case]] = defaultdict(list)
    for case in cases:
        by_score[case.score].append(case)
    scores = sorted(by_score)
    # cost[i][k]: loss of giving level k + 1 to every case of the i-th distinct score.
    cost = [
        [
            sum(_loss(c, level) for c in by_score[s])
            + _STABILITY * abs(level - arobases_for(s, current)) * len(by_score[s])
            if _reachable(s, level)
            else float("inf")
            for level in LEVELS
        ]
        for s in scores
    ]
    # best[i][k]: least cost of the first i + 1 scores with the i-th at level k + 1 (levels never decrease).
    best = [cost[0][:]]
    back: list[list[int]] = [[0] * len(LEVELS)]
    for i in range(1, len(scores)):
        row, choice = [], []
        for k in range(len(LEVELS)):
            previous = min(range(k + 1), key=lambda j: (best[i - 1][j], j))
            row.append(best[i - 1][previous] + cost[i][k])
            choice.append(previous)
        best.append(row)
        back.append(choice)
    k = min(range(len(LEVELS)), key=lambda j: (best[-1][j], j))
    assigned = [0] * len(scores)
    for i in range(len(scores) - 1, -1, -1):
        assigned[i] = k + 1
        k = back[i][k]
    return _thresholds(scores, assigned, current)


def _thresholds(scores: list[float], assigned: list[int], current: Sequence[Threshold]) -> tuple[Threshold, ...]:
    """Thresholds that keep the fitted levels, as near as they can be to the current scale, rescaled.

    Level k's threshold must lie in ]highest score fitted below k, lowest score fitted
    at k or above] and the thresholds must rise strictly (scores have one decimal, so a
    step of 0.01 always leaves room between two of them). Within those bounds, the
    current scale keeps its shape: every threshold is multiplied by the one factor
    that the bounds clip least (nearest to 1 among equals), then clipped. Moving only
    the thresholds the decisions bound would squeeze the levels between them (a 5 @
    lowered to 36 under a 4 @ left at 32).
    """
    now = {t.arobases: t.min_score for t in current}
    upper = LEVELS[1:]
    low: dict[int, float] = {}
    high: dict[int, float] = {}
    for level in upper:
        below = [s for s, a in zip(scores, assigned, strict=True) if a < level]
        above = [s for s, a in zip(scores, assigned, strict=True) if a >= level]
        low[level] = max(below) + _STEP if below else _STEP
        high[level] = min(above) if above else 100.0
    for level in upper[1:]:
        low[level] = max(low[level], low[level - 1] + _STEP)
    for level in reversed(upper[:-1]):
        high[level] = min(high[level], high[level + 1] - _STEP)

    def clipped(factor: float) -> float:
        return sum((min(max(now[k] * factor, low[k]), high[k]) - now[k] * factor) ** 2 for k in upper)

    factor = min(_FACTORS, key=lambda f: (round(clipped(f), 6), abs(f - 1)))
    result = [Threshold(arobases=1, min_score=0)]
    previous = 0.0
    for level in upper:
        value = round(min(max(now[level] * factor, low[level], previous + _STEP), high[level]), 2)
        # One decimal, like the scores, where the bounds allow it.
        if low[level] <= round(value, 1) <= high[level] and round(value, 1) > previous:
            value = round(value, 1)
        result.append(Threshold(arobases=level, min_score=value))
        previous = value
    return tuple(result)


@dataclass(frozen=True, slots=True)
class Calibration:
    """Fitted thresholds, and the agreement with the jury before and after."""

    general: tuple[Threshold, ...]
    per_category: Mapping[Category, tuple[Threshold, ...]]
    unsupported: Mapping[Category, str]  # why a category keeps the general thresholds
    before: Agreement
    after: Agreement
    before_by_category: Mapping[Category, Agreement]
    after_by_category: Mapping[Category, Agreement]

    def thresholds_for(self, category: Category) -> tuple[Threshold, ...]:
        return self.per_category.get(category, self.general)


def supports_own_thresholds(cases: Sequence[Case], min_cases: int = MIN_CASES_PER_CATEGORY) -> str | None:
    """None when a category's cases support its own thresholds, else why not (English, for operators)."""
    if len(cases) < min_cases:
        return f"{len(cases)} decision(s), fewer than {min_cases}"
    if len({c.low for c in cases} | {c.high for c in cases}) < 2:
        return "every decision is at the same level"
    return None


def calibrate(
    cases: Sequence[Case],
    general: Sequence[Threshold],
    category_thresholds: Mapping[Category, Sequence[Threshold]] | None = None,
    *,
    min_cases: int = MIN_CASES_PER_CATEGORY,
) -> Calibration:
    """Fit the general thresholds on every case, and a category's own where its cases support it."""
    own = dict(category_thresholds or {})

    def current_for(category: Category) -> Sequence[Threshold]:
        return own.get(category, general)

    fitted_general = fit(cases, general)
    per_category: dict[Category, tuple[Threshold, ...]] = {}
    unsupported: dict[Category, str] = {}
    groups = _by_category(cases)
    for category in Category:
        members = groups.get(category, [])
        reason = supports_own_thresholds(members, min_cases)
        if reason is None:
            per_category[category] = fit(members, current_for(category))
        elif members:
            unsupported[category] = reason

    def before(case: Case) -> int:
        return arobases_for(case.score, current_for(case.category))

    def after(case: Case) -> int:
        return arobases_for(case.score, per_category.get(case.category, fitted_general))

    return Calibration(
        general=fitted_general,
        per_category=per_category,
        unsupported=unsupported,
        before=agreement(cases, before),
        after=agreement(cases, after),
        before_by_category={c: agreement(m, before) for c, m in groups.items()},
        after_by_category={c: agreement(m, after) for c, m in groups.items()},
    )


def _by_category(cases: Iterable[Case]) -> dict[Category, list[Case]]:
    groups: dict[Category, list[Case]] = defaultdict(list)
    for case in cases:
        groups[case.category].append(case)
    return {c: groups[c] for c in Category if c in groups}


def increasing(thresholds: Sequence[Threshold]) -> bool:
    """Whether the thresholds rise strictly with the arobases (what a grille requires)."""
    levels = sorted(thresholds, key=lambda t: t.arobases)
    return all(a.min_score < b.min_score for a, b in pairwise(levels))

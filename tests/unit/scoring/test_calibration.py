"""Calibration of the arobase thresholds against the jury (`palmares_scoring.calibration`)."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from palmares_contracts import Category, Threshold
from palmares_scoring.calibration import (
    Case,
    agreement,
    arobases_for,
    calibrate,
    fit,
    quadratic_weighted_kappa,
    supports_own_thresholds,
)

DESIGN = tuple(Threshold(arobases=a, min_score=m) for a, m in ((1, 0), (2, 10), (3, 20), (4, 32), (5, 45)))


def case(score: float, low: int, high: int | None = None, category: Category = Category.VILLE) -> Case:
    return Case(code=f"c{score}", category=category, score=score, low=low, high=low if high is None else high)


def minimums(thresholds: tuple[Threshold, ...]) -> list[float]:
    return [t.min_score for t in sorted(thresholds, key=lambda t: t.arobases)]


# --- quadratic weighted kappa ---------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # Values of scikit-learn 1.9.1 cohen_kappa_score(a, b, weights="quadratic", labels=[1, 2, 3, 4, 5]).
        ([1, 2, 3, 4, 5, 5, 4, 3, 2, 1, 3, 3], [1, 2, 3, 4, 5, 4, 4, 2, 2, 2, 3, 5], 0.8205128205128205),
        ([5, 5, 5, 5, 3, 3, 2, 4], [4, 5, 5, 3, 3, 2, 2, 4], 0.7272727272727273),
        ([5, 5, 5], [1, 2, 3], 0.0),
    ],
)
def test_kappa_is_scikit_learns(a: list[int], b: list[int], expected: float) -> None:
    assert quadratic_weighted_kappa(list(zip(a, b, strict=True))) == pytest.approx(expected, abs=1e-12)


def test_kappa_edge_cases() -> None:
    assert quadratic_weighted_kappa([(1, 1), (3, 3), (5, 5)]) == 1.0
    assert quadratic_weighted_kappa([(5, 5), (5, 5)]) is None  # one level on both sides: undefined
    assert quadratic_weighted_kappa([]) is None
    assert quadratic_weighted_kappa([(1, 5), (5, 1)]) < 0  # worse than chance


# --- agreement ------------------------------------------------------------------------


def test_agreement_counts_a_range_as_its_nearest_value() -> None:
    cases = [case(50, 5), case(30, 5), case(12, 2, 4), case(5, 2, 4)]
    result = agreement(cases, lambda c: arobases_for(c.score, DESIGN))
    # Pré-notations 5, 3, 2, 1 against jury 5, 5, [2–4] → 2, [2–4] → 2.
    assert result.pairs == ((5, 5), (5, 3), (2, 2), (2, 1))
    assert (result.cases, result.exact, result.within_one) == (4, 0.5, 0.75)
    assert result.confusion[4][4] == 1 and result.confusion[4][2] == 1
    assert result.confusion[1][1] == 1 and result.confusion[1][0] == 1
    assert sum(map(sum, result.confusion)) == 4


# --- fit ------------------------------------------------------------------------------


def test_the_scale_keeps_its_shape_when_the_jury_lowers_it() -> None:
    # The jury's 5 @ scored 38.4–60: 5 @ must start at 38.4 at most. Lowering 5 @ alone would
    # leave 4 @ a band of 32–38.4; the whole scale is rescaled instead (× 38.4 / 45).
    cases = [case(60, 5), case(38.4, 5), case(41, 5), case(15, 2, 4), case(25, 2, 4)]
    fitted = fit(cases, DESIGN)
    factor = 38.4 / 45
    assert minimums(fitted) == [0, round(10 * factor, 1), round(20 * factor, 1), round(32 * factor, 1), 38.4]
    assert all(arobases_for(c.score, fitted) in range(c.low, c.high + 1) for c in cases)


def test_bounds_win_over_the_shape() -> None:
    # 2 @ must start above 12 (a 1 @ decision there) while 5 @ comes down to 30: no factor keeps
    # both; the least clipped one (0.692: 12.01 − 6.92 and 31.1 − 30) rescales 3 @ and 4 @, and
    # 2 @ and 5 @ are clipped into their bounds (12.01: one decimal would be 12.0, not above 12).
    fitted = fit([case(12, 1), case(30, 5), case(50, 5)], DESIGN)
    assert minimums(fitted) == [0, 12.01, 13.8, 22.1, 30]


def test_a_fit_in_agreement_with_the_jury_is_kept() -> None:
    cases = [case(50, 5), case(35, 4), case(25, 3), case(12, 2), case(3, 1)]
    assert fit(cases, DESIGN) == DESIGN


def test_levels_squeezed_between_close_scores_still_rise() -> None:
    # The jury puts 39.9 at 3 @ and 40.0 at 5 @: 4 @ and 5 @ must both fit in ]39.9, 40.0].
    fitted = fit([case(39.9, 3), case(40.0, 5)], DESIGN)
    levels = minimums(fitted)
    assert all(a < b for a, b in pairwise(levels))
    assert (arobases_for(39.9, fitted), arobases_for(40.0, fitted)) == (3, 5)


def test_contradictory_decisions_are_fitted_in_the_least_squares_sense() -> None:
    # Two dossiers at the same score, one at 2 @, one at 4 @: 3 @ is the least squared error.
    fitted = fit([case(30, 2), case(30, 4)], DESIGN)
    assert arobases_for(30, fitted) == 3


def test_fit_needs_five_levels() -> None:
    with pytest.raises(ValueError, match="five levels"):
        fit([case(10, 2)], DESIGN[:3])


CASES = st.lists(
    st.tuples(st.integers(0, 1000).map(lambda n: n / 10), st.integers(1, 5), st.integers(0, 2)).map(
        lambda t: case(t[0], t[1], min(5, t[1] + t[2]))
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(cases=CASES)
def test_the_fit_is_valid_and_never_worse_than_the_current_thresholds(cases: list[Case]) -> None:
    fitted = fit(cases, DESIGN)
    levels = minimums(fitted)
    assert levels[0] == 0 and all(a < b for a, b in pairwise(levels)) and levels[-1] <= 100

    def loss(thresholds: tuple[Threshold, ...]) -> int:
        return sum((c.nearest(p) - p) ** 2 for c in cases for p in (arobases_for(c.score, thresholds),))

    assert loss(fitted) <= loss(DESIGN)
    # Optimal: no monotone assignment does better (here: against a few shifted scales).
    for shift in (-10, -5, 5, 10):
        other = tuple(
            Threshold(arobases=t.arobases, min_score=max(t.arobases / 2, t.min_score + shift) if t.arobases > 1 else 0)
            for t in DESIGN
        )
        assert loss(fitted) <= loss(other)


# --- calibrate ------------------------------------------------------------------------


def test_a_category_gets_its_own_thresholds_only_where_its_cases_support_it() -> None:
    villages = [case(s, j, category=Category.VILLAGE) for s, j in [(8, 2), (12, 2), (15, 3), (18, 3), (22, 4)] * 2]
    villes = [case(50, 5), case(47, 5), case(38, 5)]
    result = calibrate([*villages, *villes], DESIGN)
    assert set(result.per_category) == {Category.VILLAGE}
    assert result.unsupported == {Category.VILLE: "3 decision(s), fewer than 8"}
    village = result.thresholds_for(Category.VILLAGE)
    assert all(arobases_for(c.score, village) == c.low for c in villages)
    assert result.thresholds_for(Category.VILLE) == result.general
    assert result.after.exact == 1.0 > result.before.exact
    assert result.after_by_category[Category.VILLAGE].exact == 1.0
    assert result.before_by_category[Category.VILLE].cases == 3


def test_supports_own_thresholds() -> None:
    assert supports_own_thresholds([case(50, 5)] * 8) == "every decision is at the same level"
    assert supports_own_thresholds([case(50, 5)] * 7 + [case(10, 2, 4)]) is None
    assert supports_own_thresholds([case(50, 5)] * 3, min_cases=3) == "every decision is at the same level"


def test_a_case_needs_a_range_within_1_to_5() -> None:
    with pytest.raises(ValueError, match="jury range"):
        case(10, 4, 2)
    with pytest.raises(ValueError, match="jury range"):
        case(10, 0)

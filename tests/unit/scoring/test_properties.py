"""Properties of the pré-notation (issue « scoring: explainable pré-notation »).

Every property runs on two kinds of grilles:
- small random grilles (1–4 categories, a few enjeux, services of weight 1–5
  applying to random non-empty sets of categories, integer thresholds rising
  from 0, a deadline that may fall on 29 February);
- the real grilles of `deploy/grilles/` (2017, 2018, 2018 v2), with dossiers
  sampling their service codes.

Dossiers mix every case the formula distinguishes: running and finished
actions, dates on the boundaries of the 2-year rule (the deadline, the day
before and the day after it, exactly two years before it, the day before and
the day after that), applicable, non-applicable
and unknown codes, and actions without services.

The reference used for "what the formula says" is written here from
docs/scoring.md, independently of `palmares_scoring.domain`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from itertools import permutations
from pathlib import Path
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st
from palmares_contracts import Action, Category, Grille, GrilleBody, IgnoredAction, Threshold
from palmares_scoring.domain import Score, inapplicable_services, score_dossier, unknown_services

ROOT = Path(__file__).resolve().parents[3]
GRILLES_DIR = ROOT / "deploy" / "grilles"

CATEGORIES: tuple[Category, ...] = tuple(Category)
TITLES = (
    "Site internet de la commune",
    "Portail famille",
    "Espace public numérique",
    "Wifi public dans les lieux publics",
    "Conseil municipal en direct",
    "Budget participatif",
    "Données ouvertes",
    "Tiers-lieu et coworking",
)
# Codes no grille has (typos, codes of another edition).
UNKNOWN_CODES = ("site_web", "visio_guichet", "retire_en_2018")

AFTER_DEADLINE = "action commencée le {0:%d/%m/%Y}, après la date limite du dossier ({1:%d/%m/%Y})"
TOO_OLD = (
    "action commencée le {0:%d/%m/%Y}, plus de deux ans avant la date limite du dossier ({1:%d/%m/%Y}), "
    "et terminée le {2:%d/%m/%Y}, avant cette date"
)
NO_SERVICE = "aucun service de la grille n’est déclaré pour cette action"

SETTINGS = settings(max_examples=60, deadline=None)


def load_grille(name: str, version: int = 1) -> Grille:
    body = GrilleBody.model_validate_json((GRILLES_DIR / name).read_text(encoding="utf-8"))
    return Grille(**body.model_dump(), version=version)


GRILLE_2017 = load_grille("grille-2017.json")
REAL_NAMES = {
    "grille-2017 v1": GRILLE_2017,
    "grille-2018 v1": load_grille("grille-2018.json"),
    "grille-2018-v2 v2": load_grille("grille-2018-v2.json", version=2),
}
REAL_GRILLES = tuple(REAL_NAMES.values())


# --- The formula, from docs/scoring.md -----------------------------------------------


def two_years_before(day: date) -> date:
    """D − 2 years; 29 February has no such day two years earlier: 28 February."""
    if (day.month, day.day) == (2, 29):
        return date(day.year - 2, 2, 28)
    return date(day.year - 2, day.month, day.day)


def date_reason(action: Action, deadline: date) -> str | None:
    """Why the dates of an action keep it from counting, or None: it counts if it started
    on or before D and less than two years before D, or still runs at D."""
    if action.started_on > deadline:
        return AFTER_DEADLINE.format(action.started_on, deadline)
    running = action.ended_on is None or action.ended_on >= deadline
    if action.started_on <= two_years_before(deadline) and not running:
        return TOO_OLD.format(action.started_on, deadline, action.ended_on)
    return None


def applicable_weights(grille: Grille, category: Category) -> dict[str, float]:
    return {s.code: s.weight for s in grille.services if category in s.applies_to}


def reference_covered(grille: Grille, category: Category, actions: Sequence[Action]) -> frozenset[str]:
    weights = applicable_weights(grille, category)
    deadline = grille.effective_deadline
    return frozenset(
        code for a in actions if date_reason(a, deadline) is None for code in a.services if code in weights
    )


def reference_ignored(grille: Grille, category: Category, actions: Sequence[Action]) -> list[tuple[str, str]]:
    weights = applicable_weights(grille, category)
    known = {s.code for s in grille.services}
    ignored = []
    for a in actions:
        reason = date_reason(a, grille.effective_deadline)
        if reason is None and not a.services:
            reason = NO_SERVICE
        elif reason is None and not any(c in weights for c in a.services):
            unknown = [c for c in a.services if c not in known]
            # The wording is the domain's (its own tests check it); the oracle picks which reason.
            reason = (
                unknown_services(grille.edition, grille.version, unknown)
                if unknown
                else inapplicable_services([s.label for s in grille.services if s.code in a.services], category)
            )
        if reason is not None:
            ignored.append((a.title, reason))
    return ignored


def reference_score(grille: Grille, category: Category, covered: frozenset[str]) -> float:
    weights = applicable_weights(grille, category)
    total = sum(weights.values())
    return round(100 * sum(weights[c] for c in sorted(covered)) / total, 1) if total else 0.0


def reference_arobases(grille: Grille, score: float) -> int:
    return max(t.arobases for t in grille.thresholds if t.min_score <= score)


def max_arobases(grille: Grille) -> int:
    return max(t.arobases for t in grille.thresholds)


# --- Dossiers and strategies ---------------------------------------------------------


@dataclass(frozen=True)
class Dossier:
    grille: Grille
    category: Category
    actions: tuple[Action, ...]

    def score(self) -> Score:
        return score_dossier(self.actions, self.category, self.grille)

    def with_actions(self, actions: Sequence[Action]) -> Dossier:
        return replace(self, actions=tuple(actions))

    def plus(self, action: Action, at: int | None = None) -> Dossier:
        at = len(self.actions) if at is None else at
        return self.with_actions((*self.actions[:at], action, *self.actions[at:]))

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """Short falsifying examples: a real grille by name, a generated one by what matters."""
        printer.text(f"Dossier({describe(self.grille)}, {self.category.value!r}, actions={list(self.actions)!r})")


def describe(grille: Grille) -> str:
    for name, known in NAMED_GRILLES.items():
        if grille is known:
            return name
    services = [(s.code, s.enjeu, s.weight, [c.value for c in s.applies_to]) for s in grille.services]
    thresholds = [t.min_score for t in sorted(grille.thresholds, key=lambda t: t.arobases)]
    return (
        f"Grille(edition={grille.edition}, version={grille.version}, deadline={grille.effective_deadline}, "
        f"services={services}, thresholds={thresholds})"
    )


def running_action(grille: Grille, services: Sequence[str], title: str = "Action ajoutée") -> Action:
    """An action that counts whatever the grille: started on the deadline, still running."""
    return Action(title=title, services=tuple(services), started_on=grille.effective_deadline)


def as_pair(ignored: IgnoredAction) -> tuple[str, str]:
    return ignored.title, ignored.reason


def same_outcome(a: Score, b: Score) -> bool:
    """Same pré-notation: score, arobases, covered services, enjeux, next level."""
    return (a.score, a.arobases, a.covered, a.enjeux, a.next_level) == (
        b.score,
        b.arobases,
        b.covered,
        b.enjeux,
        b.next_level,
    )


# Strategies are built once (building one per draw is what makes property tests slow).
SMALL = st.integers(0, 1_000)  # an index, taken modulo the length of what it picks from
APPLIES_TO = st.sets(st.sampled_from(CATEGORIES), min_size=1).map(lambda c: sorted(c, key=CATEGORIES.index))
DEADLINES = (
    st.none() | st.sampled_from([date(2016, 2, 29), date(2020, 2, 29)]) | st.dates(date(2001, 1, 1), date(2099, 12, 31))
)
# A day relative to the deadline: a boundary of the rules, or an offset in days.
BOUNDARIES = (
    "deadline",
    "day before the deadline",
    "day after the deadline",
    "two years before",
    "two years and a day before",
    "two years less a day before",
)
DAYS = st.sampled_from(BOUNDARIES) | st.integers(-3000, 400)
END_DAYS = st.none() | DAYS | st.integers(0, 3000).map(lambda n: timedelta(days=n))
CODE_PICKS = st.lists(SMALL, max_size=6)


def pick(items: Sequence[Any], index: int) -> Any:
    return items[index % len(items)]


def day(spec: str | int, deadline: date) -> date:
    limit = two_years_before(deadline)
    named = {
        "deadline": deadline,
        "day before the deadline": deadline - timedelta(days=1),
        "day after the deadline": deadline + timedelta(days=1),
        "two years before": limit,
        "two years and a day before": limit - timedelta(days=1),
        "two years less a day before": limit + timedelta(days=1),
    }
    return named[spec] if isinstance(spec, str) else deadline + timedelta(days=spec)


def codes(grille: Grille, picks: list[int]) -> tuple[str, ...]:
    """Codes of the grille (any category) and some unknown ones."""
    pool = [*(s.code for s in grille.services), *UNKNOWN_CODES]
    return tuple(pick(pool, i) for i in picks)


@st.composite
def generated_grilles(draw: st.DrawFn, *, decimal_weights: bool = False) -> Grille:
    """A random valid grille; weights 1–5, or 0.1–5.0 with `decimal_weights` (the contract allows any)."""
    n_categories = draw(st.integers(1, 4))
    categories = [{"code": f"cat{i}", "label": f"Catégorie {i}"} for i in range(n_categories)]
    n_enjeux = draw(st.integers(1, 6))
    enjeux = [
        {"code": f"enjeu{i}", "label": f"Enjeu {i}", "category": f"cat{draw(SMALL) % n_categories}"}
        for i in range(n_enjeux)
    ]
    services = [
        {
            "code": f"s{i}",
            "label": f"Service {i}",
            "enjeu": f"enjeu{draw(SMALL) % n_enjeux}",
            "weight": draw(st.integers(1, 50)) / 10 if decimal_weights else draw(st.integers(1, 5)),
            "applies_to": draw(APPLIES_TO),
        }
        for i in range(draw(st.integers(1, 12)))
    ]
    n_levels = draw(st.integers(1, 5))
    steps = sorted(draw(st.sets(st.integers(1, 100), min_size=n_levels - 1, max_size=n_levels - 1)))
    thresholds = [{"arobases": i + 1, "min_score": m} for i, m in enumerate([0, *steps])]
    deadline = draw(DEADLINES)
    body: dict[str, Any] = {
        "edition": deadline.year + 1 if deadline else draw(st.integers(2001, 2100)),
        "version": draw(st.integers(1, 3)),
        "deadline": deadline,
        "categories": categories,
        "enjeux": enjeux,
        "services": services,
        "thresholds": thresholds,
    }
    return Grille.model_validate(body)


ANY_GRILLE = generated_grilles() | st.sampled_from(REAL_GRILLES)


@st.composite
def actions_of(draw: st.DrawFn, grille: Grille, *, old: bool = False) -> Action:
    """Any action; with `old`, one too old by the 2-year rule: started two years or more
    before the deadline and ended before it."""
    deadline = grille.effective_deadline
    started: date
    ended: date | None
    if old:
        started = two_years_before(deadline) - timedelta(days=draw(st.sampled_from([0, 1]) | st.integers(0, 2000)))
        ended = min(deadline - timedelta(days=1), started + timedelta(days=draw(st.integers(0, 4000))))
    else:
        started = day(draw(DAYS), deadline)
        end = draw(END_DAYS)
        if end is None:
            ended = None
        elif isinstance(end, timedelta):
            ended = started + end
        else:
            ended = max(started, day(end, deadline))
    return Action(
        title=draw(st.sampled_from(TITLES)),
        services=codes(grille, draw(CODE_PICKS)),
        started_on=started,
        ended_on=ended,
    )


@st.composite
def counted_actions_of(draw: st.DrawFn, grille: Grille) -> Action:
    """An action whose dates make it count (it may still declare nothing useful)."""
    deadline = grille.effective_deadline
    started = deadline - timedelta(days=draw(st.integers(0, 4000)))
    end = draw(st.none() | st.integers(0, 1000))
    # Less than two years old: any end; older: it must still run at the deadline.
    ended = None if end is None else (started if started > two_years_before(deadline) else deadline)
    return Action(
        title=draw(st.sampled_from(TITLES)),
        services=codes(grille, draw(CODE_PICKS)),
        started_on=started,
        ended_on=None if ended is None or end is None else ended + timedelta(days=end),
    )


@st.composite
def dossiers(draw: st.DrawFn, grilles: st.SearchStrategy[Grille] = ANY_GRILLE) -> Dossier:
    grille = draw(grilles)
    dossier = Dossier(
        grille=grille,
        category=pick(CATEGORIES, draw(SMALL)),
        actions=tuple(draw(st.lists(actions_of(grille), max_size=8))),
    )
    # Sometimes a broad action declaring many codes, so that dossiers under the real
    # grilles (140 services) also reach the higher arobases.
    many = draw(st.sampled_from((0, 0, 10, 40, 80, 160)))
    if not many:
        return dossier
    broad = Action(
        title="Stratégie numérique de la collectivité",
        services=codes(grille, [draw(SMALL) for _ in range(many)]),
        started_on=grille.effective_deadline - timedelta(days=draw(st.integers(0, 2000))),
    )
    return dossier.plus(broad, draw(SMALL) % (len(dossier.actions) + 1))


@st.composite
def dossiers_and_actions(draw: st.DrawFn, *, old: bool = False) -> tuple[Dossier, Action, int]:
    """A dossier, an action to add to it and where (any action, or an old finished one)."""
    dossier = draw(dossiers())
    action = draw(actions_of(dossier.grille, old=old))
    return dossier, action, draw(SMALL) % (len(dossier.actions) + 1)


@st.composite
def dossiers_with_a_counted_action(draw: st.DrawFn) -> tuple[Dossier, int, str]:
    """A dossier, the index of one of its counted actions, and a code to add to that action."""
    dossier = draw(dossiers())
    at = draw(SMALL) % (len(dossier.actions) + 1)
    dossier = dossier.plus(draw(counted_actions_of(dossier.grille)), at)
    return dossier, at, codes(dossier.grille, [draw(SMALL)])[0]


@st.composite
def dossiers_and_foreign_services(draw: st.DrawFn) -> tuple[Dossier, str, int | None]:
    """A dossier, a code of its grille that does not apply to its category, and the index of
    the action that declares it in addition (None: a new action declares it)."""
    dossier = draw(dossiers())
    foreign = [s.code for s in dossier.grille.services if dossier.category not in s.applies_to]
    if not foreign:  # make one: the same dossier for a category the first service excludes
        first = dossier.grille.services[0]
        others = [c for c in CATEGORIES if c not in first.applies_to]
        if not others:
            return draw(dossiers_and_foreign_services())
        dossier = replace(dossier, category=pick(others, draw(SMALL)))
        foreign = [s.code for s in dossier.grille.services if dossier.category not in s.applies_to]
    where = draw(st.none() | SMALL)
    return (
        dossier,
        pick(foreign, draw(SMALL)),
        None if where is None or not dossier.actions else where % len(dossier.actions),
    )


# Hand-made dossiers for the @example edge cases, each action spelled out in full on purpose: its dates are
# the case under test.
LEAP_GRILLE = GRILLE_2017.model_copy(update={"deadline": date(2016, 2, 29)})
NAMED_GRILLES = {**REAL_NAMES, "grille-2017 v1 with deadline 29/02/2016": LEAP_GRILLE}
EPN = "espace_public_numerique"  # weight 5, applies to every category, in every real grille


def edge(grille: Grille, *actions: Action, category: Category = Category.VILLAGE) -> Dossier:
    return Dossier(grille=grille, category=category, actions=actions)


ON_DEADLINE = Action(title="Commencée le jour de la date limite", services=(EPN,), started_on=date(2016, 11, 30))
DAY_AFTER = Action(title="Commencée le lendemain", services=(EPN,), started_on=date(2016, 12, 1))
# Each edge action is written out in full on purpose, alike as they look: its dates are the case under test.
# Started exactly two years before the deadline: two years old, not less.
EXACTLY_TWO_YEARS = Action(
    title="Commencée deux ans pile avant, terminée la veille",
    services=(EPN,),
    started_on=date(2014, 11, 30),
    ended_on=date(2016, 11, 29),
)
TWO_YEARS_STILL_RUNNING = Action(
    title="Commencée deux ans pile avant, terminée le jour de la date limite",
    services=(EPN,),
    started_on=date(2014, 11, 30),
    ended_on=date(2016, 11, 30),
)
LESS_THAN_TWO_YEARS = Action(
    title="Commencée deux ans moins un jour avant, terminée",
    services=(EPN,),
    started_on=date(2014, 12, 1),
    ended_on=date(2015, 1, 31),
)
TWO_YEARS_AND_A_DAY = Action(
    title="Commencée deux ans et un jour avant, terminée la veille",
    services=(EPN,),
    started_on=date(2014, 11, 29),
    ended_on=date(2016, 11, 29),
)
# Village services of grille 2017 weighing 39 of 220 (score 17.7, threshold of 3 @ 17.71).
SHORT_OF_17_71 = (
    "acces_aux_droits",
    "demarches_en_ligne",
    "espace_public_numerique",
    "budget_participatif",
    "strategie_numerique",
    "tres_haut_debit",
    "accessibilite_rgaa",
    "ateliers_initiation",
    "budget_explique",
    "co_conception_usagers",
)
# Deadline 29/02/2016: two years before is 28/02/2014 (2014 has no 29 February).
LEAP_28 = Action(
    title="Commencée le 01/03/2014, terminée", services=(EPN,), started_on=date(2014, 3, 1), ended_on=date(2015, 2, 28)
)
LEAP_27 = Action(
    title="Commencée le 28/02/2014, terminée la veille",
    services=(EPN,),
    started_on=date(2014, 2, 28),
    ended_on=date(2016, 2, 28),
)
LEAP_DAY = Action(title="Commencée le 29/02/2016", services=(EPN,), started_on=date(2016, 2, 29))


# --- Properties ------------------------------------------------------------------------


@SETTINGS
@given(dossier=dossiers())
@example(dossier=edge(GRILLE_2017))
@example(
    dossier=edge(
        GRILLE_2017,
        ON_DEADLINE,
        DAY_AFTER,
        EXACTLY_TWO_YEARS,
        TWO_YEARS_STILL_RUNNING,
        LESS_THAN_TWO_YEARS,
        TWO_YEARS_AND_A_DAY,
    )
)
@example(dossier=edge(LEAP_GRILLE, LEAP_28, LEAP_27, LEAP_DAY))
def test_the_result_is_the_documented_formula(dossier: Dossier) -> None:
    result = dossier.score()
    grille, category = dossier.grille, dossier.category
    covered = reference_covered(grille, category, dossier.actions)
    assert result.covered == covered
    assert result.score == reference_score(grille, category, covered)
    assert result.arobases == reference_arobases(grille, result.score)
    assert [(i.title, i.reason) for i in result.ignored_actions] == reference_ignored(grille, category, dossier.actions)
    weights = applicable_weights(grille, category)
    assert [e.code for e in result.enjeux] == [e.code for e in grille.enjeux]
    for enjeu in result.enjeux:
        members = {s.code for s in grille.services if s.enjeu == enjeu.code and s.code in weights}
        assert set(enjeu.services) == members & covered
        total = sum(weights[c] for c in members)
        assert enjeu.coverage == (round(sum(weights[c] for c in members & covered) / total, 4) if total else 0.0)


@SETTINGS
@given(dossier=dossiers())
@example(dossier=edge(GRILLE_2017))
def test_every_participant_gets_1_to_5_arobases_and_a_score_out_of_100(dossier: Dossier) -> None:
    result = dossier.score()
    assert 0.0 <= result.score <= 100.0
    assert 1 <= result.arobases <= max_arobases(dossier.grille) <= 5
    assert result.covered <= applicable_weights(dossier.grille, dossier.category).keys()
    for enjeu in result.enjeux:
        assert 0.0 <= enjeu.coverage <= 1.0
        assert set(enjeu.services) <= result.covered


@SETTINGS
@given(case=dossiers_with_a_counted_action())
@example(case=(edge(GRILLE_2017, ON_DEADLINE), 0, "site_internet"))
@example(case=(edge(LEAP_GRILLE, LEAP_28), 0, "site_internet"))
def test_adding_a_service_to_a_counted_action_never_lowers_the_score(case: tuple[Dossier, int, str]) -> None:
    dossier, at, code = case
    action = dossier.actions[at]
    more = list(dossier.actions)
    more[at] = action.model_copy(update={"services": (*action.services, code)})
    before, after = dossier.score(), dossier.with_actions(more).score()
    assert after.score >= before.score
    assert after.arobases >= before.arobases
    assert after.covered >= before.covered


@SETTINGS
@given(case=dossiers_and_actions())
@example(case=(edge(GRILLE_2017), LESS_THAN_TWO_YEARS, 0))
@example(case=(edge(LEAP_GRILLE), LEAP_28, 0))
def test_adding_an_action_never_lowers_the_score(case: tuple[Dossier, Action, int]) -> None:
    dossier, action, at = case
    before, after = dossier.score(), dossier.plus(action, at).score()
    assert after.score >= before.score
    assert after.arobases >= before.arobases
    assert after.covered >= before.covered


@settings(max_examples=40, deadline=None)
@given(
    case=dossiers(ANY_GRILLE | generated_grilles(decimal_weights=True)).flatmap(
        lambda d: st.tuples(st.just(d), st.permutations(d.actions))
    )
)
@example(case=(edge(GRILLE_2017, ON_DEADLINE, DAY_AFTER), (DAY_AFTER, ON_DEADLINE)))
def test_the_same_dossier_always_gets_the_same_result(case: tuple[Dossier, list[Action]]) -> None:
    dossier, permuted = case
    first = dossier.score()
    assert dossier.score() == first
    shuffled = dossier.with_actions(permuted).score()
    assert same_outcome(shuffled, first)
    # The explanation lists ignored actions in input order: the same ones, maybe in another order.
    assert sorted(map(as_pair, shuffled.ignored_actions)) == sorted(map(as_pair, first.ignored_actions))


@SETTINGS
@given(case=dossiers_and_actions(old=True))
@example(case=(edge(GRILLE_2017), TWO_YEARS_AND_A_DAY, 0))
@example(case=(edge(GRILLE_2017), EXACTLY_TWO_YEARS, 0))
@example(case=(edge(LEAP_GRILLE, LEAP_28), LEAP_27, 1))
def test_an_action_too_old_by_the_2_year_rule_never_counts(
    case: tuple[Dossier, Action, int],
) -> None:
    dossier, old, at = case
    old = old.model_copy(update={"title": "Action terminée il y a longtemps"})
    before, after = dossier.score(), dossier.plus(old, at).score()
    assert same_outcome(after, before)
    assert [i for i in after.ignored_actions if i.title != old.title] == list(before.ignored_actions)
    reason = date_reason(old, dossier.grille.effective_deadline)
    assert reason is not None and "plus de deux ans avant la date limite" in reason
    assert [i.reason for i in after.ignored_actions if i.title == old.title] == [reason]


@SETTINGS
@given(case=dossiers_and_foreign_services())
@example(case=(edge(GRILLE_2017, ON_DEADLINE, category=Category.VILLAGE), "open_data_portail", 0))
@example(case=(edge(GRILLE_2017, ON_DEADLINE, category=Category.VILLE), "sig_mutualise", None))
@example(case=(edge(GRILLE_2017, ON_DEADLINE, category=Category.TERRITOIRE), "etat_civil_en_ligne", None))
def test_a_service_that_does_not_apply_neither_helps_nor_hurts(case: tuple[Dossier, str, int | None]) -> None:
    dossier, code, where = case
    if where is None:
        changed = dossier.plus(running_action(dossier.grille, [code], title="Service non applicable"))
    else:
        actions = list(dossier.actions)
        actions[where] = actions[where].model_copy(update={"services": (*actions[where].services, code)})
        changed = dossier.with_actions(actions)
    assert same_outcome(changed.score(), dossier.score())


@SETTINGS
@given(dossier=dossiers())
@example(dossier=edge(GRILLE_2017))
@example(dossier=edge(GRILLE_2017, running_action(GRILLE_2017, [s.code for s in GRILLE_2017.services])))
# Regression: 39 / 220 → 17.7, a tenth short of the calibrated 17.71; the gap rounded to
# the nearest tenth said 0.0 point missing.
@example(dossier=edge(GRILLE_2017, running_action(GRILLE_2017, SHORT_OF_17_71)))
def test_next_level_says_what_would_earn_the_next_arobase(dossier: Dossier) -> None:
    result = dossier.score()
    grille = dossier.grille
    weights = applicable_weights(grille, dossier.category)
    if not weights:
        # Nothing applies to the category: nothing can earn a better pré-notation.
        assert (result.score, result.arobases, result.next_level) == (0.0, 1, None)
        return
    assert (result.next_level is None) == (result.arobases == max_arobases(grille))
    if result.next_level is None:
        return
    target = result.next_level.target_arobases
    assert target == result.arobases + 1
    min_score = next(t.min_score for t in grille.thresholds if t.arobases == target)
    # Published scores move by tenths: the points missing are the smallest such gain that
    # reaches the threshold (a tenth less does not), whatever the threshold's decimals.
    missing = result.next_level.points_missing
    assert missing > 0
    assert round(result.score + missing, 1) >= min_score > round(result.score + missing - 0.1, 1)
    suggested = result.next_level.suggested_services
    assert suggested and len(set(suggested)) == len(suggested)
    assert set(suggested) <= weights.keys() - result.covered
    # Heaviest first: no service left out weighs more than the lightest one suggested.
    assert [weights[c] for c in suggested] == sorted((weights[c] for c in suggested), reverse=True)
    left_out = weights.keys() - result.covered - set(suggested)
    assert all(weights[c] <= weights[suggested[-1]] for c in left_out)
    reached = dossier.plus(running_action(grille, suggested)).score()
    assert reached.arobases >= target


def test_the_score_does_not_depend_on_the_order_of_the_actions_with_decimal_weights() -> None:
    # Regression: the covered weight was summed over a set, in an order that depends on
    # the order of insertion and on string hashing (PYTHONHASHSEED): 4.1 + 1.6 + 4.2 + 2.7
    # is 12.6, 12.600000000000001 or 12.599999999999998 depending on the order, and
    # 100 × 12.6 / 16 = 78.75 is a tie, so the score was 78.7 or 78.8 for the same dossier.
    # The names change so that some pairs of codes collide in the set's hash table.
    weights = (2.7, 1.6, 4.1, 3.4, 4.2)
    scores = set()
    for k in range(100):
        names = [f"service_{k}_{i}" for i in range(len(weights))]
        grille = Grille.model_validate(
            {
                "edition": 2017,
                "version": 1,
                "categories": [{"code": "c", "label": "Catégorie"}],
                "enjeux": [{"code": "e", "label": "Enjeu", "category": "c"}],
                "services": [
                    {"code": n, "label": n, "enjeu": "e", "weight": w} for n, w in zip(names, weights, strict=True)
                ],
                "thresholds": [{"arobases": 1, "min_score": 0}],
            }
        )
        actions = [running_action(grille, [names[i]], title=names[i]) for i in (2, 1, 4, 0)]
        scores |= {score_dossier(p, Category.VILLE, grille).score for p in permutations(actions)}
    assert len(scores) == 1


# --- Known defects (reported on the issue; strict: these fail loudly once fixed) -------
#
# `_next_level` measures the gap from the *rounded* score and adds up the points of
# the suggested services until they cover that gap. Rounding shifts the gap by up
# to 0.05 point, so the suggestion can be one service too long, or (with thresholds
# that are not whole numbers) too short to reach the target.


def test_next_level_suggests_the_fewest_services_on_the_2017_grille() -> None:
    # Village, grille 2017 (220 points apply): démarches (5) + état civil (3) = 8 → 3.636… → 3.6;
    # 2 @ needs 10: « 6.4 points missing ». Heaviest first: accès aux droits 5, EPN 5,
    # budget participatif 4 → 8 + 14 = 22 / 220 = 10.0 → 2 @ with three services, but
    # 14 × 100 / 220 = 6.36 < 6.4, so the domain also suggests stratégie numérique (4).
    # (The thresholds the 2017 grille was designed with, before its calibration on the jury.)
    designed = GRILLE_2017.model_copy(
        update={"thresholds": tuple(Threshold(arobases=a, min_score=m) for a, m in enumerate((0, 10, 20, 32, 45), 1))}
    )
    dossier = edge(designed, running_action(designed, ["demarches_en_ligne", "etat_civil_en_ligne"]))
    result = dossier.score()
    assert result.next_level is not None
    three = ("acces_aux_droits", "espace_public_numerique", "budget_participatif")
    assert dossier.plus(running_action(designed, three)).score().arobases == 2
    assert result.next_level.suggested_services == three


def test_the_suggested_services_reach_a_threshold_with_a_decimal() -> None:
    # 16 points apply; 3 covered → 18.75 → 18.8; 2 @ at 31.3: « 12.5 points missing ».
    # One service of weight 2 adds 12.5 points, but 5 / 16 = 31.25 → 31.2 < 31.3: still 1 @.
    grille = Grille.model_validate(
        {
            "edition": 2017,
            "version": 1,
            "categories": [{"code": "c", "label": "Catégorie"}],
            "enjeux": [{"code": "e", "label": "Enjeu", "category": "c"}],
            "services": [
                {"code": f"s{i}", "label": f"Service {i}", "enjeu": "e", "weight": w}
                for i, w in enumerate([3, 2, 2, 2, 2, 2, 2, 1])
            ],
            "thresholds": [{"arobases": 1, "min_score": 0}, {"arobases": 2, "min_score": 31.3}],
        }
    )
    dossier = edge(grille, running_action(grille, ["s0"]), category=Category.VILLE)
    result = dossier.score()
    assert result.score == 18.8
    assert result.next_level is not None
    assert (result.next_level.target_arobases, result.next_level.points_missing) == (2, 12.5)
    # Today the suggestion is ("s1",) alone.
    assert dossier.plus(running_action(grille, result.next_level.suggested_services)).score().arobases == 2

"""The label's 2-year rule (`palmares_label.actions`): boundaries and properties.

The reference is the label's wording, written here independently: an action
counts at the deadline D if it started on or before D and (it is less than two
years old at D, or it still runs at D). « Less than two years old »: its second
anniversary falls after D.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from palmares_contracts import Action
from palmares_label.actions import counts_at, is_running_at, two_years_before, why_not_counted

DEADLINE = date(2016, 11, 30)


def act(started_on: date, ended_on: date | None = None) -> Action:
    return Action(title="Action", services=("site_internet",), started_on=started_on, ended_on=ended_on)


def second_anniversary(day: date) -> date:
    """When an action started on `day` turns two (29 February: on 1 March, the day after 28 February)."""
    try:
        return day.replace(year=day.year + 2)
    except ValueError:
        return date(day.year + 2, 3, 1)


def reference(action: Action, deadline: date) -> bool:
    started, ended = action.started_on, action.ended_on
    return started <= deadline and (second_anniversary(started) > deadline or ended is None or ended >= deadline)


@pytest.mark.parametrize(
    ("started_on", "ended_on", "counts"),
    [
        # Started exactly two years before: two years old, not less; counts only if still running.
        (date(2014, 11, 30), date(2016, 11, 29), False),
        (date(2014, 11, 30), date(2016, 11, 30), True),
        (date(2014, 11, 30), None, True),
        # Started the day after: less than two years old, counts even if it has ended.
        (date(2014, 12, 1), date(2015, 1, 1), True),
        # Ended the day before the deadline / on the deadline, started long ago.
        (date(2010, 1, 1), date(2016, 11, 29), False),
        (date(2010, 1, 1), date(2016, 11, 30), True),
        (date(2010, 1, 1), date(2017, 6, 1), True),
        # The case: run from 2012 to 2015, it ended less than two years before the
        # 2017 deadline but started more than two years before it.
        (date(2012, 1, 1), date(2015, 12, 31), False),
        # Started on the deadline / the day after.
        (date(2016, 11, 30), None, True),
        (date(2016, 12, 1), None, False),
        (date(2016, 12, 1), date(2016, 12, 31), False),
    ],
)
def test_boundaries_at_the_2017_deadline(started_on: date, ended_on: date | None, counts: bool) -> None:
    action = act(started_on, ended_on)
    assert counts_at(action, DEADLINE) is counts
    assert (why_not_counted(action, DEADLINE) is None) is counts
    assert reference(action, DEADLINE) is counts


@pytest.mark.parametrize(
    ("deadline", "started_on", "counts"),
    [
        # Deadline 29/02/2016: two years before is 28/02/2014 (2014 has no 29 February).
        (date(2016, 2, 29), date(2014, 2, 28), False),
        (date(2016, 2, 29), date(2014, 3, 1), True),
        # Started 29/02/2016: two years old on 1 March 2018, not on 28 February.
        (date(2018, 2, 28), date(2016, 2, 29), True),
        (date(2018, 3, 1), date(2016, 2, 29), False),
        (date(2016, 2, 29), date(2016, 2, 29), True),
        (date(2016, 2, 28), date(2016, 2, 29), False),
    ],
)
def test_29_february(deadline: date, started_on: date, counts: bool) -> None:
    ended = act(started_on, deadline - timedelta(days=1)) if started_on < deadline else act(started_on)
    assert counts_at(ended, deadline) is counts


def test_two_years_before() -> None:
    assert two_years_before(date(2016, 11, 30)) == date(2014, 11, 30)
    assert two_years_before(date(2016, 2, 29)) == date(2014, 2, 28)
    assert two_years_before(date(2018, 2, 28)) == date(2016, 2, 28)


def test_reasons_name_the_dates_in_french() -> None:
    assert why_not_counted(act(date(2016, 12, 1)), DEADLINE) == (
        "action commencée le 01/12/2016, après la date limite du dossier (30/11/2016)"
    )
    assert why_not_counted(act(date(2012, 1, 1), date(2015, 12, 31)), DEADLINE) == (
        "action commencée le 01/01/2012, plus de deux ans avant la date limite du dossier (30/11/2016), "
        "et terminée le 31/12/2015, avant cette date"
    )


def test_is_running_at() -> None:
    assert is_running_at(act(date(2010, 1, 1)), DEADLINE)
    assert is_running_at(act(date(2010, 1, 1), DEADLINE), DEADLINE)
    assert not is_running_at(act(date(2010, 1, 1), DEADLINE - timedelta(days=1)), DEADLINE)


LEAP_DEADLINES = st.sampled_from([date(2016, 2, 29), date(2020, 2, 29), date(2018, 2, 28), date(2018, 3, 1)])
DEADLINES = LEAP_DEADLINES | st.dates(date(2001, 1, 1), date(2099, 12, 31))
# Offsets around the boundaries: the deadline and two years before it, a day either side.
OFFSETS = st.sampled_from([-731, -730, -729, -1, 0, 1]) | st.integers(-4000, 400)


@settings(max_examples=300, deadline=None)
@given(deadline=DEADLINES, start=OFFSETS, length=st.none() | st.integers(0, 4000))
@example(deadline=date(2016, 11, 30), start=-731, length=365 * 4)
@example(deadline=date(2016, 2, 29), start=-731, length=0)
def test_the_rule_is_the_labels_wording(deadline: date, start: int, length: int | None) -> None:
    started = deadline + timedelta(days=start)
    action = act(started, None if length is None else started + timedelta(days=length))
    reason = why_not_counted(action, deadline)
    assert (reason is None) is reference(action, deadline) is counts_at(action, deadline)
    if reason is not None:
        assert f"commencée le {started:%d/%m/%Y}" in reason
        assert f"({deadline:%d/%m/%Y})" in reason
        assert "'" not in reason  # typographic apostrophes only


@settings(max_examples=100, deadline=None)
@given(deadline=DEADLINES, start=OFFSETS, end=st.integers(0, 4000))
def test_running_longer_never_stops_an_action_from_counting(deadline: date, start: int, end: int) -> None:
    started = deadline + timedelta(days=start)
    ended = started + timedelta(days=end)
    if counts_at(act(started, ended), deadline):
        assert counts_at(act(started, ended + timedelta(days=1)), deadline)
        assert counts_at(act(started), deadline)

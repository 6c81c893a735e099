"""Which actions count at the dossier deadline: the label's 2-year rule.

The label counts an action « de moins de deux ans ou toujours en cours ». At
the dossier deadline *D* (`Grille.effective_deadline`), an action counts if

- it started on or before *D*, and
- it started less than two years before *D* (`started_on > D − 2 years`: an
  action started exactly two years before *D* is two years old, not less), or
  it is still running at *D* (no end date, or an end on or after *D*).

An action that ended before *D* counts only if it started less than two years
before *D*: an action run from 2012 to 2015 does not count for 2017.

*D − 2 years* of a 29 February is the 28 February (the year two years before
has no 29 February).
"""

from __future__ import annotations

from datetime import date

from palmares_contracts import Action

# French dates as the label's documents write them (and as the existing reasons did).
_DAY = "%d/%m/%Y"


def two_years_before(day: date) -> date:
    """The day two years before `day`; 29 February falls back to 28 February.

    A one-line calendar shift: a date library (dateutil's relativedelta) would
    add a dependency to the pure package for the same result.
    """
    try:
        return day.replace(year=day.year - 2)
    except ValueError:
        return day.replace(year=day.year - 2, day=28)


def is_running_at(action: Action, deadline: date) -> bool:
    """Whether the action still runs at the deadline (no end, or an end on or after it)."""
    return action.ended_on is None or action.ended_on >= deadline


def why_not_counted(action: Action, deadline: date) -> str | None:
    """Why the action does not count at the deadline (French, shown to collectivités), or None."""
    if action.started_on > deadline:
        return f"action commencée le {action.started_on:{_DAY}}, après la date limite du dossier ({deadline:{_DAY}})"
    ended = action.ended_on
    if action.started_on > two_years_before(deadline) or ended is None or ended >= deadline:
        return None
    return (
        f"action commencée le {action.started_on:{_DAY}}, plus de deux ans avant la date limite "
        f"du dossier ({deadline:{_DAY}}), et terminée le {ended:{_DAY}}, avant cette date"
    )


def counts_at(action: Action, deadline: date) -> bool:
    """Whether the action counts at the deadline (see the module's docstring)."""
    return why_not_counted(action, deadline) is None

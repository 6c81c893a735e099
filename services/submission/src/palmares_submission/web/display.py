"""How the pages write numbers, dates and arobases in French (Jinja2 filters; pure)."""

from __future__ import annotations

from jinja2 import Environment
from palmares_label import french

# Shared with the service's French refusals (the campaign's calendar).
from palmares_submission.domain.french_dates import french_date, french_datetime


def french_number(value: float | int | None, decimals: int = 1) -> str:
    """« 11,8 », « 1 234 » (narrow no-break space between thousands)."""
    if value is None:
        return "—"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}".replace(",", "\u202f")
    return f"{value:,.{decimals}f}".replace(",", "\u202f").replace(".", ",")


def percent(value: float | None) -> str:
    """A share 0–1 as « 60 % » (no-break space before the sign)."""
    if value is None:
        return "—"
    return f"{round(value * 100)}\u00a0%"


def arobases_text(n: int | None) -> str:
    """What a screen reader says for « @@@ »."""
    if not n:
        return "pas encore noté"
    return f"{n} arobase{'s' if n > 1 else ''} sur 5"


def plural(n: int, singular: str, plural_form: str | None = None) -> str:
    return singular if n <= 1 else (plural_form or singular + "s")


def install(env: Environment) -> None:
    env.filters.update(
        date_fr=french_date,
        datetime_fr=french_datetime,
        number_fr=french_number,
        percent=percent,
        arobases_text=arobases_text,
        in_words=french.in_words,  # « six », as prose writes small numbers
        typographic=french.typographic,  # the public pages' charts (`_charts.html.j2`) use it
        typeset=french.typeset,  # what collectivités and the grille wrote: « L’Abergement », « Collecte : … »
    )
    env.globals["plural"] = plural

"""How the pages write numbers, dates and arobases in French (Jinja2 filters; pure)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from jinja2 import Environment

# The label's campaign runs in metropolitan France: instants are shown in Paris time.
PARIS = ZoneInfo("Europe/Paris")

MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


def french_date(value: date | datetime | str | None) -> str:
    """« 1er décembre 2017 »."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.astimezone(PARIS).date()
    return f"{'1er' if value.day == 1 else value.day} {MONTHS[value.month - 1]} {value.year}"


def french_datetime(value: datetime | None) -> str:
    """« 30 novembre 2017 à 18 h 00 » (Paris time)."""
    if value is None:
        return ""
    local = value.astimezone(PARIS)
    return f"{french_date(local.date())} à {local.hour} h {local.minute:02d}"


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
    )
    env.globals["plural"] = plural

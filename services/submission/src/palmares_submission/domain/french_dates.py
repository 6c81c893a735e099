"""Dates and instants written in French, in Paris time (pure): for refusals and pages alike."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

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
    """« 30 novembre 2017 à 18 h », « 1er décembre 2017 à 9 h 05 » (Paris time; a round hour has no minutes)."""
    if value is None:
        return ""
    local = value.astimezone(PARIS)
    minutes = f" {local.minute:02d}" if local.minute else ""
    return f"{french_date(local.date())} à {local.hour} h{minutes}"

"""Distinctions beyond the arobases, from the history of labels (pure)."""

from __future__ import annotations

from collections.abc import Mapping

EXCELLENCE = "Territoire d’excellence numérique"
EXCELLENCE_SINCE = 2021  # the distinction exists since the 2021 edition (docs/glossary.md)
EXCELLENCE_LABELS = 6  # labels at 5 @, this edition included


def distinctions(history: Mapping[int, int], edition: int) -> list[str]:
    """The distinctions a collectivité holds at `edition`, from its arobases by edition.

    « Territoire d’excellence numérique »: 5 @ at this edition, and at least
    six labels at 5 @ up to and including it, from the 2021 edition on.
    """
    if edition < EXCELLENCE_SINCE or history.get(edition) != 5:
        return []
    fives = sum(1 for year, arobases in history.items() if year <= edition and arobases == 5)
    return [EXCELLENCE] if fives >= EXCELLENCE_LABELS else []


def excellence_progress(history: Mapping[int, int]) -> tuple[int, int]:
    """Labels at 5 @ so far, and how many « Territoire d'excellence numérique » asks for."""
    return sum(1 for arobases in history.values() if arobases == 5), EXCELLENCE_LABELS

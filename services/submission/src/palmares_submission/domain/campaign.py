"""An edition's campaign: when its grille, its dossiers and its palmarès may change (pure).

A campaign opens with the first publication of its grille and closes when its
palmarès is published; after that nothing of the edition changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from palmares_submission.domain.errors import Conflict


@dataclass(frozen=True, slots=True)
class Edition:
    """An edition as the campaign rules see it: its current grille version, and when its palmarès was published."""

    edition: int
    grille_version: int
    palmares_published_at: datetime | None

    @property
    def published(self) -> bool:
        return self.palmares_published_at is not None


def check_open_for_dossiers(edition: int, state: Edition | None) -> Edition:
    """The edition's campaign takes dossiers: its grille is published, its palmarès is not."""
    if state is None:
        raise Conflict(f"La campagne {edition} n’est pas ouverte : aucune grille n’est publiée.")
    if state.published:
        raise Conflict(f"La campagne {edition} est close : le palmarès a été publié.")
    return state

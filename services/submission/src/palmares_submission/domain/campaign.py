"""An edition's campaign: when its grille, its dossiers and its palmarès may change (pure).

A campaign opens with the first publication of its grille and closes when its
palmarès is published; after that nothing of the edition changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from palmares_submission.domain.errors import Conflict, Invalid


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


def check_grille_may_change(edition: int, state: Edition | None) -> int:
    """The version the next publication of the edition's grille gets: 1, then one more each time.

    Refused once the palmarès is published: the grille it was judged under stays.
    """
    if state is None:
        return 1
    if state.published:
        raise Conflict(f"Le palmarès {edition} est publié : la grille ne peut plus changer.")
    return state.grille_version + 1


def check_grille_edition(edition: int, grille_edition: int) -> None:
    """A grille is published under its own edition's address."""
    if grille_edition != edition:
        raise Invalid(f"La grille porte l’édition {grille_edition}, l’URL l’édition {edition}.", field="edition")


def check_palmares_publishable(edition: int, state: Edition | None) -> Edition:
    """The palmarès is published once, and only for an edition whose grille is."""
    if state is None:
        raise Conflict(f"Aucune grille publiée pour l’édition {edition} : rien à publier.")
    if state.published:
        raise Conflict(f"Le palmarès {edition} est déjà publié.")
    return state


def check_category_may_change(edition: int, state: Edition | None) -> None:
    """An operator may change a collectivité's category for an edition until its palmarès is published."""
    if state is not None and state.published:
        raise Conflict(f"Le palmarès {edition} est publié : la catégorie ne change plus.")


def check_reopenable(edition: int, state: Edition | None) -> Edition:
    """A dossier is reopened in an open campaign only (its grille published, its palmarès not)."""
    if state is None:
        raise Conflict(f"La campagne {edition} n’est pas ouverte : aucune grille n’est publiée.")
    if state.published:
        raise Conflict(f"Le palmarès {edition} est publié : les dossiers ne se rouvrent plus.")
    return state


def check_history_importable(published: set[int], editions: list[int]) -> None:
    """Labels are imported for editions this system did not publish: its own palmarès are the record."""
    for i, edition in enumerate(editions):
        if edition in published:
            raise Conflict(
                f"Le palmarès {edition} a été publié par Palmarès : son historique ne s’importe pas.",
                field=f"entries.{i}.edition",
            )

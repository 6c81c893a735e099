"""A collectivité's dossier: its checks against the grille, its revisions, its events (pure).

A collectivité has one dossier per edition. Each submission of it, and each
change of its category by an operator, is a new revision: the revisions of a
dossier are numbered 1, 2, 3… under one `submission_id`, and the latest
supersedes the others everywhere downstream.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from palmares_contracts import Action, Collectivite, Grille, SubmissionReceived

from palmares_submission.domain.errors import Invalid


@dataclass(frozen=True, slots=True)
class Revision:
    """Which dossier a submission revises, and its number."""

    submission_id: UUID
    revision: int


def next_revision(current: Revision | None) -> Revision:
    """The revision a new submission makes: the first of a new dossier, or the one after the current."""
    if current is None:
        return Revision(uuid4(), 1)
    return Revision(current.submission_id, current.revision + 1)


def check_services(actions: Sequence[Action], grille: Grille) -> None:
    """Every service code an action declares is one of the grille's."""
    known = {s.code for s in grille.services}
    for i, action in enumerate(actions):
        for j, code in enumerate(action.services):
            if code not in known:
                raise Invalid(
                    f"Service « {code} » inconnu de la grille {grille.edition} (version {grille.version}).",
                    field=f"actions.{i}.services.{j}",
                )


def check_dates(actions: Sequence[Action], grille: Grille) -> None:
    """An action starts before the dossier deadline (+ 1 year of tolerance) and ends within 10 years of it."""
    deadline = grille.effective_deadline
    latest_start = deadline.replace(year=deadline.year + 1)
    latest_end = deadline.replace(year=deadline.year + 10)
    for i, action in enumerate(actions):
        if action.started_on > latest_start:
            raise Invalid(
                f"Date de début invraisemblable : postérieure au {latest_start:%d/%m/%Y} "
                f"(date limite des dossiers {grille.edition} : {deadline:%d/%m/%Y}, plus un an).",
                field=f"actions.{i}.started_on",
            )
        if action.ended_on is not None and action.ended_on > latest_end:
            raise Invalid(
                f"Date de fin invraisemblable : postérieure au {latest_end:%d/%m/%Y}.",
                field=f"actions.{i}.ended_on",
            )


def check_against(actions: Sequence[Action], grille: Grille) -> None:
    """The checks of a dossier's content that need the edition's grille (the rest is the request's schema)."""
    check_services(actions, grille)
    check_dates(actions, grille)


def received(
    revision: Revision,
    *,
    edition: int,
    collectivite: Collectivite,
    actions: Sequence[Action],
    narrative: str,
    at: datetime,
) -> SubmissionReceived:
    """The event of a submitted revision."""
    return SubmissionReceived(
        submission_id=revision.submission_id,
        revision=revision.revision,
        edition=edition,
        collectivite=collectivite,
        actions=tuple(actions),
        narrative=narrative,
        submitted_at=at,
    )


def recategorized(current: SubmissionReceived, collectivite: Collectivite, at: datetime) -> SubmissionReceived | None:
    """The revision an operator's change of category makes: the same content, the collectivité in its new category.

    None when the dossier is in that category already: nothing to re-evaluate.
    """
    if current.collectivite.category == collectivite.category:
        return None
    return current.model_copy(
        update={
            "event_id": uuid4(),
            "occurred_at": at,
            "revision": current.revision + 1,
            "collectivite": collectivite,
            "submitted_at": at,
        }
    )

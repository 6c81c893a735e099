"""The campaign's calendar (pure): when a dossier may still be deposited or revised, and what blocks the palmarès.

- An edition's campaign is open from the first publication of its grille
  until its palmarès is published. The grille may carry `closes_at` (an
  instant): after it, new dossiers and revisions are refused, unless an
  operator reopened that collectivité's dossier (until an instant, or until
  the palmarès).
- A revision that arrives after a jury decision makes that decision
  « à revoir »; the palmarès is not published while one is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from palmares_label import french

from palmares_submission.domain.french_dates import french_datetime


@dataclass(frozen=True, slots=True)
class Reopening:
    """An operator reopened one collectivité's dossier of an edition after the campaign closed."""

    reopened_at: datetime
    until: datetime | None  # None: until the palmarès is published

    def open_at(self, now: datetime) -> bool:
        return self.until is None or now < self.until


def closed_message(edition: int, closes_at: datetime) -> str:
    """The French refusal, with the closing instant in Paris time."""
    return (
        f"La campagne {edition} est close depuis le {french_datetime(closes_at)} (heure de Paris)\u00a0: "
        "les dossiers ne peuvent plus être déposés ni modifiés. "
        "Si votre dossier doit l’être, écrivez à l’équipe du label, qui peut le rouvrir."
    )


def refusal(edition: int, closes_at: datetime | None, now: datetime, reopening: Reopening | None) -> str | None:
    """Why a dossier of `edition` may not be deposited or revised at `now` (None: it may).

    The palmarès, which closes the campaign for everyone, is checked apart.
    """
    if closes_at is None or now < closes_at:
        return None
    if reopening is not None and reopening.open_at(now):
        return None
    return closed_message(edition, closes_at)


def to_review_again(decision_revision: int | None, current_revision: int) -> bool:
    """« À revoir »: the jury decided on an older revision than the dossier's current one.

    A decision recorded before decisions named their revision (None) counts
    as taken on the first revision.
    """
    return (decision_revision or 0) < current_revision


def palmares_blocked_message(edition: int, to_review: int) -> str | None:
    """Why the palmarès of `edition` cannot be published while `to_review` decisions are « à revoir »."""
    if to_review <= 0:
        return None
    if to_review == 1:
        count, them = "une décision du jury est", "la"
    else:
        count, them = f"{french.count_in_words(to_review, 'décision', feminine=True)} du jury sont", "les"
    return (
        f"Le palmarès {edition} ne peut pas encore être publié\u00a0: {count} «\u00a0à revoir\u00a0» "
        f"(dossier modifié après la décision). Le jury doit {them} confirmer ou {them} corriger."
    )

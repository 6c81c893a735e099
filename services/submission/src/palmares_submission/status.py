"""The status of a dossier, from what the service learned through events (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from palmares_submission.schemas import Status


@dataclass(frozen=True, slots=True)
class Progress:
    """What is known of the current revision of a dossier."""

    revision: int
    score_revision: int | None
    mentions_revision: int | None
    receipt_sent: bool
    palmares_published: bool
    award_sent: bool


def dossier_status(p: Progress) -> Status:
    """`received` → `evaluated` (score and mentions of this revision known) → `notified`.

    `notified` means every email due for this revision left: the receipt, and
    the award once the palmarès of the edition is published.
    """
    evaluated = p.score_revision == p.revision and p.mentions_revision == p.revision
    if not evaluated:
        return "received"
    if p.receipt_sent and (p.award_sent or not p.palmares_published):
        return "notified"
    return "evaluated"

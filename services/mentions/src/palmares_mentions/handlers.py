"""Event handlers of the mentions service: detect on new dossiers, re-detect on grille updates."""

from __future__ import annotations

from typing import Any

from palmares_contracts import Grille, MentionsDetected, SubmissionReceived
from palmares_evaluation.service import evaluated_revision

from palmares_mentions.domain import detect


def evaluate(dossier: SubmissionReceived, grille: Grille) -> tuple[MentionsDetected, dict[str, Any]]:
    """The `MentionsDetected` of a dossier revision under a grille version."""
    found = detect(dossier.actions, dossier.narrative, grille, dossier.collectivite.category)
    event = MentionsDetected(
        **evaluated_revision(dossier, grille),
        mentions=found.mentions,
        missed=found.missed,
        suggestions=found.suggestions,
    )
    return event, {"mentions": [m.code for m in found.mentions]}

"""Event handlers of the mentions service: detect on new dossiers, re-detect on grille updates."""

from __future__ import annotations

from typing import Any

from palmares_contracts import Grille, MentionsDetected, SubmissionReceived

from palmares_mentions.domain import detect


def evaluate(dossier: SubmissionReceived, grille: Grille) -> tuple[MentionsDetected, dict[str, Any]]:
    """The `MentionsDetected` of a dossier revision under a grille version."""
    found = detect(dossier.actions, dossier.narrative, grille, dossier.collectivite.category)
    event = MentionsDetected(
        submission_id=dossier.submission_id,
        revision=dossier.revision,
        edition=dossier.edition,
        collectivite_code=dossier.collectivite.code,
        grille_version=grille.version,
        mentions=found.mentions,
        missed=found.missed,
        suggestions=found.suggestions,
    )
    return event, {"mentions": [m.code for m in found.mentions]}

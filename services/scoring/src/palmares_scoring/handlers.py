"""Event handlers of the scoring service: score new dossiers, re-score on grille updates."""

from __future__ import annotations

from typing import Any

from palmares_contracts import Grille, SubmissionReceived, SubmissionScored
from palmares_evaluation.service import evaluated_revision

from palmares_scoring.domain import score_dossier


def evaluate(dossier: SubmissionReceived, grille: Grille) -> tuple[SubmissionScored, dict[str, Any]]:
    """The `SubmissionScored` of a dossier revision under a grille version."""
    result = score_dossier(dossier.actions, dossier.collectivite.category, grille)
    event = SubmissionScored(
        **evaluated_revision(dossier, grille),
        score=result.score,
        arobases=result.arobases,
        category=dossier.collectivite.category,
        enjeux=result.enjeux,
        next_level=result.next_level,
        ignored_actions=result.ignored_actions,
    )
    return event, {"score": result.score, "arobases": result.arobases}

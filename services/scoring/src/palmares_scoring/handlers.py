"""Event handlers of the scoring service: score new dossiers, re-score on grille updates."""

from __future__ import annotations

from typing import Any

from palmares_contracts import Grille, SubmissionReceived, SubmissionScored

from palmares_scoring.domain import score_dossier


def evaluate(dossier: SubmissionReceived, grille: Grille) -> tuple[SubmissionScored, dict[str, Any]]:
    """The `SubmissionScored` of a dossier revision under a grille version."""
    result = score_dossier(dossier.actions, dossier.collectivite.category, grille)
    event = SubmissionScored(
        submission_id=dossier.submission_id,
        revision=dossier.revision,
        edition=dossier.edition,
        collectivite_code=dossier.collectivite.code,
        grille_version=grille.version,
        score=result.score,
        arobases=result.arobases,
        category=dossier.collectivite.category,
        enjeux=result.enjeux,
        next_level=result.next_level,
        ignored_actions=result.ignored_actions,
    )
    return event, {"score": result.score, "arobases": result.arobases}

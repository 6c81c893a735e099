"""Business counters of the scoring service, counted once Kafka acknowledged the event."""

from __future__ import annotations

from palmares_contracts import SubmissionScored
from prometheus_client import Counter

DOSSIERS_SCORED = Counter(
    "palmares_dossiers_scored_total", "Dossier evaluations published by scoring", ["edition", "arobases"]
)


def count(event: SubmissionScored) -> None:
    """One dossier evaluation published (a new revision, or a re-evaluation under a new grille version)."""
    DOSSIERS_SCORED.labels(str(event.edition), str(event.arobases)).inc()

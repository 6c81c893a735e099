"""Business counters of the submission service, counted once Kafka acknowledged the event."""

from __future__ import annotations

from palmares_contracts import SubmissionReceived
from prometheus_client import Counter

DOSSIERS_RECEIVED = Counter(
    "palmares_dossiers_received_total", "Dossiers (and revisions) accepted and published", ["edition"]
)


def count_received(event: SubmissionReceived) -> None:
    """One dossier, or one revision of a dossier, accepted and published."""
    DOSSIERS_RECEIVED.labels(str(event.edition)).inc()

"""Business counters of the mentions service, counted once Kafka acknowledged the event."""

from __future__ import annotations

from palmares_contracts import MentionsDetected
from prometheus_client import Counter

MENTIONS_DETECTED = Counter(
    "palmares_mentions_detected_total", "Mentions found in published dossier evaluations", ["mention"]
)


def count(event: MentionsDetected) -> None:
    """One per mention found in a published dossier evaluation."""
    for mention in event.mentions:
        MENTIONS_DETECTED.labels(mention.code).inc()

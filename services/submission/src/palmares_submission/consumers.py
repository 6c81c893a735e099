"""The status view: what the submission service learns from the other services' events."""

from __future__ import annotations

from typing import Any

from palmares_contracts import (
    MENTIONS,
    NOTIFICATIONS,
    SCORES,
    MentionsDetected,
    NotificationFailed,
    NotificationSent,
    SubmissionScored,
)
from palmares_eventkit.runtime import Subscription, Tx

from palmares_submission import store

# Each handler hands its row to the batch's transaction: the rows of a batch of records are
# written in one statement at its commit (`Tx.write`), a round trip saved per event.


async def on_scored(tx: Tx, event: SubmissionScored) -> None:
    await tx.write(store.upsert_results, _result("score", event))


async def on_mentions(tx: Tx, event: MentionsDetected) -> None:
    await tx.write(store.upsert_results, _result("mentions", event))


def _result(kind: str, event: SubmissionScored | MentionsDetected) -> store.NewResult:
    return store.NewResult(event.submission_id, kind, event.revision, event.grille_version, event.model_dump_json())


async def on_notification(tx: Tx, event: NotificationSent | NotificationFailed) -> None:
    await tx.write(
        store.record_notifications,
        store.NotificationRow(
            notification_id=event.notification_id,
            submission_id=event.submission_id,
            revision=event.revision,
            edition=event.edition,
            collectivite_code=event.collectivite_code,
            kind=event.kind.value,
            status="sent" if isinstance(event, NotificationSent) else "failed",
            to=event.to,
            message_id=event.message_id,
            reason=event.reason if isinstance(event, NotificationFailed) else None,
            occurred_at=event.occurred_at,
        ),
    )


SUBSCRIPTIONS: tuple[Subscription[Any], ...] = (
    Subscription(SCORES, on_scored),
    Subscription(MENTIONS, on_mentions),
    Subscription(NOTIFICATIONS, on_notification),
)
"""What the submission service consumes: the table its runtime subscribes and the tests read."""

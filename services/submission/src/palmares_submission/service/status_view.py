"""A dossier's status view: what its collectivité, the jury and operators read of it (a query of the service layer).

`read` gathers the dossier's rows; `build_status_view` (pure) makes the view
of them, for the API (`GET /v1/submissions/{id}`) and the espaces' dossier
page alike.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from palmares_eventkit.db import Connection
from palmares_label.final import final_mentions

from palmares_submission import calendar, store
from palmares_submission.schemas import Explanation, JuryView, NotificationView, StatusView
from palmares_submission.status import Progress, dossier_status


@dataclass(frozen=True, slots=True)
class DossierStatus:
    """A dossier, its status view, and the mentions detected for it (whatever the jury granted)."""

    submission: store.SubmissionRow
    view: StatusView
    detected_mentions: list[dict[str, Any]]


async def read(conn: Connection, submission_id: UUID, *, staff: bool = False) -> DossierStatus | None:
    """The dossier's status view (None: no such dossier); `staff` reads the jury's decision before the palmarès."""
    sub = await store.submission(conn, submission_id)
    if sub is None:
        return None
    results = await store.results(conn, submission_id)
    view = build_status_view(
        sub,
        results,
        await store.jury(conn, submission_id),
        await store.notifications(conn, submission_id),
        staff=staff,
    )
    mentions = results.get("mentions")
    return DossierStatus(sub, view, mentions.decoded().get("mentions", []) if mentions else [])


def build_status_view(
    sub: store.SubmissionRow,
    results: Mapping[str, store.ResultRow],
    jury: store.JuryRow | None,
    notes: Sequence[store.NotificationRow],
    *,
    staff: bool = False,
) -> StatusView:
    """A dossier's status view.

    The jury's decision is the collectivité's to read once the palmarès is
    published (`staff`, operators and jury members, read it at once); from
    then on, the mentions the jury granted, when it ruled on them, are the
    dossier's mentions.
    """
    revision = sub.revision
    published = sub.palmares_published_at is not None
    # The jury's mentions (palmares_label.final) once the collectivité may read the decision.
    granted = json.loads(jury.mentions) if published and jury and jury.mentions is not None else None
    score = results.get("score")
    mentions = results.get("mentions")
    score_payload = score.decoded() if score else None
    mentions_payload = mentions.decoded() if mentions else None
    sent = [n for n in notes if n.status == "sent"]
    progress = Progress(
        revision=revision,
        score_revision=score.revision if score else None,
        mentions_revision=mentions.revision if mentions else None,
        receipt_sent=any(n.kind == "receipt" and n.revision == revision for n in sent),
        palmares_published=published,
        award_sent=any(n.kind == "award" for n in sent),
    )
    return StatusView(
        submission_id=sub.submission_id,
        revision=revision,
        edition=sub.edition,
        collectivite_code=sub.collectivite_code,
        status=dossier_status(progress),
        score=score_payload["score"] if score_payload else None,
        arobases=score_payload["arobases"] if score_payload else None,
        grille_version=score.grille_version if score else None,
        explanation=Explanation(
            enjeux=score_payload.get("enjeux", []),
            next_level=score_payload.get("next_level"),
            ignored_actions=score_payload.get("ignored_actions", []),
        )
        if score_payload
        else None,
        mentions=(
            list(final_mentions(mentions_payload.get("mentions", []) if mentions_payload else None, granted))
            if mentions_payload or granted is not None
            else None
        ),
        mentions_grille_version=mentions.grille_version if mentions else None,
        mentions_missed=mentions_payload.get("missed", []) if mentions_payload else None,
        suggestions=mentions_payload.get("suggestions", []) if mentions_payload else None,
        jury=_jury_view(jury, revision) if jury and (published or staff) else None,
        notifications=[
            NotificationView(
                notification_id=n.notification_id,
                kind=n.kind,
                status=n.status,
                revision=n.revision,
                to=n.to,
                message_id=n.message_id,
                reason=n.reason,
                at=n.occurred_at,
            )
            for n in notes
        ],
        submitted_at=sub.submitted_at,
    )


def _jury_view(jury: store.JuryRow, revision: int) -> JuryView:
    # Alike on purpose: the jury-decision route makes the same view of the decision it just recorded (`Decided`).
    return JuryView(
        arobases=jury.arobases,
        comment=jury.comment,
        decided_by=jury.decided_by,
        decided_at=jury.decided_at,
        revision=jury.revision,
        mentions=json.loads(jury.mentions) if jury.mentions is not None else None,
        to_review_again=calendar.to_review_again(jury.revision, revision),
    )

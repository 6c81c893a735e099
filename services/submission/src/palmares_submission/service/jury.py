"""The jury's decision on a dossier, as a command (the API's route and the espace jury's form both run it)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from palmares_contracts import Event, JuryDecided, Mention, utcnow
from palmares_eventkit.runtime import Tx

from palmares_submission import calendar, catalogue, store
from palmares_submission.domain import jury
from palmares_submission.domain.errors import NotFound


@dataclass(frozen=True, slots=True)
class Decided:
    """A decision recorded: on which revision, the mentions granted (None: the detected ones stand)."""

    arobases: int
    comment: str
    decided_by: str
    decided_at: datetime
    revision: int
    mentions: tuple[Mention, ...] | None
    to_review_again: bool
    events: tuple[Event, ...]


async def decide(
    tx: Tx,
    submission_id: UUID,
    *,
    arobases: int,
    comment: str,
    decided_by: str,
    revision: int | None,
    mention_codes: Sequence[str] | None,
) -> Decided:
    """Record the jury's decision on a dossier; `JuryDecided` (version 2) is its event.

    Refused: an unknown dossier (NotFound), a revision it does not have or a
    mention unknown to its grille (Invalid, naming the field).
    """
    now = utcnow()
    sub = await store.submission(tx.conn, submission_id)
    if sub is None:
        raise NotFound("Dossier introuvable.")
    edition, current = sub.edition, sub.revision
    # Serialized with the palmarès publication, which counts the decisions published before it.
    await tx.lock(f"edition:{edition}")
    results = await store.results(tx.conn, submission_id)
    detected = results["mentions"].decoded().get("mentions", []) if "mentions" in results else []
    grille = await store.current_grille(tx.conn, edition)
    examined = jury.examined_revision(revision, current)
    granted = jury.granted_mentions(
        mention_codes, [Mention.model_validate(m) for m in detected], grille.mentions if grille else ()
    )
    await store.count_jury_event(tx.conn, edition)
    await store.save_jury(
        tx.conn,
        submission_id,
        arobases,
        comment,
        decided_by,
        now,
        revision=examined,
        mentions_json=json.dumps([m.model_dump(mode="json") for m in granted]) if granted is not None else None,
    )
    # After the palmarès (a rectificatif), the public catalogue and observatoire follow the decision.
    await catalogue.refresh(tx.conn, edition, submission_id)
    event = JuryDecided(
        submission_id=submission_id,
        edition=edition,
        collectivite_code=sub.collectivite_code,
        arobases=arobases,
        comment=comment,
        decided_by=decided_by,
        revision=examined,
        mentions=granted,
    )
    return Decided(
        arobases=arobases,
        comment=comment,
        decided_by=decided_by,
        decided_at=now,
        revision=examined,
        mentions=granted,
        to_review_again=calendar.to_review_again(examined, current),
        events=(event,),
    )

"""The commands of the submission service (see the package's docstring).

A command raises `palmares_submission.domain.errors.Refused` (rolling its
transaction back) when it cannot be carried out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol, TypeVar

from palmares_contracts import Action, Event, SubmissionReceived, utcnow
from palmares_eventkit.runtime import Tx

from palmares_submission import calendar, calendar_store, store
from palmares_submission.domain import campaign, dossier
from palmares_submission.domain.dossier import Revision
from palmares_submission.domain.errors import Conflict, Invalid
from palmares_submission.edition_category import dossier_collectivite
from palmares_submission.schemas import SubmissionRequest


class Outcome(Protocol):
    """What a command did: its events, to publish in its transaction."""

    @property
    def events(self) -> tuple[Event, ...]: ...


OutcomeT = TypeVar("OutcomeT", bound=Outcome)


async def run(
    transaction: Callable[[], AbstractAsyncContextManager[Tx]], command: Callable[[Tx], Awaitable[OutcomeT]]
) -> OutcomeT:
    """Run `command` in a new transaction and publish its events through the outbox before it commits."""
    async with transaction() as tx:
        outcome = await command(tx)
        for event in outcome.events:
            await tx.publish(event)
    return outcome


async def _lock_dossier(tx: Tx, edition: int, code: str) -> None:
    """Serialize the changes of one dossier (submissions, revisions, category overrides)."""
    await tx.conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"dossier:{edition}:{code}")


# --- a dossier's submission and revisions --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Submitted:
    """The revision a submission made (or, replayed, the one an earlier request with its key made)."""

    accepted: Revision
    replayed: bool
    events: tuple[Event, ...]


def request_hash(body: SubmissionRequest) -> bytes:
    """What an idempotency key is bound to: the same key with another body is refused."""
    return hashlib.sha256(body.model_dump_json().encode()).digest()


def actions_of(body: SubmissionRequest) -> tuple[Action, ...]:
    return tuple(
        Action(
            title=a.title,
            description=a.description,
            services=tuple(a.services),
            url=str(a.url) if a.url else None,
            started_on=a.started_on,
            ended_on=a.ended_on,
        )
        for a in body.actions
    )


async def submit(
    tx: Tx,
    edition: int,
    code: str,
    body: SubmissionRequest,
    idempotency_key: str | None = None,
    *,
    village_max_population: int,
) -> Submitted:
    """Submit the collectivité `code`'s dossier for `edition`: its first revision, or the next one.

    With an idempotency key already used for the same body, the revision that
    request made, and nothing new; used for another body, refused.
    """
    fingerprint = request_hash(body)
    await _lock_dossier(tx, edition, code)
    # After the lock, in its own statement: its snapshot sees what a concurrent request for the dossier committed.
    context = await store.submit_context(tx.conn, edition, code, idempotency_key)
    if context.replay is not None:
        if context.replay.request_hash != fingerprint:
            raise Invalid("Cette clé d’idempotence a déjà servi pour un autre contenu.", field="Idempotency-Key")
        return Submitted(context.replay.accepted, replayed=True, events=())
    state = campaign.check_open_for_dossiers(edition, context.edition)
    grille = await store.grille_version(tx.conn, edition, state.grille_version)
    now = utcnow()
    closed = calendar.refusal(edition, grille.closes_at, now, await calendar_store.reopening(tx.conn, edition, code))
    if closed is not None:
        raise Conflict(closed)
    actions = actions_of(body)
    dossier.check_against(actions, grille)
    revision = dossier.next_revision(context.existing)
    row = context.collectivite
    event = dossier.received(
        revision,
        edition=edition,
        collectivite=dossier_collectivite(
            code=row.code,
            kind=row.kind,
            name=row.name,
            departement=row.departement,
            registered_population=row.population,
            registered_category=row.category,
            contact_email=str(body.contact_email or row.contact_email),
            edition=edition,
            override=context.override,
            village_max_population=village_max_population,
        ),
        actions=actions,
        narrative=body.narrative,
        at=now,
    )
    withheld = [i for i, a in enumerate(body.actions) if not a.catalogue]  # kept out of the public catalogue
    await _save(tx, event, (idempotency_key, fingerprint) if idempotency_key else None, withheld)
    return Submitted(revision, replayed=False, events=(event,))


async def _save(
    tx: Tx, event: SubmissionReceived, idempotency: tuple[str, bytes] | None, catalogue_withheld: list[int]
) -> None:
    await store.save_revision(
        tx.conn,
        submission_id=event.submission_id,
        edition=event.edition,
        code=event.collectivite.code,
        revision=event.revision,
        event_json=event.model_dump_json(),
        submitted_at=event.submitted_at,
        idempotency=idempotency,
        catalogue_withheld=catalogue_withheld,
    )

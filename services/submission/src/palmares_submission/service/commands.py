"""The commands of the submission service (see the package's docstring).

A command raises `palmares_submission.domain.errors.Refused` (rolling its
transaction back) when it cannot be carried out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar
from uuid import UUID

from palmares_contracts import (
    Action,
    Category,
    CategoryOverride,
    Ceremony,
    Collectivite,
    Event,
    Grille,
    GrilleBody,
    GrillePublished,
    PalmaresPublished,
    SubmissionReceived,
    utcnow,
)
from palmares_eventkit.runtime import Tx

from palmares_submission import (
    auth,
    calendar,
    calendar_store,
    catalogue,
    palmares,
    refdata,
    store,
    text,
    worklist_store,
)
from palmares_submission.domain import campaign, dossier
from palmares_submission.domain.dossier import Revision
from palmares_submission.domain.errors import Conflict, Forbidden, Invalid, NotFound
from palmares_submission.edition_category import dossier_collectivite
from palmares_submission.schemas import SubmissionRequest


class Outcome(Protocol):
    """What a command did: its events still to publish in its transaction.

    A command may have written an event already, in the statement of the rows it
    is about (`_save`: a revision and its `SubmissionReceived`); it is not listed here.
    """

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


def _dossier_lock(edition: int, code: str) -> str:
    """The key that serializes the changes of one dossier (submissions, revisions, category overrides)."""
    return f"dossier:{edition}:{code}"


async def _lock_dossier(tx: Tx, edition: int, code: str) -> None:
    await tx.lock(_dossier_lock(edition, code))


async def _lock_edition(tx: Tx, edition: int) -> None:
    """Serialize the changes of an edition (grille versions, jury decisions, the palmarès)."""
    await tx.lock(f"edition:{edition}")


# --- a dossier's submission and revisions --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Submitted:
    """The revision a submission made (or, replayed, the one an earlier request with its key made).

    Its `SubmissionReceived` is already in the outbox: `_save` writes it with the revision.
    """

    accepted: Revision
    replayed: bool

    @property
    def events(self) -> tuple[Event, ...]:
        return ()


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
    # The dossier's lock, then the reads, in one round trip: they see what a concurrent request for it committed.
    context = await store.submit_context(tx.conn, edition, code, idempotency_key, _dossier_lock(edition, code))
    if context.replay is not None:
        if context.replay.request_hash != fingerprint:
            raise Invalid("Cette clé d’idempotence a déjà servi pour un autre contenu.", field="Idempotency-Key")
        return Submitted(context.replay.accepted, replayed=True)
    state = campaign.check_open_for_dossiers(edition, context.edition)
    grille = await store.grille_version(tx.conn, edition, state.grille_version)
    now = utcnow()
    closed = calendar.refusal(edition, grille.closes_at, now, context.reopening)
    if closed is not None:
        raise Conflict(closed)
    actions = actions_of(body)
    dossier.check_against(actions, grille)
    revision = dossier.next_revision(context.existing)
    event = dossier.received(
        revision,
        edition=edition,
        collectivite=collectivite_in(
            context.collectivite,
            edition,
            context.override,
            str(body.contact_email or context.collectivite.contact_email),
            village_max_population,
        ),
        actions=actions,
        narrative=body.narrative,
        at=now,
    )
    withheld = [i for i, a in enumerate(body.actions) if not a.catalogue]  # kept out of the public catalogue
    await _save(tx, event, (idempotency_key, fingerprint) if idempotency_key else None, withheld)
    return Submitted(revision, replayed=False)


async def _save(
    tx: Tx, event: SubmissionReceived, idempotency: tuple[str, bytes] | None, catalogue_withheld: list[int] | None
) -> None:
    """The revision and its event, which leaves through the outbox when the transaction commits."""
    await store.save_revision(
        tx.conn, event, schema=tx.schema, idempotency=idempotency, catalogue_withheld=catalogue_withheld
    )


# --- collectivités and their tokens --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Registered:
    """A collectivité registered, or its token renewed: the token is shown once, only its hash is kept."""

    collectivite: store.CollectiviteRow
    token: str
    events: tuple[Event, ...] = ()


async def register(tx: Tx, code: str, contact_email: str, *, village_max_population: int) -> Registered:
    """Register a collectivité from the reference data (the newest millésime that knows its code)."""
    # Today's millésime, or the last before the collectivité merged into another.
    ref = refdata.lookup_latest(code)
    if ref is None:
        raise Invalid(f"Code {code} inconnu du référentiel des collectivités.", field="code")
    row = store.CollectiviteRow(
        code=ref.code,
        kind=ref.kind,
        name=ref.name,
        population=ref.population,
        departement=ref.departement,
        category=refdata.category_of(ref, village_max_population),
        contact_email=contact_email,
    )
    token = auth.new_token()
    if not await store.insert_collectivite(tx.conn, row, auth.hash_token(token)):
        raise Conflict(f"La collectivité {ref.code} est déjà inscrite.", field="code")
    return Registered(row, token)


async def rotate_token(tx: Tx, code: str) -> Registered:
    """A new token for the collectivité; the previous one stops working when the transaction commits."""
    token = auth.new_token()
    row = await store.rotate_token(tx.conn, code, auth.hash_token(token))
    if row is None:
        raise NotFound(f"La collectivité {code} n’est pas inscrite.")
    return Registered(row, token)


@dataclass(frozen=True, slots=True)
class Done:
    """A command that changed the service's state and has nothing more to say."""

    events: tuple[Event, ...] = ()


async def revoke_token(tx: Tx, code: str) -> Done:
    """No token opens the collectivité's data any more, until a new one is issued."""
    if not await store.revoke_token(tx.conn, code):
        raise NotFound(f"La collectivité {code} n’est pas inscrite.")
    return Done()


# --- a collectivité's category for an edition, reopened dossiers ---------------------------------


def collectivite_in(
    row: store.CollectiviteRow,
    edition: int,
    override: CategoryOverride | None,
    contact_email: str,
    village_max_population: int,
) -> Collectivite:
    """A registered collectivité as its dossier of `edition` records it."""
    return dossier_collectivite(
        code=row.code,
        kind=row.kind,
        name=row.name,
        departement=row.departement,
        registered_population=row.population,
        registered_category=row.category,
        contact_email=contact_email,
        edition=edition,
        override=override,
        village_max_population=village_max_population,
    )


@dataclass(frozen=True, slots=True)
class Recategorized:
    """An operator's decision on a category, and the dossier's revision it made (None: none was needed)."""

    collectivite: store.CollectiviteRow
    override: CategoryOverride
    revised: SubmissionReceived | None

    @property
    def events(self) -> tuple[Event, ...]:
        return ()  # the revision's event, if any, went to the outbox with it (`_save`)


async def override_category(
    tx: Tx,
    edition: int,
    code: str,
    category: Category,
    reason: str,
    decided_by: str,
    *,
    village_max_population: int,
) -> Recategorized:
    """Set the collectivité's category for an edition, with a reason (kept in the audit trail).

    Its dossier of that edition, if any and in another category, gets a new
    revision in the new category (same content), re-evaluated downstream.
    """
    await _lock_dossier(tx, edition, code)
    row = await store.collectivite(tx.conn, code)
    if row is None:
        raise NotFound(f"La collectivité {code} n'est pas inscrite.")
    campaign.check_category_may_change(edition, await store.edition(tx.conn, edition))
    override = CategoryOverride(category=category, reason=reason, decided_by=decided_by, decided_at=utcnow())
    await store.insert_category_override(tx.conn, code, edition, override)
    current = await store.current_revision(tx.conn, edition, code, for_update=True)
    if current is None:
        return Recategorized(row, override, None)
    revised = dossier.recategorized(
        current,
        collectivite_in(row, edition, override, current.collectivite.contact_email, village_max_population),
        override.decided_at,
    )
    if revised is not None:
        await _save(tx, revised, None, None)  # its actions stay in or out of the catalogue as they were
    return Recategorized(row, override, revised)


@dataclass(frozen=True, slots=True)
class Reopened:
    """A dossier reopened after the campaign closed, and when the campaign closed."""

    reopening: calendar.Reopening
    closes_at: datetime | None
    events: tuple[Event, ...] = ()


async def reopen(tx: Tx, edition: int, code: str, until: datetime | None) -> Reopened:
    """Reopen one collectivité's dossier until `until` (None: until the palmarès); again replaces the term."""
    if await store.collectivite(tx.conn, code) is None:
        raise NotFound(f"La collectivité {code} n’est pas inscrite.")
    state = campaign.check_reopenable(edition, await store.edition(tx.conn, edition))
    grille = await store.grille_version(tx.conn, edition, state.grille_version)
    reopened = await calendar_store.reopen(tx.conn, edition, code, utcnow(), until)
    return Reopened(reopened, grille.closes_at)


# --- a dossier's actions in the public catalogue --------------------------------------------------


async def choose_catalogue(
    tx: Tx, submission_id: UUID, position: int, published: bool, *, may_read: Callable[[str], bool]
) -> Done:
    """Keep one action of the dossier out of the public catalogue (`published` False), or put it back.

    `may_read(code)`: whether the caller may act on the collectivité `code`'s dossier.
    """
    found = await store.locked_submission(tx.conn, submission_id)
    if found is None:
        raise NotFound("Dossier inconnu.")
    code, revision = found
    if not may_read(code):
        raise Forbidden("Ce jeton n’est pas celui de cette collectivité.")
    count = await store.action_count(tx.conn, submission_id, revision)
    if position >= count:
        raise NotFound(f"Le dossier compte {count} actions : la position {position} n’existe pas.")
    await store.choose_catalogue(tx.conn, submission_id, revision, position, published)
    return Done()


# --- the grille, the palmarès, the label history ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GrilleOutcome:
    grille: Grille
    events: tuple[Event, ...]


async def publish_grille(tx: Tx, edition: int, body: GrilleBody) -> GrilleOutcome:
    """Publish a new version of an edition's grille (the service numbers the versions)."""
    found = text.first_problem(body.model_dump(mode="json"))
    if found is not None:
        field, why = found
        raise Invalid(f"Texte refusé dans la grille ({field}) : {why}.", field=field)
    campaign.check_grille_edition(edition, body.edition)
    await _lock_edition(tx, edition)
    version = campaign.check_grille_may_change(edition, await store.edition(tx.conn, edition, for_update=True))
    grille = Grille(**body.model_dump(), version=version)
    await store.save_grille(tx.conn, grille)
    return GrilleOutcome(grille, events=(GrillePublished(edition=edition, version=version, grille=grille),))


@dataclass(frozen=True, slots=True)
class PalmaresOutcome:
    published_at: datetime
    events: tuple[Event, ...]


async def publish_palmares(tx: Tx, edition: int, ceremony: Ceremony | None) -> PalmaresOutcome:
    """Publish the palmarès of an edition: its campaign closes, the build of its catalogue of actions is asked for
    (`build_catalogue`), award emails follow (once notify has read the jury decisions published before it)."""
    await _lock_edition(tx, edition)
    campaign.check_palmares_publishable(edition, await store.edition(tx.conn, edition, for_update=True))
    blocked = calendar.palmares_blocked_message(edition, await worklist_store.to_review_again(tx.conn, edition))
    if blocked is not None:
        raise Conflict(blocked)
    now = utcnow()
    await store.publish_palmares(tx.conn, edition, now, ceremony)
    await catalogue.request_build(tx.conn, edition)
    event = PalmaresPublished(
        edition=edition,
        published_at=now,
        ceremony=ceremony,
        distinctions=tuple(await palmares.edition_distinctions(tx.conn, edition)),
        jury_decisions=await store.jury_events(tx.conn, edition),
    )
    return PalmaresOutcome(now, events=(event,))


@dataclass(frozen=True, slots=True)
class CatalogueBuilt:
    """The actions catalogued, or None: no build was pending (done already, or never asked for)."""

    actions: int | None
    events: tuple[Event, ...] = ()


async def build_catalogue(tx: Tx, edition: int) -> CatalogueBuilt:
    """Build the catalogue and observatoire rows the publication of `edition`'s palmarès asked for, once."""
    await _lock_edition(tx, edition)
    return CatalogueBuilt(await catalogue.build_requested(tx.conn, edition))


@dataclass(frozen=True, slots=True)
class Imported:
    count: int
    events: tuple[Event, ...] = ()


async def import_label_history(tx: Tx, entries: Sequence[tuple[str, int, int]]) -> Imported:
    """Import the labels (code, edition, arobases) of editions this system did not run (for the distinctions)."""
    campaign.check_history_importable(await store.published_editions(tx.conn), [e[1] for e in entries])
    await store.import_labels(tx.conn, list(entries))
    return Imported(len(entries))

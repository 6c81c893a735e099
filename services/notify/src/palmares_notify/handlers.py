"""Event handlers of notify: join dossiers, results and the palmarès into emails to send.

Handlers only decide and render: each email is stored as a `pending`
notification in the handler's transaction; the `sender` loop delivers it.
When an award is due is `awards`' rule; what it announces is the dossier's
final arobases and mentions (`palmares_label.final`); the SQL is `store`'s.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from palmares_contracts import (
    GRILLES,
    JURY,
    MENTIONS,
    PALMARES,
    SCORES,
    SUBMISSIONS,
    GrillePublished,
    JuryDecided,
    MentionsDetected,
    NotificationKind,
    PalmaresPublished,
    SubmissionReceived,
    SubmissionScored,
    utcnow,
)
from palmares_eventkit import telemetry
from palmares_eventkit.db import Connection
from palmares_eventkit.runtime import Background, ServiceRuntime, Subscription, Tx
from palmares_label.final import final_arobases, final_mentions

from palmares_notify import render, store
from palmares_notify.awards import Announcement, Version, award_due, chunk_sizes, rectificatif_due
from palmares_notify.render import Sender

# The key of `prepare_results`' read in `Tx.memo`: submission_id → its palmarès is published.
_PUBLISHED = "notify:published"
# How often the award loop looks for a pass nobody woke it for (asked by another replica's handler).
AWARD_POLL_S = 0.5


@dataclass(frozen=True, slots=True)
class Received:
    """A dossier's revision read from `submissions.v1`, with the trace context of its consumer span."""

    event: SubmissionReceived
    trace: dict[str, Any]

    @property
    def receipt(self) -> UUID:
        return render.notification_id(NotificationKind.RECEIPT, self.event.submission_id, self.event.revision)

    def dossier(self) -> store.NewDossier:
        e = self.event
        return store.NewDossier(
            e.submission_id,
            e.edition,
            e.collectivite.code,
            e.revision,
            e.collectivite.model_dump_json(),
            self.trace,
            self.receipt,
        )


class Notifier:
    """Decides which emails are due, and renders them."""

    def __init__(self, sender: Sender) -> None:
        self._sender = sender
        self._wake = asyncio.Event()  # a handler's committed transaction asked for an award pass

    @property
    def award_pass_asked(self) -> bool:
        """Whether a committed transaction asked for an award pass the loop has not started yet."""
        return self._wake.is_set()

    def subscriptions(self) -> tuple[Subscription[Any], ...]:
        """What notify consumes: the table the composition root hands to the runtime, and the tests use."""
        return (
            Subscription(SUBMISSIONS, self.on_submission),
            Subscription(SCORES, self.on_scored, prepare=self.prepare_results),
            Subscription(MENTIONS, self.on_mentions, prepare=self.prepare_results),
            Subscription(JURY, self.on_jury),
            Subscription(GRILLES, self.on_grille),
            Subscription(PALMARES, self.on_palmares),
        )

    # --- handlers -------------------------------------------------------------------

    async def on_submission(self, tx: Tx, event: SubmissionReceived) -> None:
        """Keep the dossier's new revision and queue its receipt: with the batch's others, at its commit."""
        # The trace is this record's (its consumer span): the receipt and the award belong to the dossier's trace.
        await tx.write(self._receive, Received(event, telemetry.inject_current()))

    async def _receive(self, conn: Connection, received: Sequence[Received]) -> None:
        """The dossiers of a batch in one statement, then their due receipts rendered and queued in one more.

        A receipt is due for a revision newer than the dossier's kept one (older
        ones arriving late are superseded) and not known yet (a rebuild from the
        log restores the receipts sent, which are then not rendered for nothing).
        """
        due = await store.upsert_dossiers(conn, [r.dossier() for r in received])
        receipts = [self._receipt(r) for r, is_due in zip(received, due, strict=True) if is_due]
        if receipts:
            await store.queue(conn, receipts)

    def _receipt(self, received: Received) -> store.Email:
        event, c = received.event, received.event.collectivite
        nid = received.receipt
        message = render.render_receipt(
            notification=nid,
            to=c.contact_email,
            collectivite=c.model_dump(mode="json"),
            edition=event.edition,
            submission_id=event.submission_id,
            revision=event.revision,
            actions=len(event.actions),
            submitted_at=event.submitted_at,
            sender=self._sender,
            at=utcnow(),
        )
        # The award's fields (`_letter`), from the event instead of the dossier: a helper would only rename them.
        return store.Email(
            notification_id=nid,
            kind=NotificationKind.RECEIPT,
            submission_id=event.submission_id,
            revision=event.revision,
            edition=event.edition,
            collectivite_code=c.code,
            to=c.contact_email,
            message_id=message.message_id,
            message=message.as_bytes(),
            trace=received.trace,
        )

    async def prepare_results(self, tx: Tx, events: Sequence[SubmissionScored | MentionsDetected]) -> None:
        """For a batch of results: which dossiers notify knows, and whether their palmarès is out (one read)."""
        tx.memo[_PUBLISHED] = await store.publication_of(tx.conn, [event.submission_id for event in events])

    async def on_scored(self, tx: Tx, event: SubmissionScored) -> None:
        await self._keep_result(tx, event, "score")

    async def on_mentions(self, tx: Tx, event: MentionsDetected) -> None:
        await self._keep_result(tx, event, "mentions")

    async def _keep_result(self, tx: Tx, event: SubmissionScored | MentionsDetected, kind: str) -> None:
        """Keep the result; if the dossier's palmarès is out, its award may be due now.

        Before the palmarès (the common case, the batch's read says so and holds
        the edition's row), or for a dossier notify does not know yet (its
        `SubmissionReceived` is read by another consumer, often later: no award
        can be due without it), the result is written with the batch at its
        commit; otherwise at once, as the award reads it.
        """
        version = Version(event.revision, event.grille_version)
        published: dict[UUID, bool] | None = tx.memo.get(_PUBLISHED)
        if published is not None and not published.get(event.submission_id, False):
            await tx.write(
                store.upsert_results, store.NewResult(event.submission_id, kind, version, event.model_dump_json())
            )
        elif await store.upsert_result(tx.conn, event.submission_id, kind, version, event.model_dump_json()):
            await self._maybe_award(tx, event.submission_id)

    async def on_jury(self, tx: Tx, event: JuryDecided) -> None:
        await store.save_jury(tx.conn, event)
        jury_events = await store.count_jury_event(tx.conn, event.edition)
        await self._maybe_rectify(tx, event)
        if jury_events.seen == jury_events.expected:
            await self._request_awards(tx, event.edition)  # the last decision the awards were waiting for
        else:
            await self._maybe_award(tx, event.submission_id)

    async def on_grille(self, tx: Tx, event: GrillePublished) -> None:
        """Awards wait for results under the edition's latest grille version."""
        await store.save_grille(tx.conn, event)
        # Topics are consumed independently: the palmarès may have been read first.
        await self._request_awards(tx, event.edition)

    async def on_palmares(self, tx: Tx, event: PalmaresPublished) -> None:
        """The palmarès is out: queue the award of every dossier whose results are final."""
        await store.save_palmares(tx.conn, event, telemetry.inject_current())
        await self._request_awards(tx, event.edition)

    # --- the awards of an edition, in chunks ------------------------------------------------

    async def _request_awards(self, tx: Tx, edition: int) -> None:
        """Ask the award loop for a pass over a published edition (after this transaction commits)."""
        await store.request_awards(tx.conn, edition)
        # After the commit: woken before it, the award loop would find no request and sleep `AWARD_POLL_S`.
        tx.after_commit(self._wake.set)

    async def award_pending(self, pool: store.Pool, chunk: int = 100, first: int = 10) -> int:
        """One pass over the editions that asked for one: queue every award that is due, by chunks.

        Each chunk commits on its own, so the senders start on the first awards
        while the next are rendered; the first holds `first` awards, the next
        grow to `chunk` (`awards.chunk_sizes`). The dossiers of a chunk are locked (SKIP
        LOCKED: two replicas share the work); notification ids are stable, so an
        award can never be queued twice. Returns the number of awards queued.
        """
        queued = 0
        for edition in await store.editions_to_award(pool):
            after = _BEFORE_EVERY_ID
            for size in chunk_sizes(first, chunk):
                async with pool.acquire() as conn, conn.transaction():
                    ids = await store.award_candidates(conn, edition.edition, after, size)
                    if ids:  # the chunk read, rendered and queued in three statements
                        dossiers = await store.award_dossiers(conn, edition.edition, ids)
                        awards = [_award(d, self._sender) for d in dossiers if award_due(d.state)]
                        await store.queue(conn, awards)
                        queued += len(awards)
                if len(ids) < size:
                    break
                after = ids[-1]
            await store.awards_scanned(pool, edition)
        return queued

    def award_loop(self) -> Background:
        """The background task that runs `award_pending` whenever a handler asked for it (or every `AWARD_POLL_S`)."""

        async def run(runtime: ServiceRuntime) -> None:
            while not runtime.stopping.is_set():
                self._wake.clear()  # before the pass: a request committed during it wakes the next one
                if not await self.award_pending(runtime.pool):
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), AWARD_POLL_S)

        return run

    # --- the award and the rectificatif ------------------------------------------------------------

    async def _maybe_award(self, tx: Tx, submission_id: UUID) -> int:
        """Queue the dossier's award if it is due (`awards.award_due`); 1 if it was queued.

        Called after the transaction wrote what may make the award due (a
        result, a jury decision). The dossier is locked before it is read: of
        two such transactions at once (notify's score and mentions consumers
        after the palmarès), the second reads once the first has committed and
        sees both writes. Read without the lock, each could miss the other's,
        and the award would wait for a pass that nothing asks for.
        """
        dossier = await store.dossier(tx.conn, submission_id, lock=True)
        if dossier is None or not award_due(dossier.state):
            return 0
        # Queued at once, even in a batch: a later record of the batch (a jury decision) reads what it announced.
        await store.queue(tx.conn, [_award(dossier, self._sender)])
        return 1

    async def _maybe_rectify(self, tx: Tx, event: JuryDecided) -> None:
        """After the award, a jury decision that changes the final arobases or mentions sends one rectificatif."""
        dossier = await store.dossier(tx.conn, event.submission_id, lock=True)
        if (
            dossier is None
            or dossier.score is None
            or not rectificatif_due(dossier.state, dossier.announced, _announcement(dossier))
        ):
            return
        nid = render.notification_id(NotificationKind.RECTIFICATIF, event.submission_id, event.event_id)
        letter = _letter(
            dossier,
            nid,
            NotificationKind.RECTIFICATIF,
            self._sender,
            links=[telemetry.inject_current()],
            previous=await store.last_message_at(tx.conn, event.submission_id),
        )
        await store.queue(tx.conn, [letter])


def _award(dossier: store.Dossier, sender: Sender) -> store.Email:
    """The dossier's award: it belongs to the dossier's trace and is linked to the palmarès publication."""
    nid = render.notification_id(NotificationKind.AWARD, dossier.submission_id)
    return _letter(dossier, nid, NotificationKind.AWARD, sender, links=[_published(dossier).trace])


def _letter(
    dossier: store.Dossier,
    nid: UUID,
    kind: NotificationKind,
    sender: Sender,
    *,
    links: list[dict[str, Any]],
    previous: datetime | None = None,
) -> store.Email:
    """The award (or its rectificatif), rendered, with the final arobases and mentions it announces.

    The letter shows the dossier's final arobases and mentions (`palmares_label.final`): the
    detected mentions and the jury's decision go to `render_award`, which applies the rule.
    """
    edition = _published(dossier)
    score, detected, jury = dossier.score or {}, dossier.mentions or {}, dossier.jury
    rectificatif = kind is NotificationKind.RECTIFICATIF
    message = render.render_award(
        notification=nid,
        to=dossier.contact_email,
        collectivite=dossier.collectivite,
        edition=dossier.edition,
        submission_id=dossier.submission_id,
        score=score,
        mentions=detected,
        jury=jury.letter() if jury else None,
        ceremony=edition.ceremony,
        sender=sender,
        at=utcnow(),
        previous_arobases=dossier.announced.arobases if rectificatif and dossier.announced else None,
        previous_message_at=previous,
        distinctions=None if rectificatif else edition.distinctions_of(dossier.code),
        service_labels=edition.service_labels,
    )
    # The receipt's fields, from the dossier instead of the event: a helper would only rename them.
    return store.Email(
        notification_id=nid,
        kind=kind,
        submission_id=dossier.submission_id,
        revision=dossier.revision,
        edition=dossier.edition,
        collectivite_code=dossier.code,
        to=dossier.contact_email,
        message_id=message.message_id,
        message=message.as_bytes(),
        trace=dossier.trace,
        links=links,
        announced=_announcement(dossier),
    )


def _announcement(dossier: store.Dossier) -> Announcement:
    """What the dossier's award or rectificatif announces: its final arobases and mentions (`palmares_label.final`)."""
    score, detected, jury = dossier.score or {}, dossier.mentions or {}, dossier.jury
    mentions = final_mentions(detected.get("mentions", []), jury.mentions if jury else None)
    return Announcement(
        arobases=final_arobases(int(score["arobases"]), jury.arobases if jury else None),
        mentions=frozenset(str(m["code"]) for m in mentions),
    )


def _published(dossier: store.Dossier) -> store.Edition:
    """The dossier's published edition (an award or a rectificatif comes only after the palmarès)."""
    if dossier.published is None:
        raise RuntimeError(f"the palmarès of the edition of {dossier.submission_id} is not published")
    return dossier.published


_BEFORE_EVERY_ID = UUID(int=0)

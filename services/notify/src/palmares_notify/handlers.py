"""Event handlers of notify: join dossiers, results and the palmarès into emails to send.

Handlers only decide and render: each email is stored as a `pending`
notification in the handler's transaction; the `sender` loop delivers it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any
from uuid import UUID

import asyncpg
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
from palmares_eventkit.runtime import Background, ServiceRuntime, Tx
from palmares_label.final import final_arobases

from palmares_notify import render
from palmares_notify.render import Sender
from palmares_notify.sender import MAIL_CHANNEL


class Notifier:
    """Decides which emails are due, and renders them."""

    def __init__(self, sender: Sender) -> None:
        self._sender = sender
        self._wake = asyncio.Event()  # a handler asked for an award pass

    def register(self, runtime: ServiceRuntime) -> None:
        runtime.subscribe(SUBMISSIONS, self.on_submission)
        runtime.subscribe(SCORES, self.on_scored)
        runtime.subscribe(MENTIONS, self.on_mentions)
        runtime.subscribe(JURY, self.on_jury)
        runtime.subscribe(GRILLES, self.on_grille)
        runtime.subscribe(PALMARES, self.on_palmares)

    # --- handlers -------------------------------------------------------------------

    async def on_submission(self, tx: Tx, event: SubmissionReceived) -> None:
        """Keep the dossier's new revision and queue its receipt."""
        c = event.collectivite
        updated = await tx.conn.fetchval(
            """INSERT INTO dossiers (submission_id, edition, collectivite_code, revision, collectivite, trace_context)
               VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb)
               ON CONFLICT (submission_id) DO UPDATE SET revision = EXCLUDED.revision,
                 collectivite = EXCLUDED.collectivite, trace_context = EXCLUDED.trace_context
               WHERE dossiers.revision < EXCLUDED.revision
               RETURNING true""",
            event.submission_id,
            event.edition,
            c.code,
            event.revision,
            c.model_dump_json(),
            json.dumps(telemetry.inject_current()),
        )
        if not updated:
            return  # an older revision arriving late: no receipt for a superseded dossier
        nid = render.notification_id(NotificationKind.RECEIPT, event.submission_id, event.revision)
        now = utcnow()
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
            at=now,
        )
        await _queue(
            tx,
            nid,
            NotificationKind.RECEIPT,
            event.submission_id,
            event.revision,
            event.edition,
            c.code,
            c.contact_email,
            message.as_bytes(),
            message["Message-ID"],
        )

    async def on_scored(self, tx: Tx, event: SubmissionScored) -> None:
        if await _upsert_result(
            tx, event.submission_id, "score", event.revision, event.grille_version, event.model_dump_json()
        ):
            await self._maybe_award(tx, event.submission_id)

    async def on_mentions(self, tx: Tx, event: MentionsDetected) -> None:
        if await _upsert_result(
            tx, event.submission_id, "mentions", event.revision, event.grille_version, event.model_dump_json()
        ):
            await self._maybe_award(tx, event.submission_id)

    async def on_jury(self, tx: Tx, event: JuryDecided) -> None:
        await tx.conn.execute(
            """INSERT INTO jury_decisions (submission_id, arobases, comment, decided_by, mentions)
               VALUES ($1, $2, $3, $4, $5::jsonb)
               ON CONFLICT (submission_id) DO UPDATE SET arobases = EXCLUDED.arobases,
                 comment = EXCLUDED.comment, decided_by = EXCLUDED.decided_by, mentions = EXCLUDED.mentions""",
            event.submission_id,
            event.arobases,
            event.comment,
            event.decided_by,
            json.dumps([m.model_dump(mode="json") for m in event.mentions]) if event.mentions is not None else None,
        )
        seen = await tx.conn.fetchval(
            """INSERT INTO editions (edition, jury_events_seen) VALUES ($1, 1)
               ON CONFLICT (edition) DO UPDATE SET jury_events_seen = editions.jury_events_seen + 1
               RETURNING jury_events_seen""",
            event.edition,
        )
        await self._maybe_rectify(tx, event)
        expected = await tx.conn.fetchval("SELECT jury_events_expected FROM editions WHERE edition = $1", event.edition)
        if seen == expected:
            await self._request_awards(tx, event.edition)  # the last decision the awards were waiting for
        else:
            await self._maybe_award(tx, event.submission_id)

    async def on_grille(self, tx: Tx, event: GrillePublished) -> None:
        """Awards wait for results under the edition's latest grille version."""
        await tx.conn.execute(
            """INSERT INTO editions (edition, grille_version, service_labels) VALUES ($1, $2, $3::jsonb)
               ON CONFLICT (edition) DO UPDATE SET
                 grille_version = GREATEST(editions.grille_version, EXCLUDED.grille_version),
                 service_labels = CASE WHEN editions.grille_version IS NULL
                                         OR EXCLUDED.grille_version >= editions.grille_version
                                       THEN EXCLUDED.service_labels ELSE editions.service_labels END""",
            event.edition,
            event.version,
            json.dumps({svc.code: svc.label for svc in event.grille.services}),
        )
        # Topics are consumed independently: the palmarès may have been read first.
        await self._request_awards(tx, event.edition)

    async def on_palmares(self, tx: Tx, event: PalmaresPublished) -> None:
        """The palmarès is out: queue the award of every dossier whose results are final."""
        await tx.conn.execute(
            """INSERT INTO editions (edition, published_at, ceremony, trace_context, distinctions, jury_events_expected)
               VALUES ($1, $2, $3::jsonb, $4::jsonb, $5::jsonb, $6)
               ON CONFLICT (edition) DO UPDATE SET published_at = EXCLUDED.published_at,
                 ceremony = EXCLUDED.ceremony, trace_context = EXCLUDED.trace_context,
                 distinctions = EXCLUDED.distinctions, jury_events_expected = EXCLUDED.jury_events_expected""",
            event.edition,
            event.published_at,
            event.ceremony.model_dump_json() if event.ceremony else None,
            json.dumps(telemetry.inject_current()),
            json.dumps([d.model_dump(mode="json") for d in event.distinctions]),
            event.jury_decisions,
        )
        await self._request_awards(tx, event.edition)

    # --- the awards of an edition, in chunks ------------------------------------------------

    async def _request_awards(self, tx: Tx, edition: int) -> None:
        """Ask the award loop for a pass over a published edition (after this transaction commits)."""
        await tx.conn.execute(
            "UPDATE editions SET awards_requested = awards_requested + 1 "
            "WHERE edition = $1 AND published_at IS NOT NULL",
            edition,
        )
        self._wake.set()

    async def award_pending(self, pool: asyncpg.Pool, schema: str, chunk: int = 100) -> int:
        """One pass over the editions that asked for one: queue every award that is due, `chunk` per transaction.

        Each chunk commits on its own, so the senders start on the first awards
        while the next are rendered. The dossiers of a chunk are locked (SKIP
        LOCKED: two replicas share the work); notification ids are stable, so an
        award can never be queued twice. Returns the number of awards queued.
        """
        queued = 0
        for edition in await pool.fetch(_EDITIONS_TO_AWARD):
            after = _BEFORE_EVERY_ID
            while True:
                async with pool.acquire() as conn, conn.transaction():
                    tx = Tx(conn, schema)
                    ids = [
                        r["submission_id"]
                        for r in await conn.fetch(_AWARD_CANDIDATES, edition["edition"], after, chunk)
                    ]
                    for submission_id in ids:
                        queued += await self._maybe_award(tx, submission_id)
                if len(ids) < chunk:
                    break
                after = ids[-1]
            await pool.execute(
                "UPDATE editions SET awards_scanned = GREATEST(awards_scanned, $2) WHERE edition = $1",
                edition["edition"],
                edition["awards_requested"],
            )
        return queued

    def award_loop(self, idle_s: float = 0.5) -> Background:
        """The background task that runs `award_pending` whenever a handler asked for it (or every `idle_s`)."""

        async def run(runtime: ServiceRuntime) -> None:
            while not runtime.stopping.is_set():
                if not await self.award_pending(runtime.pool, runtime.schema):
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), idle_s)

        return run

    # --- the award join -------------------------------------------------------------------

    async def _maybe_award(self, tx: Tx, submission_id: UUID) -> int:
        """Queue the award once the palmarès is out and both results of the final revision are known."""
        nid = render.notification_id(NotificationKind.AWARD, submission_id)
        row = await tx.conn.fetchrow(
            """SELECT d.edition, d.revision, d.collectivite, d.trace_context AS dossier_ctx,
                      e.published_at, e.ceremony, e.grille_version, e.trace_context AS edition_ctx, e.distinctions,
                      e.service_labels, e.jury_events_seen, e.jury_events_expected,
                      s.payload AS score, s.revision AS score_rev, s.grille_version AS score_gv,
                      m.payload AS mentions, m.revision AS mentions_rev, m.grille_version AS mentions_gv,
                      j.arobases AS jury_arobases, j.comment AS jury_comment, j.decided_by,
                      j.mentions AS jury_mentions,
                      EXISTS (SELECT 1 FROM notifications WHERE notification_id = $2) AS queued
               FROM dossiers d
               JOIN editions e ON e.edition = d.edition
               LEFT JOIN results s ON s.submission_id = d.submission_id AND s.kind = 'score'
               LEFT JOIN results m ON m.submission_id = d.submission_id AND m.kind = 'mentions'
               LEFT JOIN jury_decisions j ON j.submission_id = d.submission_id
               WHERE d.submission_id = $1""",
            submission_id,
            nid,
        )
        if row is None or row["published_at"] is None:
            return 0
        if row["jury_events_seen"] < row["jury_events_expected"]:
            return 0  # a jury decision published before the palmarès is still on its way
        final = (row["revision"], row["grille_version"] or 0)
        if (row["score_rev"], row["score_gv"]) != final or (row["mentions_rev"], row["mentions_gv"]) != final:
            return 0  # results of the final revision under the latest grille not known yet
        if row["queued"]:
            return 0
        collectivite = json.loads(row["collectivite"])
        jury = (
            {
                "arobases": row["jury_arobases"],
                "comment": row["jury_comment"],
                "decided_by": row["decided_by"],
                "mentions": json.loads(row["jury_mentions"]) if row["jury_mentions"] is not None else None,
            }
            if row["jury_arobases"] is not None
            else None
        )
        score = json.loads(row["score"])
        message = render.render_award(
            notification=nid,
            to=collectivite["contact_email"],
            collectivite=collectivite,
            edition=row["edition"],
            submission_id=submission_id,
            score=score,
            mentions=json.loads(row["mentions"]),
            jury=jury,
            ceremony=json.loads(row["ceremony"]) if row["ceremony"] else None,
            sender=self._sender,
            at=utcnow(),
            distinctions=[
                d["label"] for d in json.loads(row["distinctions"]) if d["collectivite_code"] == collectivite["code"]
            ],
            service_labels=json.loads(row["service_labels"]),
        )
        # The award belongs to the dossier's trace; it is linked to the palmarès publication.
        await _queue(
            tx,
            nid,
            NotificationKind.AWARD,
            submission_id,
            row["revision"],
            row["edition"],
            collectivite["code"],
            collectivite["contact_email"],
            message.as_bytes(),
            message["Message-ID"],
            trace_context=json.loads(row["dossier_ctx"]),
            links=[json.loads(row["edition_ctx"])],
            announced_arobases=final_arobases(int(score["arobases"]), row["jury_arobases"]),
        )
        return 1

    async def _maybe_rectify(self, tx: Tx, event: JuryDecided) -> None:
        """After the award, a jury decision that changes the arobases sends one rectificatif."""
        row = await tx.conn.fetchrow(
            """SELECT d.edition, d.revision, d.collectivite, d.announced_arobases, d.trace_context,
                      e.ceremony, e.service_labels, s.payload AS score, m.payload AS mentions,
                      (SELECT max(coalesce(n.sent_at, n.created_at)) FROM notifications n
                       WHERE n.submission_id = d.submission_id AND n.kind IN ('award', 'rectificatif'))
                        AS previous_message_at
               FROM dossiers d
               JOIN editions e ON e.edition = d.edition
               JOIN results s ON s.submission_id = d.submission_id AND s.kind = 'score'
               JOIN results m ON m.submission_id = d.submission_id AND m.kind = 'mentions'
               WHERE d.submission_id = $1 AND d.announced_arobases IS NOT NULL
               FOR UPDATE OF d""",
            event.submission_id,
        )
        award = render.notification_id(NotificationKind.AWARD, event.submission_id)
        if row is None or row["announced_arobases"] == event.arobases:
            return  # no award announced yet (the award will carry the decision), or nothing changed
        if not await tx.conn.fetchval("SELECT true FROM notifications WHERE notification_id = $1", award):
            return
        collectivite = json.loads(row["collectivite"])
        nid = render.notification_id(NotificationKind.RECTIFICATIF, event.submission_id, event.event_id)
        message = render.render_award(
            notification=nid,
            to=collectivite["contact_email"],
            collectivite=collectivite,
            edition=row["edition"],
            submission_id=event.submission_id,
            score=json.loads(row["score"]),
            mentions=json.loads(row["mentions"]),
            jury={
                "arobases": event.arobases,
                "comment": event.comment,
                "decided_by": event.decided_by,
                "mentions": [m.model_dump(mode="json") for m in event.mentions] if event.mentions is not None else None,
            },
            ceremony=json.loads(row["ceremony"]) if row["ceremony"] else None,
            sender=self._sender,
            at=utcnow(),
            previous_arobases=row["announced_arobases"],
            previous_message_at=row["previous_message_at"],
            service_labels=json.loads(row["service_labels"]),
        )
        await _queue(
            tx,
            nid,
            NotificationKind.RECTIFICATIF,
            event.submission_id,
            row["revision"],
            row["edition"],
            collectivite["code"],
            collectivite["contact_email"],
            message.as_bytes(),
            message["Message-ID"],
            trace_context=json.loads(row["trace_context"]),
            links=[telemetry.inject_current()],
            announced_arobases=event.arobases,
        )


_BEFORE_EVERY_ID = UUID(int=0)

_EDITIONS_TO_AWARD = """
SELECT edition, awards_requested FROM editions
WHERE awards_requested > awards_scanned AND published_at IS NOT NULL
ORDER BY edition"""

# The dossiers whose award is due: the conditions of `_maybe_award`, which checks them again.
_AWARD_CANDIDATES = """
SELECT d.submission_id
FROM dossiers d
JOIN editions e ON e.edition = d.edition
JOIN results s ON s.submission_id = d.submission_id AND s.kind = 'score'
JOIN results m ON m.submission_id = d.submission_id AND m.kind = 'mentions'
WHERE d.edition = $1 AND d.submission_id > $2
  AND e.published_at IS NOT NULL AND e.jury_events_seen >= e.jury_events_expected
  AND (s.revision, s.grille_version) = (d.revision, coalesce(e.grille_version, 0))
  AND (m.revision, m.grille_version) = (d.revision, coalesce(e.grille_version, 0))
  AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.submission_id = d.submission_id AND n.kind = 'award')
ORDER BY d.submission_id
LIMIT $3
FOR UPDATE OF d SKIP LOCKED"""


async def _upsert_result(
    tx: Tx, submission_id: UUID, kind: str, revision: int, grille_version: int, payload: str
) -> bool:
    """Keep the newest result of a kind; True when the dossier's edition has its palmarès published.

    The check rides on the write (one round trip): until the palmarès, the
    common case, no award can be due and the award join is not run.
    """
    published: bool = await tx.conn.fetchval(
        """WITH kept AS (
               INSERT INTO results (submission_id, kind, revision, grille_version, payload)
               VALUES ($1, $2, $3, $4, $5::jsonb)
               ON CONFLICT (submission_id, kind) DO UPDATE SET revision = EXCLUDED.revision,
                 grille_version = EXCLUDED.grille_version, payload = EXCLUDED.payload
               WHERE (results.revision, results.grille_version) <= (EXCLUDED.revision, EXCLUDED.grille_version)
           )
           SELECT EXISTS (SELECT 1 FROM dossiers d JOIN editions e USING (edition)
                          WHERE d.submission_id = $1 AND e.published_at IS NOT NULL)""",
        submission_id,
        kind,
        revision,
        grille_version,
        payload,
    )
    return published


async def _queue(
    tx: Tx,
    nid: UUID,
    kind: NotificationKind,
    submission_id: UUID,
    revision: int,
    edition: int,
    code: str,
    to: str,
    message: bytes,
    message_id: str,
    *,
    trace_context: dict[str, Any] | None = None,
    links: list[dict[str, Any]] | None = None,
    announced_arobases: int | None = None,
) -> None:
    """Store the email as `pending` and wake the senders at commit (with the arobases it announces, if any).

    One statement: on the hot paths a round trip costs notify and PostgreSQL
    more CPU than the writes themselves.
    """
    await tx.conn.execute(
        _QUEUE,
        nid,
        kind.value,
        submission_id,
        revision,
        edition,
        code,
        to,
        message_id,
        message,
        json.dumps(trace_context if trace_context is not None else telemetry.inject_current()),
        json.dumps([link for link in (links or []) if link.get("traceparent")]),
        MAIL_CHANNEL,
        announced_arobases,
    )


_QUEUE = """
WITH queued AS (
    INSERT INTO notifications (notification_id, kind, submission_id, revision, edition, collectivite_code,
                               to_addr, message_id, message, trace_context, links)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb, $11::jsonb)
    ON CONFLICT (notification_id) DO NOTHING
), announced AS (
    UPDATE dossiers SET announced_arobases = $13::int WHERE submission_id = $3 AND $13::int IS NOT NULL
)
SELECT pg_notify($12, '')"""

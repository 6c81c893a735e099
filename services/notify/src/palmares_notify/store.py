"""notify's tables: what it learned of dossiers, results, jury decisions and editions, and the emails it queued.

Every statement of the handlers is here, each returning typed rows; the JSON
columns come back decoded. The event payloads kept as they were received
(the score, the mentions) stay JSON objects: the letters read them as such.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from palmares_contracts import GrillePublished, JuryDecided, NotificationKind, PalmaresPublished
from palmares_eventkit import outbox
from palmares_eventkit.db import Connection

from palmares_notify.awards import Announcement, AwardState, Version

Pool = asyncpg.Pool
"""The service's connection pool, named here so that the handlers need not import the driver."""

JSON = dict[str, Any]
"""A JSON object as stored (an event's payload, a collectivité, a trace context)."""


def _json(value: str | None) -> Any:
    return json.loads(value) if value is not None else None


# --- what the handlers write --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewDossier:
    """A dossier's revision to keep, with the id its receipt would have."""

    submission_id: UUID
    edition: int
    code: str
    revision: int
    collectivite: str  # JSON
    trace: JSON
    receipt: UUID


# The rows in the order read, as one statement at a time would treat them: a row's receipt is due when
# its revision is newer than the dossier's kept one and than those of the batch's earlier rows for it,
# and the receipt is not known yet. The dossier keeps the newest revision (the first row of a tie).
_UPSERT_DOSSIERS = """
WITH input AS (
    SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::int[], $5::text[], $6::text[], $7::uuid[])
        WITH ORDINALITY AS u(submission_id, edition, code, revision, collectivite, trace, receipt, i)
), judged AS (
    SELECT i.i, i.receipt, i.revision > greatest(
            (SELECT d.revision FROM dossiers d WHERE d.submission_id = i.submission_id),
            max(i.revision) OVER (PARTITION BY i.submission_id ORDER BY i.i
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
            0) AS newer
    FROM input i
), newest AS (
    SELECT DISTINCT ON (submission_id) * FROM input ORDER BY submission_id, revision DESC, i
), kept AS (
    INSERT INTO dossiers (submission_id, edition, collectivite_code, revision, collectivite, trace_context)
    SELECT submission_id, edition, code, revision, collectivite::jsonb, trace::jsonb FROM newest
    ON CONFLICT (submission_id) DO UPDATE SET revision = EXCLUDED.revision,
      collectivite = EXCLUDED.collectivite, trace_context = EXCLUDED.trace_context
    WHERE dossiers.revision < EXCLUDED.revision
)
SELECT j.newer AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.notification_id = j.receipt) AS due
FROM judged j ORDER BY j.i"""


async def upsert_dossiers(conn: Connection, rows: Sequence[NewDossier]) -> list[bool]:
    """Keep each dossier's newest revision; for each row, whether its receipt is still to be queued.

    False when the row's revision is not newer than the one kept (or than an
    earlier row's of the batch), or when its receipt is already known: a rebuild
    from the log replays every dossier, and the receipts restored as sent are not
    rendered again for nothing. One round trip for a batch.
    """
    if not rows:
        return []
    found = await conn.fetch(
        _UPSERT_DOSSIERS,
        [r.submission_id for r in rows],
        [r.edition for r in rows],
        [r.code for r in rows],
        [r.revision for r in rows],
        [r.collectivite for r in rows],
        [json.dumps(r.trace) for r in rows],
        [r.receipt for r in rows],
    )
    return [bool(r["due"]) for r in found]


async def upsert_result(conn: Connection, submission_id: UUID, kind: str, version: Version, payload: str) -> bool:
    """Keep the newest result of a kind; True when the dossier's edition has its palmarès published.

    The check rides on the write (one round trip): until the palmarès, the
    common case, no award can be due and the award join is not run. As in
    `publication_of`, the edition's row is held in share mode until the
    transaction ends: a publication waits for this result, so that the award
    pass it asks for sees it.
    """
    published: bool = await conn.fetchval(
        """WITH kept AS (
               INSERT INTO results (submission_id, kind, revision, grille_version, payload)
               VALUES ($1, $2, $3, $4, $5::jsonb)
               ON CONFLICT (submission_id, kind) DO UPDATE SET revision = EXCLUDED.revision,
                 grille_version = EXCLUDED.grille_version, payload = EXCLUDED.payload
               WHERE (results.revision, results.grille_version) <= (EXCLUDED.revision, EXCLUDED.grille_version)
           ), edition AS (
               SELECT e.published_at IS NOT NULL AS published
               FROM dossiers d JOIN editions e ON e.edition = d.edition
               WHERE d.submission_id = $1
               FOR SHARE OF e
           )
           SELECT coalesce((SELECT published FROM edition), false)""",
        submission_id,
        kind,
        version.revision,
        version.grille_version,
        payload,
    )
    return published


async def publication_of(conn: Connection, submission_ids: Sequence[UUID]) -> dict[UUID, bool]:
    """For the dossiers notify knows among these: whether their edition has its palmarès published.

    Their editions' rows are locked in share mode until the transaction ends: the
    palmarès cannot be published meanwhile (its `UPDATE` waits for this commit),
    so a result written later in this transaction as « not published » is seen
    by the award pass the publication asks for. One round trip for a batch.
    """
    rows = await conn.fetch(
        """SELECT d.submission_id, e.published_at IS NOT NULL AS published
           FROM dossiers d JOIN editions e ON e.edition = d.edition
           WHERE d.submission_id = ANY($1::uuid[])
           FOR SHARE OF e""",
        list(submission_ids),
    )
    return {r["submission_id"]: r["published"] for r in rows}


@dataclass(frozen=True, slots=True)
class NewResult:
    """A result (`score` or `mentions`) to keep, its event as JSON."""

    submission_id: UUID
    kind: str
    version: Version
    payload: str


async def upsert_results(conn: Connection, rows: Sequence[NewResult]) -> None:
    """Keep the newest result of each kind, for many dossiers in one statement (`upsert_result` without its answer).

    Rows for one dossier and kind reduce to the newest first (later wins a tie, as
    one statement at a time would): `ON CONFLICT DO UPDATE` may touch a row once only.
    """
    newest: dict[tuple[UUID, str], NewResult] = {}
    for row in rows:
        kept = newest.get((row.submission_id, row.kind))
        if kept is None or (kept.version.revision, kept.version.grille_version) <= (
            row.version.revision,
            row.version.grille_version,
        ):
            newest[(row.submission_id, row.kind)] = row
    kept_rows = list(newest.values())
    await conn.execute(
        """INSERT INTO results (submission_id, kind, revision, grille_version, payload)
           SELECT s, k, r, g, p::jsonb FROM unnest($1::uuid[], $2::text[], $3::int[], $4::int[], $5::text[])
             AS u(s, k, r, g, p)
           ON CONFLICT (submission_id, kind) DO UPDATE SET revision = EXCLUDED.revision,
             grille_version = EXCLUDED.grille_version, payload = EXCLUDED.payload
           WHERE (results.revision, results.grille_version) <= (EXCLUDED.revision, EXCLUDED.grille_version)""",
        [r.submission_id for r in kept_rows],
        [r.kind for r in kept_rows],
        [r.version.revision for r in kept_rows],
        [r.version.grille_version for r in kept_rows],
        [r.payload for r in kept_rows],
    )


async def save_jury(conn: Connection, event: JuryDecided) -> None:
    """Keep the dossier's latest jury decision (the mentions it granted: None when it did not rule on them)."""
    await conn.execute(
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


@dataclass(frozen=True, slots=True)
class JuryEvents:
    """How many jury decisions of an edition notify read, and how many the palmarès said to wait for."""

    seen: int
    expected: int


async def count_jury_event(conn: Connection, edition: int) -> JuryEvents:
    row = await conn.fetchrow(
        """INSERT INTO editions (edition, jury_events_seen) VALUES ($1, 1)
           ON CONFLICT (edition) DO UPDATE SET jury_events_seen = editions.jury_events_seen + 1
           RETURNING jury_events_seen, jury_events_expected""",
        edition,
    )
    assert row is not None  # an upsert returns its row
    return JuryEvents(row["jury_events_seen"], row["jury_events_expected"])


async def save_grille(conn: Connection, event: GrillePublished) -> None:
    """The edition's latest grille version, and the French labels of its services (older versions change nothing)."""
    await conn.execute(
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


async def save_palmares(conn: Connection, event: PalmaresPublished, trace: JSON) -> None:
    await conn.execute(
        """INSERT INTO editions (edition, published_at, ceremony, trace_context, distinctions, jury_events_expected)
           VALUES ($1, $2, $3::jsonb, $4::jsonb, $5::jsonb, $6)
           ON CONFLICT (edition) DO UPDATE SET published_at = EXCLUDED.published_at,
             ceremony = EXCLUDED.ceremony, trace_context = EXCLUDED.trace_context,
             distinctions = EXCLUDED.distinctions, jury_events_expected = EXCLUDED.jury_events_expected""",
        event.edition,
        event.published_at,
        event.ceremony.model_dump_json() if event.ceremony else None,
        json.dumps(trace),
        json.dumps([d.model_dump(mode="json") for d in event.distinctions]),
        event.jury_decisions,
    )


async def request_awards(conn: Connection, edition: int) -> None:
    """Ask for a pass of the award loop over a published edition."""
    await conn.execute(
        "UPDATE editions SET awards_requested = awards_requested + 1 WHERE edition = $1 AND published_at IS NOT NULL",
        edition,
    )


# --- the award join -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Jury:
    """The dossier's latest jury decision as notify keeps it."""

    arobases: int
    comment: str
    decided_by: str
    mentions: tuple[JSON, ...] | None  # the mentions it granted; None: it did not rule on them

    def letter(self) -> JSON:
        """What the letters read of it (`render.render_award`'s `jury`)."""
        return {
            "arobases": self.arobases,
            "comment": self.comment,
            "decided_by": self.decided_by,
            "mentions": list(self.mentions) if self.mentions is not None else None,
        }


@dataclass(frozen=True, slots=True)
class Edition:
    """A published edition, as its award emails show it."""

    ceremony: JSON | None
    distinctions: dict[str, tuple[str, ...]]  # the labels of each distinguished collectivité, by code
    service_labels: dict[str, str]
    trace: JSON

    def distinctions_of(self, code: str) -> list[str]:
        return list(self.distinctions.get(code, ()))


@dataclass(frozen=True, slots=True)
class Dossier:
    """A dossier with its edition, its results and the jury's decision: what an award or a rectificatif needs."""

    submission_id: UUID
    edition: int
    revision: int
    collectivite: JSON
    trace: JSON
    published: Edition | None  # None until the palmarès of its edition is published
    score: JSON | None  # the SubmissionScored kept
    mentions: JSON | None  # the MentionsDetected kept
    jury: Jury | None
    announced: Announcement | None  # what its award or last rectificatif announced (None: nothing yet)
    state: AwardState

    @property
    def code(self) -> str:
        return str(self.collectivite["code"])

    @property
    def contact_email(self) -> str:
        return str(self.collectivite["contact_email"])


# What an award or a rectificatif needs of a dossier; the edition's own columns (its distinctions,
# labels, ceremony) are the same for every dossier of an edition: the award pass reads them once.
_DOSSIER_COLUMNS = """
d.submission_id, d.edition, d.revision, d.collectivite, d.trace_context AS dossier_ctx, d.announced_arobases,
d.announced_mentions,
e.published_at, e.grille_version, coalesce(e.jury_events_seen, 0) AS jury_events_seen,
coalesce(e.jury_events_expected, 0) AS jury_events_expected,
s.payload AS score, s.revision AS score_rev, s.grille_version AS score_gv,
m.payload AS mentions, m.revision AS mentions_rev, m.grille_version AS mentions_gv,
j.arobases AS jury_arobases, j.comment AS jury_comment, j.decided_by, j.mentions AS jury_mentions,
EXISTS (SELECT 1 FROM notifications n WHERE n.submission_id = d.submission_id AND n.kind = 'award')
  AS award_queued"""
_EDITION_COLUMNS = "e.ceremony, e.trace_context AS edition_ctx, e.distinctions, e.service_labels"
_DOSSIER_FROM = """
FROM dossiers d
LEFT JOIN editions e ON e.edition = d.edition
LEFT JOIN results s ON s.submission_id = d.submission_id AND s.kind = 'score'
LEFT JOIN results m ON m.submission_id = d.submission_id AND m.kind = 'mentions'
LEFT JOIN jury_decisions j ON j.submission_id = d.submission_id"""
_DOSSIER = f"SELECT {_DOSSIER_COLUMNS}, {_EDITION_COLUMNS} {_DOSSIER_FROM} WHERE d.submission_id = $1"
_DOSSIERS = (
    f"SELECT {_DOSSIER_COLUMNS} {_DOSSIER_FROM} WHERE d.submission_id = ANY($1::uuid[]) ORDER BY d.submission_id"
)
_PUBLISHED_EDITION = f"SELECT {_EDITION_COLUMNS} FROM editions e WHERE e.edition = $1 AND e.published_at IS NOT NULL"


async def dossier(conn: Connection, submission_id: UUID, *, lock: bool = False) -> Dossier | None:
    """The dossier and all notify knows around it (`lock`: its row locked until the transaction ends).

    With `lock`, the row is locked first, in a statement of its own, and then
    read: under READ COMMITTED the read takes its snapshot once the lock is
    held, so it sees what the transaction that held the lock before committed
    (its result, its jury decision). Locked and read in one statement, the
    read would keep the snapshot taken before waiting for the lock.
    """
    if lock:
        await conn.execute("SELECT FROM dossiers WHERE submission_id = $1 FOR UPDATE", submission_id)
    row = await conn.fetchrow(_DOSSIER, submission_id)
    if row is None:
        return None
    return _dossier(row, _edition(row) if row["published_at"] is not None else None)


async def award_dossiers(conn: Connection, edition: int, submission_ids: Sequence[UUID]) -> list[Dossier]:
    """Dossiers of one edition (by id, those found), as `dossier` reads them, in two statements for all.

    The award pass's chunk (`award_candidates` locked them): the edition's
    columns are read once instead of once per dossier.
    """
    rows = await conn.fetch(_DOSSIERS, list(submission_ids))
    found = await conn.fetchrow(_PUBLISHED_EDITION, edition)
    published = _edition(found) if found is not None else None
    return [_dossier(r, published if r["published_at"] is not None else None) for r in rows if r["edition"] == edition]


def _version(revision: int | None, grille_version: int | None) -> Version | None:
    return Version(revision, grille_version) if revision is not None and grille_version is not None else None


def _edition(r: asyncpg.Record) -> Edition:
    # Indexed by code once per read: an award pass asks for one collectivité's among thousands.
    by_code: dict[str, list[str]] = {}
    for d in json.loads(r["distinctions"]):
        by_code.setdefault(d["collectivite_code"], []).append(d["label"])
    return Edition(
        ceremony=_json(r["ceremony"]),
        distinctions={code: tuple(labels) for code, labels in by_code.items()},
        service_labels=json.loads(r["service_labels"]),
        trace=json.loads(r["edition_ctx"]),
    )


def _dossier(r: asyncpg.Record, published: Edition | None) -> Dossier:
    return Dossier(
        submission_id=r["submission_id"],
        edition=r["edition"],
        revision=r["revision"],
        collectivite=json.loads(r["collectivite"]),
        trace=json.loads(r["dossier_ctx"]),
        published=published,
        score=_json(r["score"]),
        mentions=_json(r["mentions"]),
        jury=Jury(
            arobases=r["jury_arobases"],
            comment=r["jury_comment"],
            decided_by=r["decided_by"],
            mentions=tuple(_json(r["jury_mentions"])) if r["jury_mentions"] is not None else None,
        )
        if r["jury_arobases"] is not None
        else None,
        announced=Announcement(
            arobases=r["announced_arobases"],
            mentions=frozenset(json.loads(r["announced_mentions"])) if r["announced_mentions"] is not None else None,
        )
        if r["announced_arobases"] is not None
        else None,
        state=AwardState(
            palmares_published=published is not None,
            jury_events_seen=r["jury_events_seen"],
            jury_events_expected=r["jury_events_expected"],
            revision=r["revision"],
            grille_version=r["grille_version"],
            score=_version(r["score_rev"], r["score_gv"]),
            mentions=_version(r["mentions_rev"], r["mentions_gv"]),
            award_queued=r["award_queued"],
        ),
    )


async def last_message_at(conn: Connection, submission_id: UUID) -> datetime | None:
    """When the dossier's latest award or rectificatif was sent (or queued, if not sent yet)."""
    at: datetime | None = await conn.fetchval(
        """SELECT max(coalesce(sent_at, created_at)) FROM notifications
           WHERE submission_id = $1 AND kind IN ('award', 'rectificatif')""",
        submission_id,
    )
    return at


# --- the awards of an edition, in chunks --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AwardPass:
    """An edition that asked for a pass of the award loop, and how many passes it asked for so far."""

    edition: int
    requested: int


async def editions_to_award(conn: Connection | asyncpg.Pool) -> list[AwardPass]:
    rows = await conn.fetch(
        """SELECT edition, awards_requested FROM editions
           WHERE awards_requested > awards_scanned AND published_at IS NOT NULL
           ORDER BY edition"""
    )
    return [AwardPass(r["edition"], r["awards_requested"]) for r in rows]


async def awards_scanned(conn: Connection | asyncpg.Pool, done: AwardPass) -> None:
    await conn.execute(
        "UPDATE editions SET awards_scanned = GREATEST(awards_scanned, $2) WHERE edition = $1",
        done.edition,
        done.requested,
    )


# The dossiers whose award is due (`awards.award_due`, written in SQL to lock and read only those;
# tests/runtime/test_notify_service.py checks the two agree). The handler checks the rule again.
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


async def award_candidates(conn: Connection, edition: int, after: UUID, limit: int) -> list[UUID]:
    """Up to `limit` dossiers of the edition after `after` (by id) whose award is due, locked (others skipped)."""
    return [r["submission_id"] for r in await conn.fetch(_AWARD_CANDIDATES, edition, after, limit)]


# --- the emails ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Email:
    """A rendered email to queue, with what it is about."""

    notification_id: UUID
    kind: NotificationKind
    submission_id: UUID
    revision: int
    edition: int
    collectivite_code: str
    to: str
    message_id: str
    message: bytes
    trace: JSON
    links: Sequence[Mapping[str, Any]] = ()
    announced: Announcement | None = None  # the final arobases and mentions it announces (award, rectificatif)

    def event_fields(self) -> dict[str, Any]:
        """The fields of its `NotificationSent` or `NotificationFailed`."""
        return {
            "notification_id": self.notification_id,
            "kind": self.kind,
            "collectivite_code": self.collectivite_code,
            "edition": self.edition,
            "to": self.to,
            "message_id": self.message_id,
            "submission_id": self.submission_id,
            "revision": self.revision,
        }


MAIL_CHANNEL = "notify_mail"
"""The LISTEN/NOTIFY channel that wakes the senders when emails are queued."""


async def queue(conn: Connection, emails: Sequence[Email]) -> None:
    """Store the emails as `pending` and wake the senders at commit (with the arobases and mentions each announces).

    One statement for many (a batch of receipts goes through `Tx.write`): on the
    hot paths a round trip costs notify and PostgreSQL more CPU than the writes
    themselves. As one call per email would: an email already queued is kept (the
    first of a notification id wins), and a dossier's announcement is the last one.
    """
    first = list({e.notification_id: e for e in reversed(emails)}.values())[::-1]
    announced = {e.submission_id: e.announced for e in emails if e.announced is not None}
    await conn.execute(
        _QUEUE,
        [e.notification_id for e in first],
        [e.kind.value for e in first],
        [e.submission_id for e in first],
        [e.revision for e in first],
        [e.edition for e in first],
        [e.collectivite_code for e in first],
        [e.to for e in first],
        [e.message_id for e in first],
        [e.message for e in first],
        [json.dumps(e.trace) for e in first],
        [json.dumps([link for link in e.links if link.get("traceparent")]) for e in first],
        MAIL_CHANNEL,
        list(announced),
        [a.arobases for a in announced.values()],
        [json.dumps(sorted(a.mentions)) if a.mentions is not None else None for a in announced.values()],
    )


_QUEUE = """
WITH queued AS (
    INSERT INTO notifications (notification_id, kind, submission_id, revision, edition, collectivite_code,
                               to_addr, message_id, message, trace_context, links)
    SELECT n, k, s, r, e, c, t, m, b, tc::jsonb, l::jsonb
    FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::int[], $5::int[], $6::text[], $7::text[], $8::text[],
                $9::bytea[], $10::text[], $11::text[]) WITH ORDINALITY AS u(n, k, s, r, e, c, t, m, b, tc, l, i)
    ORDER BY i
    ON CONFLICT (notification_id) DO NOTHING
), announced AS (
    UPDATE dossiers d SET announced_arobases = a.arobases, announced_mentions = a.mentions::jsonb
    FROM unnest($13::uuid[], $14::int[], $15::text[]) AS a(submission_id, arobases, mentions)
    WHERE d.submission_id = a.submission_id
)
SELECT pg_notify($12, '')"""


# --- the deliveries ------------------------------------------------------------------------------

# The next due emails, locked for one delivery pass (`FOR UPDATE SKIP LOCKED`: parallel senders
# never take the same email); `attempts` is the count before this attempt.
_TAKE_DUE = """
SELECT notification_id, kind, submission_id, revision, edition, collectivite_code, to_addr, message_id,
       message, trace_context, links, attempts
FROM notifications
WHERE status = 'pending' AND next_attempt_at <= now()
ORDER BY next_attempt_at, created_at
LIMIT $1
FOR UPDATE SKIP LOCKED"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Taken(Email):
    """An email taken for delivery (`take_due`), its row locked until the transaction ends."""

    attempts: int  # before this attempt


async def take_due(conn: Connection, limit: int) -> list[Taken]:
    """Lock the next `limit` due emails at most, oldest due first (an empty list when none is due)."""
    return [
        Taken(
            notification_id=row["notification_id"],
            kind=NotificationKind(row["kind"]),
            submission_id=row["submission_id"],
            revision=row["revision"],
            edition=row["edition"],
            collectivite_code=row["collectivite_code"],
            to=row["to_addr"],
            message_id=row["message_id"],
            message=bytes(row["message"]),
            trace=json.loads(row["trace_context"]),
            links=json.loads(row["links"]),
            attempts=row["attempts"],
        )
        for row in await conn.fetch(_TAKE_DUE, limit)
    ]


async def mark_sent(
    conn: Connection, notification_ids: Sequence[UUID], events: Sequence[outbox.OutboxRow], *, schema: str
) -> None:
    """Write these taken emails `sent`, each with its attempt, and the batch's events, in one statement."""
    await conn.execute(_MARK_SENT, list(notification_ids), *outbox.insert_args(events, schema=schema))


_MARK_SENT = f"""WITH sent AS (
    UPDATE notifications SET status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = NULL
    WHERE notification_id = ANY($1::uuid[])
    RETURNING notification_id, attempts
), {outbox.insert_cte(2)}
INSERT INTO delivery_attempts (notification_id, attempt, outcome, detail)
SELECT notification_id, attempts, 'sent', NULL FROM sent
ON CONFLICT DO NOTHING"""


async def record_attempt(
    conn: Connection, notification_id: UUID, attempt: int, outcome: str, detail: str | None
) -> None:
    await conn.execute(
        "INSERT INTO delivery_attempts (notification_id, attempt, outcome, detail) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT DO NOTHING",
        notification_id,
        attempt,
        outcome,
        detail,
    )


async def retry_later(conn: Connection, notification_id: UUID, attempts: int, delay_s: float, error: str) -> None:
    """Back to `pending`, due again in `delay_s` seconds."""
    await conn.execute(
        "UPDATE notifications SET status = 'pending', sent_at = NULL, attempts = $2, "
        "next_attempt_at = now() + make_interval(secs => $3), last_error = $4 WHERE notification_id = $1",
        notification_id,
        attempts,
        delay_s,
        error,
    )


async def give_up(conn: Connection, notification_id: UUID, attempts: int, error: str) -> None:
    await conn.execute(
        "UPDATE notifications SET status = 'failed', sent_at = NULL, attempts = $2, last_error = $3 "
        "WHERE notification_id = $1",
        notification_id,
        attempts,
        error,
    )

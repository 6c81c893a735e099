"""SQL of the submission service (its own schema; it never reads another service's tables)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
from palmares_contracts import CategoryOverride, Ceremony, Grille, SubmissionReceived
from palmares_eventkit import outbox
from palmares_eventkit.db import Connection
from palmares_label.final import final_arobases

from palmares_submission.calendar import Reopening
from palmares_submission.domain.campaign import Edition
from palmares_submission.domain.dossier import Revision


@dataclass(frozen=True, slots=True)
class CollectiviteRow:
    code: str
    kind: str
    name: str
    population: int
    departement: str
    category: str
    contact_email: str


_COLLECTIVITE_COLUMNS = ("code", "kind", "name", "population", "departement", "category", "contact_email")


async def collectivite_by_token(conn: Connection, token_hash: bytes) -> CollectiviteRow | None:
    row = await conn.fetchrow(
        "SELECT code, kind, name, population, departement, category, contact_email "
        "FROM collectivites WHERE token_hash = $1",
        token_hash,
    )
    return CollectiviteRow(**dict(row)) if row else None


async def insert_collectivite(conn: Connection, c: CollectiviteRow, token_hash: bytes) -> bool:
    """False if the collectivité is already registered."""
    status = await conn.execute(
        """INSERT INTO collectivites (code, kind, name, population, departement, category, contact_email, token_hash,
                                      token_issued_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now()) ON CONFLICT (code) DO NOTHING""",
        c.code,
        c.kind,
        c.name,
        c.population,
        c.departement,
        c.category,
        c.contact_email,
        token_hash,
    )
    return bool(status.endswith(" 1"))


async def rotate_token(conn: Connection, code: str, token_hash: bytes) -> CollectiviteRow | None:
    row = await conn.fetchrow(
        "UPDATE collectivites SET token_hash = $2, token_issued_at = now(), token_revoked_at = NULL WHERE code = $1 "
        "RETURNING code, kind, name, population, departement, category, contact_email",
        code,
        token_hash,
    )
    return CollectiviteRow(**dict(row)) if row else None


async def revoke_token(conn: Connection, code: str) -> bool:
    """Forget the token's hash: no token opens the collectivité's data any more (False: not registered)."""
    row = await conn.fetchval(
        "UPDATE collectivites SET token_hash = NULL, token_revoked_at = coalesce(token_revoked_at, now()) "
        "WHERE code = $1 RETURNING true",
        code,
    )
    return bool(row)


async def edition(conn: Connection, edition: int, *, for_update: bool = False) -> Edition | None:
    row = await conn.fetchrow(
        "SELECT edition, grille_version, palmares_published_at FROM editions WHERE edition = $1"
        + (" FOR UPDATE" if for_update else ""),
        edition,
    )
    return Edition(**dict(row)) if row else None


# Published grille versions never change: parse each one once per process.
_GRILLES: dict[tuple[int, int], Grille] = {}


async def current_grille(conn: Connection, edition: int) -> Grille | None:
    version = await conn.fetchval("SELECT grille_version FROM editions WHERE edition = $1", edition)
    if version is None:
        return None
    return await grille_version(conn, edition, version)


async def save_grille(conn: Connection, grille: Grille) -> None:
    await conn.execute(
        "INSERT INTO grilles (edition, version, grille) VALUES ($1, $2, $3::jsonb)",
        grille.edition,
        grille.version,
        grille.model_dump_json(),
    )
    await conn.execute(
        """INSERT INTO editions (edition, grille_version) VALUES ($1, $2)
           ON CONFLICT (edition) DO UPDATE SET grille_version = EXCLUDED.grille_version""",
        grille.edition,
        grille.version,
    )


async def count_jury_event(conn: Connection, edition: int) -> None:
    """One more `JuryDecided` of the edition published: the palmarès tells notify how many came before it."""
    await conn.execute("UPDATE editions SET jury_events = jury_events + 1 WHERE edition = $1", edition)


async def jury_events(conn: Connection, edition: int) -> int:
    """How many `JuryDecided` of the edition this service published (the palmarès tells notify to wait for them)."""
    return int(await conn.fetchval("SELECT jury_events FROM editions WHERE edition = $1", edition) or 0)


async def published_editions(conn: Connection) -> set[int]:
    """The editions whose palmarès this service published."""
    rows = await conn.fetch("SELECT edition FROM editions WHERE palmares_published_at IS NOT NULL")
    return {r["edition"] for r in rows}


async def publish_palmares(conn: Connection, edition: int, at: datetime, ceremony: Ceremony | None) -> None:
    await conn.execute(
        "UPDATE editions SET palmares_published_at = $2, ceremony = $3::jsonb WHERE edition = $1",
        edition,
        at,
        ceremony.model_dump_json() if ceremony else None,
    )


@dataclass(frozen=True, slots=True)
class SubmitContext:
    """What a submission needs to know, read in one round trip (see `submit_context`)."""

    collectivite: CollectiviteRow
    edition: Edition | None
    existing: Revision | None  # the dossier's current revision, locked
    replay: Replay | None  # an earlier request with the same idempotency key
    override: CategoryOverride | None = None  # an operator's decision on the category for the edition
    reopening: Reopening | None = None  # an operator reopened the dossier after the campaign closed


@dataclass(frozen=True, slots=True)
class Replay:
    """An earlier submission with the same idempotency key: the hash of its body and the revision it made."""

    request_hash: bytes
    accepted: Revision


async def submit_context(conn: Connection, edition: int, code: str, key: str | None, lock: str) -> SubmitContext:
    """Take the dossier's advisory lock `lock`, then read the collectivité, the edition, its dossier (locked
    until the transaction ends), any replay, the operator's decision on its category for the edition, and
    whether an operator reopened the dossier.

    One round trip instead of six: on the intake path a round trip costs the
    service and PostgreSQL more CPU than the reads. The function
    (migrations/0009_submit_context.sql) reads after the lock with a fresh
    snapshot, so it sees what a concurrent request for the same dossier committed.
    """
    row = await conn.fetchrow("SELECT * FROM submit_context($1, $2, $3, $4)", edition, code, key, lock)
    if row is None:
        raise LookupError(f"collectivité {code} is not registered")
    return SubmitContext(
        collectivite=CollectiviteRow(*(row[c] for c in _COLLECTIVITE_COLUMNS)),
        edition=Edition(row["edition"], row["grille_version"], row["palmares_published_at"])
        if row["edition"] is not None
        else None,
        existing=Revision(row["existing_id"], row["existing_revision"]) if row["existing_id"] is not None else None,
        replay=Replay(bytes(row["request_hash"]), Revision(row["replay_id"], row["replay_revision"]))
        if row["replay_id"] is not None
        else None,
        override=CategoryOverride(
            category=row["override_category"],
            reason=row["reason"],
            decided_by=row["decided_by"],
            decided_at=row["decided_at"],
        )
        if row["override_category"] is not None
        else None,
        reopening=Reopening(row["reopened_at"], row["reopened_until"]) if row["reopened_at"] is not None else None,
    )


async def grille_version(conn: Connection, edition: int, version: int) -> Grille:
    """A published grille version (parsed once per process: published versions never change)."""
    key = (edition, version)
    if key not in _GRILLES:
        raw = await conn.fetchval("SELECT grille FROM grilles WHERE edition = $1 AND version = $2", edition, version)
        _GRILLES[key] = Grille.model_validate_json(raw)
    return _GRILLES[key]


# The event's outbox row rides in the same statement ($6–$11), and its bytes are the revision's stored
# event too: the intake's write is one round trip, and the event is encoded once.
_SAVE_REVISION = f"""
WITH {outbox.insert_one_cte(6)}, dossier AS (
    INSERT INTO submissions (submission_id, edition, collectivite_code, revision, submitted_at)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (submission_id) DO UPDATE SET revision = EXCLUDED.revision, submitted_at = EXCLUDED.submitted_at
), revision AS (
    INSERT INTO submission_revisions (submission_id, revision, event, submitted_at, catalogue_withheld)
    VALUES ($1, $4, convert_from($9, 'UTF8')::jsonb, $5, coalesce(
        $14::int[],
        (SELECT catalogue_withheld FROM submission_revisions WHERE submission_id = $1 AND revision = $4 - 1),
        '{{}}'))
)
INSERT INTO idempotency_keys (collectivite_code, key, request_hash, submission_id, revision)
SELECT $3::text, $12::text, $13::bytea, $1::uuid, $4::int WHERE $12::text IS NOT NULL"""


async def save_revision(
    conn: Connection,
    event: SubmissionReceived,
    *,
    schema: str,
    idempotency: tuple[str, bytes] | None,
    catalogue_withheld: list[int] | None = None,
) -> None:
    """The dossier's new revision, its event (stored, and in the outbox) and its idempotency key, in one statement.

    `catalogue_withheld`: the positions of the actions kept out of the public catalogue
    (None: the previous revision's, as when an operator's decision makes the revision).
    The event leaves when (and only if) the caller's transaction commits, as `Tx.publish` would have it.
    """
    key, request_hash = idempotency if idempotency is not None else (None, None)
    await conn.execute(
        _SAVE_REVISION,
        event.submission_id,
        event.edition,
        event.collectivite.code,
        event.revision,
        event.submitted_at,
        *outbox.insert_one_args(outbox.prepare(event), schema=schema),
        key,
        request_hash,
        catalogue_withheld,
    )


@dataclass(frozen=True, slots=True)
class SubmissionRow:
    """A dossier: its current revision, and when its edition's palmarès was published (None: not yet)."""

    submission_id: UUID
    edition: int
    collectivite_code: str
    revision: int
    submitted_at: datetime
    palmares_published_at: datetime | None


async def submission(conn: Connection, submission_id: UUID) -> SubmissionRow | None:
    row = await conn.fetchrow(
        """SELECT s.submission_id, s.edition, s.collectivite_code, s.revision, s.submitted_at,
                  e.palmares_published_at
           FROM submissions s LEFT JOIN editions e ON e.edition = s.edition
           WHERE s.submission_id = $1""",
        submission_id,
    )
    return SubmissionRow(**dict(row)) if row else None


@dataclass(frozen=True, slots=True)
class ResultRow:
    """The newest result of a kind (`score`, `mentions`) for a dossier: the event that told it, as JSON."""

    kind: str
    revision: int
    grille_version: int
    payload: str

    def decoded(self) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self.payload)
        return decoded


async def results(conn: Connection, submission_id: UUID) -> dict[str, ResultRow]:
    """The dossier's results by kind."""
    rows = await conn.fetch(
        "SELECT kind, revision, grille_version, payload FROM results WHERE submission_id = $1", submission_id
    )
    return {r["kind"]: ResultRow(**dict(r)) for r in rows}


@dataclass(frozen=True, slots=True)
class NewResult:
    """A result of another service (`score` or `mentions`) for the status view, its event as JSON."""

    submission_id: UUID
    kind: str
    revision: int
    grille_version: int
    payload: str


async def upsert_results(conn: Connection, rows: Sequence[NewResult]) -> None:
    """Keep the newest result of each kind: by revision, then by grille version (one round trip for many).

    Rows for one dossier and kind are reduced to the newest first (later wins a tie, as
    one statement at a time would do): `ON CONFLICT DO UPDATE` may touch a row once only.
    """
    newest: dict[tuple[UUID, str], NewResult] = {}
    for row in rows:
        kept = newest.get((row.submission_id, row.kind))
        if kept is None or (kept.revision, kept.grille_version) <= (row.revision, row.grille_version):
            newest[(row.submission_id, row.kind)] = row
    kept_rows = list(newest.values())
    await conn.execute(
        """INSERT INTO results (submission_id, kind, revision, grille_version, payload)
           SELECT s, k, r, g, p::jsonb FROM unnest($1::uuid[], $2::text[], $3::int[], $4::int[], $5::text[]) AS u(s, k, r, g, p)
           ON CONFLICT (submission_id, kind) DO UPDATE
             SET revision = EXCLUDED.revision, grille_version = EXCLUDED.grille_version,
                 payload = EXCLUDED.payload, updated_at = now()
           WHERE (results.revision, results.grille_version) <= (EXCLUDED.revision, EXCLUDED.grille_version)""",
        [r.submission_id for r in kept_rows],
        [r.kind for r in kept_rows],
        [r.revision for r in kept_rows],
        [r.grille_version for r in kept_rows],
        [r.payload for r in kept_rows],
    )


@dataclass(frozen=True, slots=True)
class JuryRow:
    """The jury's decision on a dossier: on which revision (None: before decisions named it), the mentions it
    granted as JSON (None: it did not rule on them)."""

    arobases: int
    comment: str
    decided_by: str
    decided_at: datetime
    revision: int | None
    mentions: str | None


async def jury(conn: Connection, submission_id: UUID) -> JuryRow | None:
    row = await conn.fetchrow(
        "SELECT arobases, comment, decided_by, decided_at, revision, mentions FROM jury_decisions WHERE submission_id = $1",
        submission_id,
    )
    return JuryRow(**dict(row)) if row else None


async def save_jury(
    conn: Connection,
    submission_id: UUID,
    arobases: int,
    comment: str,
    decided_by: str,
    at: datetime,
    *,
    revision: int,
    mentions_json: str | None = None,
) -> None:
    """Record the jury's decision on `revision` of the dossier (`mentions_json`: the mentions it grants, if it ruled)."""
    await conn.execute(
        """INSERT INTO jury_decisions (submission_id, arobases, comment, decided_by, decided_at, revision, mentions)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
           ON CONFLICT (submission_id) DO UPDATE SET arobases = EXCLUDED.arobases, comment = EXCLUDED.comment,
             decided_by = EXCLUDED.decided_by, decided_at = EXCLUDED.decided_at,
             revision = EXCLUDED.revision, mentions = EXCLUDED.mentions""",
        submission_id,
        arobases,
        comment,
        decided_by,
        at,
        revision,
        mentions_json,
    )


@dataclass(frozen=True, slots=True)
class NotificationRow:
    """An email notify sent (or failed to send) about a dossier, as its status view lists it."""

    notification_id: UUID
    submission_id: UUID | None  # None: an email about no dossier in particular
    revision: int | None
    edition: int
    collectivite_code: str
    kind: str
    status: str  # sent | failed
    to: str
    message_id: str
    reason: str | None
    occurred_at: datetime


async def notifications(conn: Connection, submission_id: UUID) -> list[NotificationRow]:
    """The dossier's notifications, oldest first."""
    rows = await conn.fetch(
        """SELECT notification_id, submission_id, revision, edition, collectivite_code, kind, status,
                  to_addr AS "to", message_id, reason, occurred_at
           FROM notifications WHERE submission_id = $1 ORDER BY occurred_at""",
        submission_id,
    )
    return [NotificationRow(**dict(r)) for r in rows]


async def record_notifications(conn: Connection, rows: Sequence[NotificationRow]) -> None:
    """Record notifications, or their new state (a failed email sent at last); one round trip for many.

    The last state of each notification wins (rows come in the order of its events).
    """
    last = list({n.notification_id: n for n in rows}.values())
    await conn.execute(
        """INSERT INTO notifications (notification_id, submission_id, revision, edition, collectivite_code, kind,
                                      status, to_addr, message_id, reason, occurred_at)
           SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::int[], $5::text[], $6::text[],
                                $7::text[], $8::text[], $9::text[], $10::text[], $11::timestamptz[])
           ON CONFLICT (notification_id) DO UPDATE SET status = EXCLUDED.status, reason = EXCLUDED.reason,
             occurred_at = EXCLUDED.occurred_at""",
        [n.notification_id for n in last],
        [n.submission_id for n in last],
        [n.revision for n in last],
        [n.edition for n in last],
        [n.collectivite_code for n in last],
        [n.kind for n in last],
        [n.status for n in last],
        [n.to for n in last],
        [n.message_id for n in last],
        [n.reason for n in last],
        [n.occurred_at for n in last],
    )


# Starts like catalogue.DossierRow, kept apart on purpose: each row is what its own query reads.
@dataclass(frozen=True, slots=True)
class PalmaresRow:
    """A dossier of the edition as the palmarès reads it: its collectivité, pré-notation, detected mentions
    (JSON), and the jury's arobases and granted mentions (JSON; None where it did not rule)."""

    submission_id: UUID
    code: str
    name: str
    kind: str
    departement: str
    category: str
    pre_notation: int | None
    jury_arobases: int | None
    mentions: str | None
    jury_mentions: str | None


async def palmares_rows(conn: Connection, submission_ids: list[UUID]) -> list[PalmaresRow]:
    """These dossiers with their collectivité, results and jury decision (in no particular order)."""
    rows = await conn.fetch(
        """SELECT s.submission_id, c.code, c.name, c.kind, c.departement,
                  coalesce(sc.payload->>'category', c.category) AS category,
                  (sc.payload->>'arobases')::int AS pre_notation, j.arobases AS jury_arobases,
                  m.payload->'mentions' AS mentions, j.mentions AS jury_mentions
           FROM submissions s
           JOIN collectivites c ON c.code = s.collectivite_code
           LEFT JOIN results sc ON sc.submission_id = s.submission_id AND sc.kind = 'score'
           LEFT JOIN results m ON m.submission_id = s.submission_id AND m.kind = 'mentions'
           LEFT JOIN jury_decisions j ON j.submission_id = s.submission_id
           WHERE s.submission_id = ANY($1::uuid[])""",
        submission_ids,
    )
    return [PalmaresRow(**dict(r)) for r in rows]


@dataclass(frozen=True, slots=True)
class RankingRow:
    """A dossier of the edition reduced to what its place in the palmarès and its distinctions need."""

    submission_id: UUID
    code: str
    name: str
    category: str
    pre_notation: int | None
    jury_arobases: int | None


async def ranking_after(conn: Connection, edition: int, after: UUID, limit: int) -> list[RankingRow]:
    """The next `limit` dossiers of the edition by submission id, after `after` (`UUID(int=0)`: from the first)."""
    rows = await conn.fetch(
        """SELECT s.submission_id, c.code, c.name, coalesce(sc.payload->>'category', c.category) AS category,
                  (sc.payload->>'arobases')::int AS pre_notation, j.arobases AS jury_arobases
           FROM submissions s
           JOIN collectivites c ON c.code = s.collectivite_code
           LEFT JOIN results sc ON sc.submission_id = s.submission_id AND sc.kind = 'score'
           LEFT JOIN jury_decisions j ON j.submission_id = s.submission_id
           WHERE s.edition = $1 AND s.submission_id > $2
           ORDER BY s.submission_id
           LIMIT $3""",
        edition,
        after,
        limit,
    )
    return [RankingRow(**dict(r)) for r in rows]


async def label_history(conn: Connection, codes: list[str]) -> dict[str, dict[int, int]]:
    """Arobases by edition of each collectivité: the palmarès published here, and the imported history."""
    rows = await conn.fetch(
        """SELECT s.collectivite_code AS code, s.edition,
                  (r.payload->>'arobases')::int AS pre_notation, j.arobases AS jury_arobases
           FROM submissions s
           JOIN editions e ON e.edition = s.edition AND e.palmares_published_at IS NOT NULL
           LEFT JOIN jury_decisions j ON j.submission_id = s.submission_id
           LEFT JOIN results r ON r.submission_id = s.submission_id AND r.kind = 'score'
           WHERE s.collectivite_code = ANY($1::text[])
           UNION ALL
           -- an imported label: its arobases are final (no jury decision to apply)
           SELECT collectivite_code, edition, arobases, NULL::int FROM label_history h
           WHERE collectivite_code = ANY($1::text[])
             AND NOT EXISTS (SELECT 1 FROM editions e WHERE e.edition = h.edition AND e.palmares_published_at IS NOT NULL)""",
        codes,
    )
    history: dict[str, dict[int, int]] = {}
    for r in rows:
        arobases = final_arobases(r["pre_notation"], r["jury_arobases"])
        if arobases is not None:
            history.setdefault(r["code"], {})[r["edition"]] = arobases
    return history


async def import_labels(conn: Connection, entries: list[tuple[str, int, int]]) -> None:
    await conn.executemany(
        """INSERT INTO label_history (collectivite_code, edition, arobases) VALUES ($1, $2, $3)
           ON CONFLICT (collectivite_code, edition) DO UPDATE SET arobases = EXCLUDED.arobases, imported_at = now()""",
        entries,
    )


# --- category overrides (an operator's decision per collectivité and edition, audited) -----------

_OVERRIDE_COLUMNS = "category, reason, decided_by, decided_at"


def _override(row: asyncpg.Record) -> CategoryOverride:
    return CategoryOverride(
        category=row["category"], reason=row["reason"], decided_by=row["decided_by"], decided_at=row["decided_at"]
    )


async def category_overrides(conn: Connection, code: str, edition: int) -> list[CategoryOverride]:
    """Every decision on the collectivité's category for the edition, the latest (the one that applies) first."""
    rows = await conn.fetch(
        f"SELECT {_OVERRIDE_COLUMNS} FROM category_overrides "
        "WHERE collectivite_code = $1 AND edition = $2 ORDER BY id DESC",
        code,
        edition,
    )
    return [_override(r) for r in rows]


async def insert_category_override(conn: Connection, code: str, edition: int, override: CategoryOverride) -> None:
    await conn.execute(
        "INSERT INTO category_overrides (collectivite_code, edition, category, reason, decided_by, decided_at) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        code,
        edition,
        override.category.value,
        override.reason,
        override.decided_by,
        override.decided_at,
    )


async def collectivite(conn: Connection, code: str) -> CollectiviteRow | None:
    row = await conn.fetchrow(
        "SELECT code, kind, name, population, departement, category, contact_email FROM collectivites WHERE code = $1",
        code,
    )
    return CollectiviteRow(**dict(row)) if row else None


async def current_revision(
    conn: Connection, edition: int, code: str, *, for_update: bool = False
) -> SubmissionReceived | None:
    """The collectivité's dossier for the edition as it stands (its latest revision), None before the first.

    `for_update`: the dossier stays locked until the transaction ends (a command that revises it).
    """
    raw = await conn.fetchval(
        """SELECT r.event FROM submissions s
           JOIN submission_revisions r ON r.submission_id = s.submission_id AND r.revision = s.revision
           WHERE s.edition = $1 AND s.collectivite_code = $2"""
        + (" FOR UPDATE OF s" if for_update else ""),
        edition,
        code,
    )
    return SubmissionReceived.model_validate_json(raw) if raw is not None else None


@dataclass(frozen=True, slots=True)
class EvaluationRow:
    """A dossier's current score and pré-notation (None: not scored yet), and the jury's arobases."""

    collectivite_code: str
    name: str
    category: str  # the category the dossier was scored in (else its registered one)
    score: float | None
    pre_notation: int | None
    grille_version: int | None
    jury_arobases: int | None


async def evaluations(conn: Connection, edition: int) -> list[EvaluationRow]:
    """Each dossier of the edition: its current score and pré-notation, and the jury's arobases."""
    rows = await conn.fetch(
        """SELECT c.code AS collectivite_code, c.name, coalesce(sc.payload->>'category', c.category) AS category,
                  (sc.payload->>'score')::float AS score, (sc.payload->>'arobases')::int AS pre_notation,
                  sc.grille_version, j.arobases AS jury_arobases
           FROM submissions s
           JOIN collectivites c ON c.code = s.collectivite_code
           LEFT JOIN results sc ON sc.submission_id = s.submission_id AND sc.kind = 'score'
           LEFT JOIN jury_decisions j ON j.submission_id = s.submission_id
           WHERE s.edition = $1
           ORDER BY c.code""",
        edition,
    )
    return [EvaluationRow(**dict(r)) for r in rows]


# --- a dossier's actions in the public catalogue ---------------------------------------------------


async def locked_submission(conn: Connection, submission_id: UUID) -> tuple[str, int] | None:
    """The dossier's collectivité and current revision, the dossier locked until the transaction ends."""
    row = await conn.fetchrow(
        "SELECT collectivite_code, revision FROM submissions WHERE submission_id = $1 FOR UPDATE", submission_id
    )
    return (row["collectivite_code"], row["revision"]) if row else None


async def action_count(conn: Connection, submission_id: UUID, revision: int) -> int:
    count = await conn.fetchval(
        """SELECT jsonb_array_length(event->'actions') FROM submission_revisions
           WHERE submission_id = $1 AND revision = $2""",
        submission_id,
        revision,
    )
    return int(count or 0)


async def choose_catalogue(
    conn: Connection, submission_id: UUID, revision: int, position: int, published: bool
) -> None:
    """Keep the action at `position` of the revision out of the catalogue, or put it back (the catalogue too)."""
    await conn.execute(
        """UPDATE submission_revisions
           SET catalogue_withheld = CASE WHEN $3 THEN array_remove(catalogue_withheld, $4)
               ELSE array_append(array_remove(catalogue_withheld, $4), $4) END
           WHERE submission_id = $1 AND revision = $2""",
        submission_id,
        revision,
        published,
        position,
    )
    await conn.execute(
        "UPDATE catalogue_actions SET published = $3 WHERE submission_id = $1 AND position = $2",
        submission_id,
        position,
        published,
    )

"""The tables of an evaluating service (`dossiers`, `evaluations`, `reevaluations`): every statement, typed rows.

The grille versions (`grilles`) are read and written by `grilles.GrilleCache`,
which parses each version once per process. Each function here is one round
trip: the evaluator's cost per dossier is counted in statements
(docs/benchmark.md), so none is split or added.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from palmares_contracts import SubmissionReceived
from palmares_eventkit.db import Connection

JSON = dict[str, Any]
"""A JSON object as stored (a trace context, an evaluation's summary)."""


# --- a new dossier revision ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Known:
    """What the service knows before evaluating a revision."""

    revision: int | None  # the dossier's revision kept (None: a new dossier)
    latest: int | None  # the edition's latest grille version (None: none published yet)


async def known(conn: Connection, submission_id: UUID, edition: int) -> Known:
    row = await conn.fetchrow(
        "SELECT (SELECT revision FROM dossiers WHERE submission_id = $1) AS revision, "
        "(SELECT max(version) FROM grilles WHERE edition = $2) AS latest",
        submission_id,
        edition,
    )
    assert row is not None, "a SELECT without FROM returns one row"
    return Known(row["revision"], row["latest"])


@dataclass(frozen=True, slots=True)
class KnownBatch:
    """What `known` tells, read once for a batch of dossiers (`DossierEvaluator.prepare_submissions`)."""

    asked: frozenset[UUID]
    revisions: dict[UUID, int]  # the revision kept, for the dossiers asked that are stored
    latest: dict[int, int | None]  # each edition's latest grille version

    def of(self, submission_id: UUID, edition: int) -> Known | None:
        """What `known` would read for this dossier (None: not part of the batch read)."""
        if submission_id not in self.asked or edition not in self.latest:
            return None
        return Known(self.revisions.get(submission_id), self.latest[edition])


async def known_many(conn: Connection, submission_ids: Sequence[UUID], editions: Sequence[int]) -> KnownBatch:
    """`known` for many dossiers and editions, in one round trip."""
    rows = await conn.fetch(
        """SELECT submission_id, revision, NULL::int AS edition FROM dossiers WHERE submission_id = ANY($1::uuid[])
           UNION ALL
           SELECT NULL, max(g.version), e FROM unnest($2::int[]) AS e LEFT JOIN grilles g ON g.edition = e GROUP BY e""",
        list(submission_ids),
        list(editions),
    )
    return KnownBatch(
        asked=frozenset(submission_ids),
        revisions={r["submission_id"]: r["revision"] for r in rows if r["edition"] is None},
        latest={r["edition"]: r["revision"] for r in rows if r["edition"] is not None},
    )


@dataclass(frozen=True, slots=True)
class Evaluation:
    """One row of `evaluations`: a dossier revision evaluated under a grille version, and the event published."""

    submission_id: UUID
    revision: int
    grille_version: int
    event_id: UUID
    summary: JSON


@dataclass(frozen=True, slots=True)
class NewRevision:
    """A dossier's new revision to keep (its event as JSON, its trace context) and, if any, its evaluation."""

    event: SubmissionReceived
    trace: JSON
    evaluation: Evaluation | None


async def store_dossiers(conn: Connection, rows: Sequence[NewRevision]) -> None:
    """Keep the dossiers' new revisions and their evaluations, in one statement for many.

    Two revisions of one dossier in one call keep the newer (`ON CONFLICT DO
    UPDATE` may touch a row once per statement); each evaluation is kept.
    """
    newest: dict[UUID, NewRevision] = {}
    for row in rows:
        kept = newest.get(row.event.submission_id)
        if kept is None or kept.event.revision <= row.event.revision:
            newest[row.event.submission_id] = row
    dossiers = list(newest.values())
    evaluations = [row.evaluation for row in rows if row.evaluation is not None]
    await conn.execute(
        """WITH stored AS (
             INSERT INTO dossiers (submission_id, edition, collectivite_code, revision, event, trace_context)
             SELECT s, e, c, r, ev::jsonb, t::jsonb
             FROM unnest($1::uuid[], $2::int[], $3::text[], $4::int[], $5::text[], $6::text[]) AS u(s, e, c, r, ev, t)
             ON CONFLICT (submission_id) DO UPDATE SET revision = EXCLUDED.revision, event = EXCLUDED.event,
               trace_context = EXCLUDED.trace_context)
           INSERT INTO evaluations (submission_id, revision, grille_version, event_id, summary)
           SELECT s, r, g, i, m::jsonb FROM unnest($7::uuid[], $8::int[], $9::int[], $10::uuid[], $11::text[])
             AS v(s, r, g, i, m)
           ON CONFLICT DO NOTHING""",
        [d.event.submission_id for d in dossiers],
        [d.event.edition for d in dossiers],
        [d.event.collectivite.code for d in dossiers],
        [d.event.revision for d in dossiers],
        [d.event.model_dump_json() for d in dossiers],
        [json.dumps(d.trace) for d in dossiers],
        [e.submission_id for e in evaluations],
        [e.revision for e in evaluations],
        [e.grille_version for e in evaluations],
        [e.event_id for e in evaluations],
        [json.dumps(e.summary) for e in evaluations],
    )


# --- the re-evaluation jobs ----------------------------------------------------------------------


async def schedule_reevaluation(conn: Connection, edition: int, version: int, trace: JSON) -> None:
    await conn.execute(
        "INSERT INTO reevaluations (edition, version, trace_context) VALUES ($1, $2, $3::jsonb) ON CONFLICT DO NOTHING",
        edition,
        version,
        json.dumps(trace),
    )


@dataclass(frozen=True, slots=True)
class Job:
    """A pending re-evaluation of an edition under a grille version, and where it stands."""

    edition: int
    version: int
    after: UUID | None  # the last dossier re-evaluated (None: none yet)
    trace: JSON  # the grille update's trace context


async def next_job(conn: Connection) -> Job | None:
    """The oldest pending re-evaluation, its row locked (replicas skip it meanwhile)."""
    row = await conn.fetchrow(
        "SELECT edition, version, after, trace_context FROM reevaluations WHERE NOT done "
        "ORDER BY edition, version LIMIT 1 FOR UPDATE SKIP LOCKED"
    )
    if row is None:
        return None
    return Job(row["edition"], row["version"], row["after"], json.loads(row["trace_context"]))


@dataclass(frozen=True, slots=True)
class StoredDossier:
    """A dossier's current revision as kept, with its trace context."""

    event: SubmissionReceived
    trace: JSON


async def dossiers_after(conn: Connection, edition: int, after: UUID, limit: int) -> list[StoredDossier]:
    """Up to `limit` dossiers of the edition after `after`, in `submission_id` order."""
    rows = await conn.fetch(
        "SELECT submission_id, event, trace_context FROM dossiers "
        "WHERE edition = $1 AND submission_id > $2 ORDER BY submission_id LIMIT $3",
        edition,
        after,
        limit,
    )
    return [
        StoredDossier(SubmissionReceived.model_validate_json(r["event"]), json.loads(r["trace_context"])) for r in rows
    ]


async def insert_evaluations(conn: Connection, evaluations: Sequence[Evaluation]) -> list[UUID]:
    """Keep the evaluations not already there (one statement); the event ids of those inserted."""
    rows = await conn.fetch(
        """INSERT INTO evaluations (submission_id, revision, grille_version, event_id, summary)
           SELECT * FROM unnest($1::uuid[], $2::int[], $3::int[], $4::uuid[], $5::jsonb[])
           ON CONFLICT DO NOTHING RETURNING event_id""",
        [e.submission_id for e in evaluations],
        [e.revision for e in evaluations],
        [e.grille_version for e in evaluations],
        [e.event_id for e in evaluations],
        [json.dumps(e.summary) for e in evaluations],
    )
    return [r["event_id"] for r in rows]


async def advance_job(conn: Connection, job: Job, after: UUID | None, done: bool) -> None:
    """The job's new position, committed with the chunk's evaluations."""
    await conn.execute(
        "UPDATE reevaluations SET after = $3, done = $4 WHERE edition = $1 AND version = $2",
        job.edition,
        job.version,
        after,
        done,
    )

"""Evaluating dossiers under the grille: shared by the scoring and mentions services.

Both services do the same dance around different domain functions: keep the
current revision of each dossier and every grille version; evaluate a new
revision under the edition's latest grille; on a new grille version,
re-evaluate every dossier of the edition, once per dossier and version.
`DossierEvaluator` is that dance; a service gives it its pure `evaluate`.

A new grille version does not re-evaluate the edition in the consumer's
transaction: it records a re-evaluation job, which a background loop works
through in chunks of dossiers, each chunk committed with its evaluations and
outbox rows and the job's position (resumable after a crash, memory bounded by
the chunk, not by the edition).

Concurrency: the submissions consumer, the grilles consumer and the
re-evaluation chunks take a per-edition transaction lock; a dossier arriving
while its edition is re-evaluated is evaluated under the latest version
committed, and the chunk that reaches it later finds that evaluation already
there (once per dossier revision and version).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from importlib import resources
from typing import Any
from uuid import UUID

from opentelemetry import trace
from opentelemetry.trace import Link
from palmares_contracts import GRILLES, SUBMISSIONS, Event, Grille, GrillePublished, SubmissionReceived
from palmares_eventkit import outbox, telemetry
from palmares_eventkit.cluster import Cluster
from palmares_eventkit.db import Migration, load_migrations
from palmares_eventkit.runtime import ServiceRuntime, Subscription, Tx
from palmares_eventkit.settings import ServiceSettings
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from palmares_evaluation import store
from palmares_evaluation.grilles import GrilleCache

Evaluate = Callable[[SubmissionReceived, Grille], tuple[Event, dict[str, Any]]]
"""Pure evaluation: the event to publish, and a small summary kept in `evaluations`."""

# The component these migrations are recorded under in each schema's
# `schema_migrations`: the name existing databases hold; another name would
# make `migrate` apply them again (and fail on the tables that exist).
MIGRATIONS_COMPONENT = "evaluator"

# Dossiers re-evaluated per transaction: bounds the memory of a re-evaluation (a few hundred
# kilobytes of events and results) whatever the edition's size, while one round trip per
# statement is shared by enough dossiers not to dominate (docs/benchmark.md).
REEVALUATION_CHUNK = 500
# How often a replica looks for re-evaluations scheduled by another one.
REEVALUATION_POLL_S = 1.0
_BEFORE_ALL = UUID(int=0)
# Keys in `Tx.memo`: what `prepare_submissions` read for the batch; the revisions written in the transaction.
_KNOWN = "evaluation:known"
_WRITTEN = "evaluation:written"


def evaluation_migrations() -> list[Migration]:
    """Tables `grilles`, `dossiers`, `evaluations`, `reevaluations` in the service's schema."""
    return load_migrations(MIGRATIONS_COMPONENT, resources.files("palmares_evaluation") / "migrations")


class DossierEvaluator:
    """Evaluates each dossier revision once per grille version, and publishes the result."""

    def __init__(self, name: str, evaluate: Evaluate, *, chunk: int = REEVALUATION_CHUNK) -> None:
        self._name = name
        self._evaluate = evaluate
        self._chunk = chunk
        self._grilles = GrilleCache()
        self._tracer = trace.get_tracer(f"palmares.{name}")
        self._pending = asyncio.Event()

    def subscriptions(self) -> tuple[Subscription[Any], ...]:
        """What a service evaluating dossiers consumes: the dossiers, and the grille versions."""
        return (
            Subscription(SUBMISSIONS, self.on_submission, prepare=self.prepare_submissions),
            Subscription(GRILLES, self.on_grille),
        )

    async def _lock_edition(self, tx: Tx, edition: int) -> None:
        await tx.lock(f"{self._name}:edition:{edition}")

    async def prepare_submissions(self, tx: Tx, events: Sequence[SubmissionReceived]) -> None:
        """For a batch of dossiers: the editions' locks, then in one read what `on_submission` needs of each."""
        editions = sorted({event.edition for event in events})  # always in the same order: no deadlock
        for edition in editions:
            await self._lock_edition(tx, edition)
        tx.memo[_KNOWN] = await store.known_many(tx.conn, [event.submission_id for event in events], editions)

    async def on_submission(self, tx: Tx, event: SubmissionReceived) -> None:
        """Store the dossier's new revision and evaluate it under the edition's latest grille.

        In a consumer's batch, no statement per dossier: the edition's lock and
        the read (the revision kept, the latest version) are taken once for the
        batch (`prepare_submissions`), the dossiers and their evaluations and the
        outbox rows written once at its commit (`Tx.write`, `Tx.publish`). Each
        round trip costs both sides more CPU than the work it carries.
        """
        await self._lock_edition(tx, event.edition)
        batch: store.KnownBatch | None = tx.memo.get(_KNOWN)
        known = batch.of(event.submission_id, event.edition) if batch is not None else None
        if known is None:
            known = await store.known(tx.conn, event.submission_id, event.edition)
        # The revisions this transaction wrote are not in the database until its commit (`Tx.write`).
        written: dict[UUID, int] = tx.memo.setdefault(_WRITTEN, {})
        kept = max(known.revision or 0, written.get(event.submission_id, 0))
        if kept >= event.revision:
            return  # an older revision arriving late: the newer one already counts
        grille = None if known.latest is None else await self._grilles.version(tx.conn, event.edition, known.latest)
        result, evaluation = None, None
        if grille is not None:
            result, summary = self._evaluate(event, grille)
            evaluation = store.Evaluation(event.submission_id, event.revision, grille.version, result.event_id, summary)
        written[event.submission_id] = event.revision
        # A revision newer than the one kept has no evaluation yet (re-evaluations only read kept
        # revisions, under the same lock): its result is always new, and published.
        await tx.write(store.store_dossiers, store.NewRevision(event, telemetry.inject_current(), evaluation))
        if result is not None:
            await tx.publish(result)

    async def on_grille(self, tx: Tx, event: GrillePublished) -> None:
        """Keep the version; if it is the edition's latest, schedule the re-evaluation of every dossier.

        The re-evaluation itself runs in chunks (`reevaluate`), each in its own
        transaction: an edition of any size never sits in memory at once.
        """
        await self._lock_edition(tx, event.edition)
        await self._grilles.store(tx.conn, event.grille)
        latest = await self._grilles.latest(tx.conn, event.edition)
        if latest is None or latest.version != event.version:
            return  # an older version arriving late changes nothing
        await store.schedule_reevaluation(tx.conn, event.edition, event.version, telemetry.inject_current())
        tx.after_commit(self._pending.set)  # woken before the commit, the loop would not see the job

    async def reevaluate(self, runtime: ServiceRuntime) -> None:
        """Background loop: the pending re-evaluations, one chunk per transaction, until the service stops."""
        while not runtime.stopping.is_set():
            self._pending.clear()  # before looking: a job committed while this chunk runs wakes the next look
            async with runtime.transaction() as tx:
                progressed = await self.reevaluate_chunk(tx)
            if progressed:
                runtime.wake_relay()
                continue
            # Woken by a grille update of this process once committed; the poll finds those of another replica.
            waiters = [asyncio.create_task(self._pending.wait()), asyncio.create_task(runtime.stopping.wait())]
            try:
                await asyncio.wait(waiters, timeout=REEVALUATION_POLL_S, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()

    async def reevaluate_chunk(self, tx: Tx) -> bool:
        """Re-evaluate the next chunk of the oldest pending re-evaluation; False when none is pending.

        The chunk's evaluations, outbox rows and the job's new position commit
        together: after a crash the next chunk starts where the last commit
        left off, and a dossier evaluated meanwhile by a new revision keeps its
        evaluation (the key of `evaluations` makes each one happen once).
        Replicas share the jobs: a job's row is locked for the chunk, the
        others skip it.
        """
        job = await store.next_job(tx.conn)
        if job is None:
            return False
        await self._lock_edition(tx, job.edition)
        grille = await self._grilles.version(tx.conn, job.edition, job.version)
        # One more row than the chunk tells whether this chunk is the last: `done` commits with it.
        dossiers = await store.dossiers_after(tx.conn, job.edition, job.after or _BEFORE_ALL, self._chunk + 1)
        last = len(dossiers) <= self._chunk
        dossiers = dossiers[: self._chunk]
        update = trace.get_current_span(telemetry.extract(job.trace)).get_span_context()
        evaluations = []
        prepared: dict[UUID, outbox.OutboxRow] = {}
        for stored in dossiers:
            dossier = stored.event
            # The re-evaluation joins the dossier's own trace, linked to the grille update.
            with self._tracer.start_as_current_span(
                f"{self._name} re-evaluate",
                context=telemetry.extract(stored.trace),
                links=[Link(update)] if update.is_valid else None,
                attributes={
                    "palmares.submission_id": str(dossier.submission_id),
                    "palmares.grille_version": job.version,
                },
            ):
                result, summary = self._evaluate(dossier, grille)
                prepared[result.event_id] = outbox.prepare(result)
            evaluations.append(
                store.Evaluation(dossier.submission_id, dossier.revision, job.version, result.event_id, summary)
            )
        if evaluations:
            inserted = await store.insert_evaluations(tx.conn, evaluations)
            await tx.publish_prepared([prepared[event_id] for event_id in inserted])
        await store.advance_job(tx.conn, job, dossiers[-1].event.submission_id if dossiers else job.after, last)
        return True


def evaluation_runtime(
    service: str,
    evaluate: Evaluate,
    settings: ServiceSettings | None = None,
    *,
    cluster: Cluster | None = None,
) -> ServiceRuntime:
    """The runtime of a service that evaluates dossiers under the grille: its schema, its subscriptions."""
    evaluator = DossierEvaluator(service, evaluate, chunk=EvaluationSettings().reevaluation_chunk)
    runtime = ServiceRuntime(
        service, evaluation_migrations(), settings, subscriptions=evaluator.subscriptions(), cluster=cluster
    )
    runtime.add_background("reevaluation", evaluator.reevaluate)
    return runtime


class EvaluationSettings(BaseSettings):
    """What the evaluating services add to the shared settings (from the environment)."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    reevaluation_chunk: int = Field(default=REEVALUATION_CHUNK, ge=1, le=10_000, alias="PALMARES_REEVALUATION_CHUNK")

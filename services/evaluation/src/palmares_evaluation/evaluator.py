"""Evaluating dossiers under the grille: shared by the scoring and mentions services.

Both services do the same dance around different domain functions: keep the
current revision of each dossier and every grille version; evaluate a new
revision under the edition's latest grille; on a new grille version,
re-evaluate every dossier of the edition, once per dossier and version.
`DossierEvaluator` is that dance; a service gives it its pure `evaluate`.

Concurrency: the submissions and grilles consumers run concurrently, so both
handlers take a per-edition transaction lock; a dossier arriving while its
edition is re-evaluated is evaluated under the version committed before or
after it, never skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
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

from palmares_evaluation.grilles import GrilleCache

Evaluate = Callable[[SubmissionReceived, Grille], tuple[Event, dict[str, Any]]]
"""Pure evaluation: the event to publish, and a small summary kept in `evaluations`."""

# The component these migrations are recorded under in each schema's
# `schema_migrations`: the name existing databases hold; another name would
# make `migrate` apply them again (and fail on the tables that exist).
MIGRATIONS_COMPONENT = "evaluator"


def evaluation_migrations() -> list[Migration]:
    """Tables `grilles`, `dossiers`, `evaluations` in the service's schema."""
    return load_migrations(MIGRATIONS_COMPONENT, resources.files("palmares_evaluation") / "migrations")


class DossierEvaluator:
    """Evaluates each dossier revision once per grille version, and publishes the result."""

    def __init__(self, name: str, evaluate: Evaluate) -> None:
        self._name = name
        self._evaluate = evaluate
        self._grilles = GrilleCache()
        self._tracer = trace.get_tracer(f"palmares.{name}")

    def subscriptions(self) -> tuple[Subscription[Any], ...]:
        """What a service evaluating dossiers consumes: the dossiers, and the grille versions."""
        return (Subscription(SUBMISSIONS, self.on_submission), Subscription(GRILLES, self.on_grille))

    async def _lock_edition(self, tx: Tx, edition: int) -> None:
        await tx.conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"{self._name}:edition:{edition}")

    async def on_submission(self, tx: Tx, event: SubmissionReceived) -> None:
        """Store the dossier's new revision and evaluate it under the edition's latest grille."""
        await self._lock_edition(tx, event.edition)
        current = await tx.conn.fetchval("SELECT revision FROM dossiers WHERE submission_id = $1", event.submission_id)
        if current is not None and current >= event.revision:
            return  # an older revision arriving late: the newer one already counts
        await tx.conn.execute(
            """INSERT INTO dossiers (submission_id, edition, collectivite_code, revision, event, trace_context)
               VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb)
               ON CONFLICT (submission_id) DO UPDATE SET revision = EXCLUDED.revision, event = EXCLUDED.event,
                 trace_context = EXCLUDED.trace_context""",
            event.submission_id,
            event.edition,
            event.collectivite.code,
            event.revision,
            event.model_dump_json(),
            json.dumps(telemetry.inject_current()),
        )
        grille = await self._grilles.latest(tx.conn, event.edition)
        if grille is not None:
            await self._evaluate_once(tx, event, grille)

    async def on_grille(self, tx: Tx, event: GrillePublished) -> None:
        """Keep the version; if it is the edition's latest, re-evaluate every dossier once."""
        await self._lock_edition(tx, event.edition)
        await self._grilles.store(tx.conn, event.grille)
        latest = await self._grilles.latest(tx.conn, event.edition)
        if latest is None or latest.version != event.version:
            return  # an older version arriving late changes nothing
        here = trace.get_current_span().get_span_context()
        rows = await tx.conn.fetch(
            "SELECT event, trace_context FROM dossiers WHERE edition = $1 ORDER BY submission_id", event.edition
        )
        # Evaluate every dossier in memory, then write them in bulk: an edition has
        # tens of thousands of dossiers, one statement each would dominate the time.
        evaluations = []
        prepared: dict[UUID, outbox.OutboxRow] = {}
        for row in rows:
            dossier = SubmissionReceived.model_validate_json(row["event"])
            # The re-evaluation joins the dossier's own trace, linked to the grille update.
            with self._tracer.start_as_current_span(
                f"{self._name} re-evaluate",
                context=telemetry.extract(json.loads(row["trace_context"])),
                links=[Link(here)] if here.is_valid else None,
                attributes={
                    "palmares.submission_id": str(dossier.submission_id),
                    "palmares.grille_version": event.version,
                },
            ):
                result, summary = self._evaluate(dossier, latest)
                prepared[result.event_id] = outbox.prepare(result)
            evaluations.append(
                (dossier.submission_id, dossier.revision, latest.version, result.event_id, json.dumps(summary))
            )
        columns = [list(column) for column in zip(*evaluations, strict=True)] if evaluations else [[]] * 5
        inserted = await tx.conn.fetch(
            """INSERT INTO evaluations (submission_id, revision, grille_version, event_id, summary)
               SELECT * FROM unnest($1::uuid[], $2::int[], $3::int[], $4::uuid[], $5::jsonb[])
               ON CONFLICT DO NOTHING RETURNING event_id""",
            *columns,
        )
        await tx.publish_prepared([prepared[r["event_id"]] for r in inserted])

    async def _evaluate_once(self, tx: Tx, dossier: SubmissionReceived, grille: Grille) -> None:
        result, summary = self._evaluate(dossier, grille)
        inserted = await tx.conn.fetchval(
            """INSERT INTO evaluations (submission_id, revision, grille_version, event_id, summary)
               VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT DO NOTHING RETURNING true""",
            dossier.submission_id,
            dossier.revision,
            grille.version,
            result.event_id,
            json.dumps(summary),
        )
        if inserted:
            await tx.publish(result)


def evaluation_runtime(
    service: str,
    evaluate: Evaluate,
    settings: ServiceSettings | None = None,
    *,
    cluster: Cluster | None = None,
) -> ServiceRuntime:
    """The runtime of a service that evaluates dossiers under the grille: its schema, its subscriptions."""
    evaluator = DossierEvaluator(service, evaluate)
    return ServiceRuntime(
        service, evaluation_migrations(), settings, subscriptions=evaluator.subscriptions(), cluster=cluster
    )

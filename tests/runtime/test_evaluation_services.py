"""scoring and mentions in process: their own runtime (`create_runtime`, their table of subscriptions) on the test broker.

Each test gets a database of its own: the services' schemas are named after
them, as in the stack that other tests of the session may run.
"""

from __future__ import annotations

import asyncio
import importlib
from typing import Any

import pytest
from palmares_contracts import (
    MENTIONS,
    SCORES,
    SUBMISSIONS,
    GrillePublished,
    MentionsDetected,
    SubmissionScored,
    Topic,
    decode,
)
from palmares_eventkit.db import DB_STATEMENTS
from prometheus_client import REGISTRY

from tests.factories import grille, submission
from tests.runtime.harness import InMemory, Raw, eventually
from tests.runtime.memory import Sent

# service -> (the topic of its results, its business counter)
SERVICES: dict[str, tuple[Topic[Any], str]] = {
    "scoring": (SCORES, "palmares_dossiers_scored_total"),
    "mentions": (MENTIONS, "palmares_mentions_detected_total"),
}


def counted(name: str) -> float:
    return sum(
        s.value
        for m in REGISTRY.collect()
        if m.name == name.removesuffix("_total")
        for s in m.samples
        if s.name == name
    )


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_each_revision_is_evaluated_once_per_grille_version(database: str, service: str) -> None:
    app = importlib.import_module(f"palmares_{service}.app")
    results, counter = SERVICES[service]
    harness = InMemory(database)
    try:
        runtime = await harness.run(lambda settings, cluster: app.create_runtime(settings, cluster=cluster))
        dossier = submission()
        counted_before = counted(counter)
        await harness.feed_events(GrillePublished(edition=2017, version=1, grille=grille()))
        await harness.feed_events(dossier)
        first = await harness.sent_until(results.name, lambda found: len(found) >= 1)
        # A new grille version re-evaluates the dossier; a redelivered dossier changes nothing.
        await harness.feed_events(GrillePublished(edition=2017, version=2, grille=grille(version=2)))
        await harness.feed_events(dossier)
        found = await harness.sent_until(results.name, lambda found: len(found) >= 2)
        assert first == found[:1]
        evaluations = [_decode(results, record) for record in found]
        assert [(e.submission_id, e.revision, e.grille_version) for e in evaluations] == [
            (dossier.submission_id, 1, 1),
            (dossier.submission_id, 1, 2),
        ]
        assert all(record.key == b"49007" for record in found)
        rows = await runtime.pool.fetchval("SELECT count(*) FROM evaluations")
        assert rows == 2
        # The business counter of the service: once per evaluation published (mentions: per mention found).
        expected = (
            2 if service == "scoring" else sum(len(e.mentions) for e in evaluations if isinstance(e, MentionsDetected))
        )
        assert counted(counter) - counted_before == expected
        assert isinstance(evaluations[0], SubmissionScored if service == "scoring" else MentionsDetected)
    finally:
        await harness.stop()


def _decode(topic: Topic[Any], record: Sent) -> Any:
    return decode(topic, record.value, {k: v.decode() for k, v in record.headers})


async def _statements() -> float:
    for _ in range(3):  # asyncpg calls the query loggers with `call_soon`
        await asyncio.sleep(0)
    return float(DB_STATEMENTS._value.get())  # type: ignore[attr-defined]


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_a_batch_of_dossiers_is_read_and_written_once_and_keeps_each_dossiers_newest_revision(
    database: str, service: str
) -> None:
    """In one batch: two revisions of a dossier in order (both evaluated), two out of order (the late one
    ignored), and twenty other dossiers; a handful of statements for the whole batch, not two per dossier."""
    app = importlib.import_module(f"palmares_{service}.app")
    results, _ = SERVICES[service]
    harness = InMemory(database)
    try:
        runtime = await harness.run(lambda settings, cluster: app.create_runtime(settings, cluster=cluster))
        await harness.feed_events(GrillePublished(edition=2017, version=1, grille=grille()))

        async def reevaluated() -> bool:  # the grille's (empty) re-evaluation: its statements are not the batch's
            return bool(await runtime.pool.fetchval("SELECT bool_and(done) FROM reevaluations"))

        await eventually(reevaluated, 10, "the grille's re-evaluation done")
        await asyncio.sleep(0.2)  # and the loop's look for the next job (a few milliseconds), before its 1 s poll
        in_order = submission()
        late = submission()
        others = [submission() for _ in range(20)]
        batch = [
            in_order,
            submission(submission_id=in_order.submission_id, revision=2),
            submission(submission_id=late.submission_id, revision=2),
            late,
            *others,
        ]
        before = await _statements()
        await harness.feed(SUBMISSIONS, [Raw.of(event) for event in batch])
        statements = await _statements() - before
        found = await harness.sent_until(results.name, lambda found: len(found) >= 23)
        evaluated = sorted((e.submission_id, e.revision) for e in (_decode(results, r) for r in found))
        assert evaluated == sorted(
            [(in_order.submission_id, 1), (in_order.submission_id, 2), (late.submission_id, 2)]
            + [(o.submission_id, 1) for o in others]
        )
        kept = dict(await runtime.pool.fetch("SELECT submission_id, revision FROM dossiers"))
        assert kept[in_order.submission_id] == 2 and kept[late.submission_id] == 2 and len(kept) == 22
        assert await runtime.pool.fetchval("SELECT count(*) FROM evaluations") == 23
        # BEGIN, inbox, lock, read, write, outbox, COMMIT (and the relay's passes): not 2 × 24.
        assert statements < 24, statements
    finally:
        await harness.stop()


async def test_without_its_batch_read_the_handler_still_sees_the_revisions_its_transaction_wrote(database: str) -> None:
    """`prepare` only saves round trips: the handler alone, in a deferred transaction, keeps the same rule."""
    from palmares_evaluation.evaluator import DossierEvaluator
    from palmares_scoring.app import create_runtime
    from palmares_scoring.handlers import evaluate

    harness = InMemory(database)
    try:
        runtime = await harness.run(lambda settings, cluster: create_runtime(settings, cluster=cluster))
        await harness.feed_events(GrillePublished(edition=2017, version=1, grille=grille()))
        evaluator = DossierEvaluator("scoring", evaluate)
        dossier = submission()
        async with runtime.transaction(deferred=True) as tx:
            for event in (submission(submission_id=dossier.submission_id, revision=2), dossier):
                await evaluator.on_submission(tx, event)
        assert (
            await runtime.pool.fetchval("SELECT revision FROM dossiers WHERE submission_id = $1", dossier.submission_id)
            == 2
        )
        assert await runtime.pool.fetchval("SELECT count(*) FROM evaluations") == 1, "the late revision 1 ignored"
    finally:
        await harness.stop()

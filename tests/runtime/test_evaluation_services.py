"""scoring and mentions in process: their own runtime (`create_runtime`, their table of subscriptions) on the test broker.

Each test gets a database of its own: the services' schemas are named after
them, as in the stack that other tests of the session may run.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from palmares_contracts import (
    MENTIONS,
    SCORES,
    GrillePublished,
    MentionsDetected,
    SubmissionScored,
    Topic,
    decode,
)
from prometheus_client import REGISTRY

from tests.factories import grille, submission
from tests.runtime.harness import InMemory
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

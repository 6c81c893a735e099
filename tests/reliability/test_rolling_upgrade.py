"""A rolling upgrade while dossiers flow: each service replaced by a version that publishes `SubmissionScored` v2.

The next version (`tests.reliability.upgraded`) adds an optional field to
`SubmissionScored` and declares version 2 readable by version-1 consumers
(`schema-compatible-since: 1`). scoring is upgraded first, so that the old
notify and submission read version-2 events while the new and old instances of
each worker share their consumer groups for a while; then mentions, notify,
and submission (the API, restarted on its port: clients retry). Nothing may be
dead-lettered, nothing lost; afterwards every service is rolled back the same
way (the old version reads the version-2 events left behind).
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import pytest
from palmares_cli.dlq import DeadLetter
from palmares_cli.kafka_io import read_topics
from palmares_contracts import SCORES
from palmares_stack.pytest_plugin import Infra

from tests.integration.harness import Api, Codes, Stack
from tests.reliability.campaign import TIMEOUT_S, Fault, dossiers, on_session_stack, run

pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(TIMEOUT_S)]

NEXT_VERSION = [sys.executable, "-m", "tests.reliability.upgraded"]
WORKERS = ("scoring", "mentions", "notify")


async def roll(stack: Stack, name: str, argv: list[str] | None, label: str) -> None:
    """Replace a service by another version of it: a worker's new instance joins before the old one leaves."""
    if name == "submission":
        await asyncio.to_thread(stack.replace, name, argv)
        return
    old = stack.endpoints[name]
    new = await asyncio.to_thread(stack.start_version, name, label, argv)
    await asyncio.sleep(5)  # both versions in the consumer groups, sharing the partitions
    await asyncio.to_thread(old.process.stop, 20)
    stack.endpoints[name] = new


async def test_rolling_upgrade_to_an_additive_event_version_loses_nothing(
    stack: Stack, api: Api, codes: Codes, edition: int, infra: Infra
) -> None:
    def upgrade(name: str) -> Fault:
        async def fault() -> None:
            await roll(stack, name, [*NEXT_VERSION, name], "next")

        return (f"{name} replaced by its next version", fault)

    campaign = on_session_stack(api, stack, codes, edition, infra, dossiers(400), "upgrade")
    try:
        # No `explained`: a single dead letter fails the checker.
        # Half the dossiers after scoring's upgrade: on a fast machine the whole campaign was scored before it.
        await run(
            campaign,
            [upgrade(name) for name in ("scoring", *WORKERS[1:], "submission")],
            "campaign-upgrade",
            rest_after_first_fault=True,
        )
    finally:
        for name in ("submission", *WORKERS):
            await roll(stack, name, None, "current")
    (scores,) = await read_topics(infra.kafka_bootstrap, [SCORES.name])
    versions = {doc["schema_version"] for doc in map(_document, scores.letters) if doc.get("edition") == edition}
    assert versions == {1, 2}, f"both versions published during the upgrade, found {versions}"


def _document(record: DeadLetter) -> dict[str, Any]:
    """A record's JSON object ({} for the poison records other tests leave on the topic)."""
    try:
        doc = json.loads(record.value or b"")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return doc if isinstance(doc, dict) else {}

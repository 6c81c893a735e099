"""Re-evaluation after a grille update survives a crash mid-way (issue 16, item 3).

The re-evaluation of an edition runs in chunks, each committed with its
evaluations, outbox rows and position. Scoring is killed (SIGKILL) while it is
half-way through; once restarted it resumes where the last commit left off, and
every dossier ends evaluated exactly once under the new version: one result
event per dossier and version in Kafka (a record may be repeated, never a
second evaluation), and the status view of submission shows the new version.
Mentions, not killed, does the same work undisturbed.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from uuid import UUID

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from palmares_contracts import SCORES, SUBMISSIONS, ContractError, decode, encode

from tests.factories import collectivite, grille_body, submission
from tests.integration.harness import Api, Stack, eventually

pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.timeout(300)]

DOSSIERS = 1500  # 60 chunks of 25 (the stack's PALMARES_REEVALUATION_CHUNK)


async def produce_dossiers(bootstrap: str, edition: int, contact: str) -> list[UUID]:
    """Dossiers straight into submissions.v1 (the HTTP intake is not what this test is about)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=5)
    await producer.start()
    sids = []
    try:
        sends = []
        for i in range(DOSSIERS):
            event = submission(edition=edition, collectivite=collectivite(code=f"{10000 + i}", contact_email=contact))
            value, headers = encode(event)
            headers_list = [(k, v.encode()) for k, v in headers.items()]
            sends.append(
                await producer.send(SUBMISSIONS.name, value, key=SUBMISSIONS.key_of(event), headers=headers_list)
            )
            sids.append(event.submission_id)
        await asyncio.gather(*sends)
    finally:
        await producer.stop()
    return sids


async def count(conn: asyncpg.Connection, schema: str, sids: list[UUID], version: int) -> int:
    return int(
        await conn.fetchval(
            f"SELECT count(*) FROM {schema}.evaluations WHERE submission_id = ANY($1::uuid[]) AND grille_version = $2",
            sids,
            version,
        )
    )


async def scores_published(bootstrap: str, sids: set[UUID], version: int) -> dict[UUID, set[UUID]]:
    """submission_id → the event ids of the scores published for it under `version` (the whole topic read)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([SCORES.name])
    finally:
        await admin.close()
    partitions = [TopicPartition(SCORES.name, p["partition"]) for p in described["partitions"]]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    found: dict[UUID, set[UUID]] = defaultdict(set)
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batches = await consumer.getmany(timeout_ms=1000)
            for records in batches.values():
                for record in records:
                    try:
                        event = decode(SCORES, record.value)
                    except ContractError:
                        continue  # another test's poison record on the shared topic (dead-lettered by scoring)
                    if event.submission_id in sids and event.grille_version == version:
                        found[event.submission_id].add(event.event_id)
    finally:
        await consumer.stop()
    return found


async def test_a_reevaluation_killed_half_way_resumes_and_evaluates_each_dossier_once(
    stack: Stack, api: Api, edition: int
) -> None:
    bootstrap = stack.env["KAFKA_BOOTSTRAP_SERVERS"]
    await api.publish_grille(grille_body(edition))
    sids = await produce_dossiers(bootstrap, edition, f"reevaluation-{edition}@collectivites.example")
    conn = await asyncpg.connect(stack.env["DATABASE_URL"])
    try:
        for schema in ("scoring", "mentions"):
            await eventually(lambda s=schema: _at_least(conn, s, sids, 1, DOSSIERS), within=180, what=f"{schema} v1")

        body = grille_body(edition)
        body["services"] = [
            {**s, "weight": s["weight"] * 2} if s["code"] == "portail_open_data" else s  # type: ignore[index]
            for s in body["services"]  # type: ignore[union-attr]
        ]
        assert (await api.publish_grille(body))["version"] == 2

        # Half-way: the job has a position but is not done. Then a crash, no graceful shutdown.
        deadline = time.monotonic() + 60
        while True:
            row = await conn.fetchrow(
                "SELECT after, done FROM scoring.reevaluations WHERE edition = $1 AND version = 2", edition
            )
            if row is not None and row["after"] is not None:
                break
            assert time.monotonic() < deadline, "scoring never started the re-evaluation"
            await asyncio.sleep(0.01)
        stack.kill("scoring")
        done_before_crash = await count(conn, "scoring", sids, 2)
        assert not row["done"] and 0 < done_before_crash < DOSSIERS, (
            f"the crash should hit mid-way: {done_before_crash}/{DOSSIERS} evaluated under v2"
        )
        stack.restart("scoring")

        for schema in ("scoring", "mentions"):
            await eventually(lambda s=schema: _at_least(conn, s, sids, 2, DOSSIERS), within=180, what=f"{schema} v2")
        job = await conn.fetchrow("SELECT done FROM scoring.reevaluations WHERE edition = $1 AND version = 2", edition)
        assert job is not None and job["done"]
        # What users see: the status view holds every dossier's score and mentions under v2.
        await eventually(lambda: _status_view_at(conn, sids, 2), within=120, what="status view under v2")
    finally:
        await conn.close()

    published = await scores_published(bootstrap, set(sids), 2)
    assert len(published) == DOSSIERS, f"{DOSSIERS - len(published)} dossiers have no score under v2"
    twice = {sid: ids for sid, ids in published.items() if len(ids) != 1}
    assert not twice, f"{len(twice)} dossiers were scored more than once under v2"
    print(f"\nscoring killed after {done_before_crash}/{DOSSIERS} dossiers re-evaluated; resumed, each scored once")


async def _at_least(conn: asyncpg.Connection, schema: str, sids: list[UUID], version: int, n: int) -> bool:
    return await count(conn, schema, sids, version) >= n


async def _status_view_at(conn: asyncpg.Connection, sids: list[UUID], version: int) -> bool:
    n = await conn.fetchval(
        "SELECT count(*) FROM submission.results WHERE submission_id = ANY($1::uuid[]) AND grille_version = $2",
        sids,
        version,
    )
    return int(n) == 2 * DOSSIERS

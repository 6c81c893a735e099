"""Disasters: notify's database lost and rebuilt from the topics, every schema dumped and restored, while dossiers flow.

The campaign's faults: notify stopped, its schema dropped (the database lost),
`python -m palmares_notify rebuild` run, notify started again: it replays the
log, and the checker proves that no email was sent twice and none was lost;
a `pg_dump` of the four schemas taken in one snapshot while the services
write, restored into a scratch database, holds exactly what the snapshot
held. After the palmarès, notify's database is lost and rebuilt once more:
every dossier's status view is identical afterwards, and no email is sent but
those still queued when the database was lost.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from palmares_eventkit.lag import LagProbe
from palmares_stack.postgres import find_pg_bin_dir
from palmares_stack.pytest_plugin import Infra
from palmares_stack.services import service_env

from tests.integration.harness import Api, Codes, Stack, read_mails
from tests.reliability.campaign import (
    REPORTS,
    SCHEMAS,
    TIMEOUT_S,
    Campaign,
    Fault,
    allowed_s,
    dossiers,
    on_session_stack,
    run,
)

pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(TIMEOUT_S)]

# notify's consumer groups: one per topic it reads (`notify.<topic>`).
NOTIFY_TOPICS = ("grilles.v1", "submissions.v1", "scores.v1", "mentions.v1", "jury.v1", "palmares.v1")


async def rebuild_notify(stack: Stack) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "palmares_notify", "rebuild"],
        env=service_env("notify", 0, stack.env),
        capture_output=True,
        text=True,
        timeout=600,
    )


async def lose_and_rebuild_notify(stack: Stack, database_url: str) -> dict[str, Any]:
    """Stop notify, lose its schema, rebuild it from the topics, start it again; the rebuild's report."""
    await asyncio.to_thread(stack.process("notify").stop, 20)  # a graceful stop relays its outbox
    conn = await asyncpg.connect(database_url)
    try:
        left = await conn.fetchval("SELECT count(*) FROM notify.outbox")
        assert left == 0, f"notify stopped with {left} events in its outbox"
        # What was queued but not sent when the database was lost: the replay sends those, once.
        pending = await conn.fetch(
            "SELECT message_id, kind, edition FROM notify.notifications WHERE status = 'pending'"
        )
        await conn.execute("DROP SCHEMA notify CASCADE")  # the database is lost
    finally:
        await conn.close()
    done = await rebuild_notify(stack)
    assert done.returncode == 0, f"rebuild failed: {done.stderr[-2000:]}"
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["partitions_rewound"] > 0 and report["sent"] > 0, report
    report["pending_at_loss"] = {r["message_id"].strip(): f"{r['kind']} (edition {r['edition']})" for r in pending}
    report["mails_at_loss"] = {m.path for m in read_mails(stack.mail_dir)}  # notify is stopped: none in flight
    await asyncio.to_thread(stack.restart, "notify")
    return report


def summary(rebuilt: dict[str, Any]) -> dict[str, Any]:
    """The rebuild's report without the test's own bookkeeping (for the JSON report)."""
    return {k: v for k, v in rebuilt.items() if k not in ("pending_at_loss", "mails_at_loss")}


async def rebuild_after_palmares(api: Api, stack: Stack, database_url: str, campaign: Campaign) -> dict[str, Any]:
    """Lose notify's database after the palmarès and rebuild it: the status views do not move, no email is sent
    twice; the rebuild's report, with the emails that were still queued at the loss and left after it."""
    ids = sorted(campaign.submitted.values())
    before = await status_views(api, ids)
    began = time.monotonic()
    rebuilt = await lose_and_rebuild_notify(stack, database_url)
    await notify_caught_up(campaign.bootstrap, allowed_s(campaign.n))
    measured = summary(rebuilt) | {"seconds_to_catch_up": round(time.monotonic() - began, 1)}
    await asyncio.sleep(3)  # an email queued by the replay would be sent now
    after = await status_views(api, ids)
    assert after == before, [i for i in ids if after[i] != before[i]][:10]
    # The session's stack is shared: an email of an earlier test may still have been waiting for a retry when
    # the database was lost; the replay sends it, once. Anything else sent now would be sent twice.
    mails = read_mails(stack.mail_dir)
    new = [m for m in mails if m.path not in rebuilt["mails_at_loss"]]
    sent_before = {m.message_id for m in mails if m.path in rebuilt["mails_at_loss"]}
    again = [f"{m.kind} to {m.to} ({m.message_id})" for m in new if m.message_id in sent_before]
    assert not again, f"the rebuilt notify sent emails again: {again}"
    unexpected = [f"{m.kind} to {m.to} ({m.message_id})" for m in new if m.message_id not in rebuilt["pending_at_loss"]]
    assert not unexpected, f"the rebuilt notify sent emails nobody had queued: {unexpected}"
    measured["pending_sent_after_rebuild"] = [rebuilt["pending_at_loss"][m.message_id] for m in new]
    return measured


async def notify_caught_up(bootstrap: str, within: float) -> None:
    """Wait until notify's consumer groups have read their topics to the end."""
    probe = LagProbe(bootstrap)
    await probe.start()
    try:
        deadline = time.monotonic() + within
        while True:
            lags = await probe.measure({f"notify.{t}": [t] for t in NOTIFY_TOPICS})
            behind = sum(p.lag for p in lags)
            if lags and behind == 0:
                return
            assert time.monotonic() < deadline, f"notify still {behind} records behind after {within:.0f} s"
            await asyncio.sleep(1)
    finally:
        await probe.stop()


async def fingerprints(conn: asyncpg.Connection) -> dict[str, tuple[int, str]]:
    """Rows and a digest of the contents of every table of the four schemas."""
    tables = await conn.fetch(
        "SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY($1::text[]) ORDER BY 1, 2", list(SCHEMAS)
    )
    found = {}
    for t in tables:
        name = f'"{t["schemaname"]}"."{t["tablename"]}"'
        row = await conn.fetchrow(
            f"SELECT count(*) AS n, coalesce(md5(string_agg(md5(x::text), '' ORDER BY md5(x::text))), '') AS digest "
            f"FROM {name} x"
        )
        found[name] = (row["n"], row["digest"])
    return found


async def dump_and_restore(database_url: str, work: Path) -> dict[str, Any]:
    """`pg_dump` of every schema in one snapshot while the stack writes, `pg_restore` into a scratch database."""
    bin_dir = find_pg_bin_dir()
    dump = work / "palmares.dump"  # `work` is pytest's tmp_path: it exists
    conn = await asyncpg.connect(database_url)
    try:
        tx = conn.transaction(isolation="repeatable_read", readonly=True)
        await tx.start()
        snapshot = await conn.fetchval("SELECT pg_export_snapshot()")
        began = time.monotonic()
        dumped = await asyncio.to_thread(
            subprocess.run,
            [str(bin_dir / "pg_dump"), "--format=custom", f"--snapshot={snapshot}", "--no-owner",
             *(f"--schema={s}" for s in SCHEMAS), f"--file={dump}", f"--dbname={database_url}"],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        dump_s = time.monotonic() - began
        assert dumped.returncode == 0, dumped.stderr[-2000:]
        expected = await fingerprints(conn)  # what the snapshot held, read in the dump's own snapshot
        extensions = [
            r["extname"] for r in await conn.fetch("SELECT extname FROM pg_extension WHERE extname <> 'plpgsql'")
        ]
        await tx.rollback()
        scratch = "palmares_restore_check"
        await conn.execute(f"DROP DATABASE IF EXISTS {scratch}")
        await conn.execute(f"CREATE DATABASE {scratch}")
    finally:
        await conn.close()
    scratch_url = database_url.rsplit("/", 1)[0] + "/" + scratch
    target = await asyncpg.connect(scratch_url)
    try:
        for name in extensions:  # a schema's dump does not carry the extensions it uses
            await target.execute(f'CREATE EXTENSION IF NOT EXISTS "{name}"')
        began = time.monotonic()
        restored = await asyncio.to_thread(
            subprocess.run,
            [str(bin_dir / "pg_restore"), "--no-owner", "--exit-on-error", f"--dbname={scratch_url}", str(dump)],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        restore_s = time.monotonic() - began
        assert restored.returncode == 0, restored.stderr[-2000:]
        actual = await fingerprints(target)
    finally:
        await target.close()
    assert actual == expected, {k: (expected.get(k), actual.get(k)) for k in expected.keys() | actual.keys()
                                if expected.get(k) != actual.get(k)}  # fmt: skip
    return {
        "tables": len(expected),
        "rows": sum(n for n, _ in expected.values()),
        "bytes": dump.stat().st_size,
        "dump_s": round(dump_s, 1),
        "restore_s": round(restore_s, 1),
    }


async def status_views(api: Api, ids: list[str]) -> dict[str, Any]:
    gate = asyncio.Semaphore(16)

    async def one(submission_id: str) -> tuple[str, Any]:
        async with gate:
            for attempt in range(5):
                try:
                    r = await api.client.get(f"/v1/submissions/{submission_id}", headers=api.operator)
                    break
                except httpx.TransportError:  # a kept-alive connection the server closed meanwhile
                    if attempt == 4:
                        raise
                    await asyncio.sleep(0.5)
            r.raise_for_status()
            return submission_id, r.json()

    return dict(await asyncio.gather(*(one(i) for i in ids)))


async def test_notify_database_lost_and_rebuilt_from_the_log_and_every_schema_dumped_and_restored(
    stack: Stack, api: Api, codes: Codes, edition: int, infra: Infra, tmp_path: Path
) -> None:
    database_url = infra.database_url  # the test's own connections bypass the proxy
    measured: dict[str, Any] = {}

    async def lose_notify() -> None:
        measured["rebuild_during_campaign"] = summary(await lose_and_rebuild_notify(stack, database_url))

    async def dump_restore() -> None:
        measured["dump_restore"] = await dump_and_restore(database_url, tmp_path)

    faults: list[Fault] = [
        ("notify's database lost, rebuilt from the topics", lose_notify),
        ("pg_dump of every schema while the stack runs, restored and compared", dump_restore),
    ]
    campaign = on_session_stack(api, stack, codes, edition, infra, dossiers(300), "disaster")
    report = await run(campaign, faults, "campaign-disasters")
    assert report.duplicated_as_seen_by_users == 0 and len(report.faults) == len(faults)

    # After the palmarès: lost again, rebuilt again; nothing a user sees changes, no email is sent.
    refused = await rebuild_notify(stack)  # notify still runs: its groups have members
    assert refused.returncode == 1 and "still has members" in refused.stderr, refused.stderr[-2000:]
    measured["rebuild_after_palmares"] = await rebuild_after_palmares(api, stack, database_url, campaign)
    (REPORTS / "campaign-disasters.rebuild.json").write_text(json.dumps(measured, indent=2) + "\n")
    print(f"\ndisasters: {measured}")

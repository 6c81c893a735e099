"""Every fault of the reliability suite in one campaign, one after another, while the dossiers flow.

The crashes and restarts of the first campaign, the network faults, the paused
processes, notify's database lost and rebuilt from the log, a dump and restore
of every schema, and a rolling upgrade (each service replaced by its next
version, then rolled back): the same faults as the separate campaigns, on one
stream of dossiers, so that `RELIABILITY_DOSSIERS=10000` puts every one of
them on a campaign of that size in a single run (docs/reliability.md). The
checker then proves nothing was lost, evaluated or sent twice; after the
palmarès, notify's database is lost and rebuilt once more, and every status
view is identical afterwards.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from palmares_stack.pytest_plugin import Infra

from tests.integration.harness import Api, Codes, Stack
from tests.reliability.campaign import (
    REPORTS,
    TIMEOUT_S,
    Fault,
    crash_faults,
    dossiers,
    freeze,
    on_session_stack,
    run,
)
from tests.reliability.test_disasters import (
    dump_and_restore,
    lose_and_rebuild_notify,
    rebuild_after_palmares,
    summary,
)
from tests.reliability.test_rolling_upgrade import roll

pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(TIMEOUT_S)]

NEXT_VERSION = [sys.executable, "-m", "tests.reliability.upgraded"]


async def test_one_campaign_survives_every_fault_of_the_suite(
    stack: Stack, api: Api, codes: Codes, edition: int, infra: Infra, tmp_path: Path
) -> None:
    if infra.kafka is None or infra.postgres is None or infra.toxiproxy is None:
        pytest.fail("every fault needs the local infrastructure and Toxiproxy (TEST_INFRA=local, `make toxiproxy`)")
    proxy = infra.toxiproxy
    proxies = sorted(proxy.proxies())
    database_url = infra.database_url  # the test's own connections bypass the proxy
    measured: dict[str, Any] = {}

    def toxic(kind: str, attributes: dict[str, int], seconds: float, streams: tuple[str, ...] = ("upstream", "downstream")) -> Fault:  # fmt: skip
        async def fault() -> None:
            with proxy.toxic(proxies, kind, attributes, streams=streams):
                await asyncio.sleep(seconds)

        return (f"{kind} {attributes} for {seconds:.0f} s on every proxy", fault)

    def pause(name: str, seconds: float, *, slow_database: bool = False) -> Fault:
        # As in test_paused_processes: a second instance takes the frozen one's work over.
        async def fault() -> None:
            other = await asyncio.to_thread(stack.start_instance, name, "b")
            process = stack.process(name)
            try:
                await freeze(process, seconds, slow_database=proxy if slow_database else None)
                assert process.is_alive(), f"the woken {name} lives on"
            finally:
                await asyncio.to_thread(other.process.stop, 20)

        return (f"SIGSTOP {name} {seconds} s, then SIGCONT", fault)

    async def lose_notify() -> None:
        measured["rebuild_during_campaign"] = summary(await lose_and_rebuild_notify(stack, database_url))

    async def dump_restore() -> None:
        measured["dump_restore"] = await dump_and_restore(database_url, tmp_path)

    def upgrade(name: str, argv: list[str] | None, label: str) -> Fault:
        async def fault() -> None:
            await roll(stack, name, argv, label)

        return (f"{name} replaced by its {label} version", fault)

    faults: list[Fault] = [
        *crash_faults(stack, infra),
        toxic("latency", {"latency": 300, "jitter": 100}, 10),
        toxic("bandwidth", {"rate": 32}, 10),
        toxic("reset_peer", {"timeout": 0}, 5, streams=("upstream",)),
        toxic("timeout", {"timeout": 0}, 30),
        toxic("slow_close", {"delay": 20_000}, 10),
        pause("scoring", 25),
        pause("notify", 40, slow_database=True),
        ("notify's database lost, rebuilt from the topics", lose_notify),
        ("pg_dump of every schema while the stack runs, restored and compared", dump_restore),
        *(upgrade(s, [*NEXT_VERSION, s], "next") for s in ("scoring", "mentions", "notify", "submission")),
        *(upgrade(s, None, "current") for s in ("scoring", "mentions", "notify", "submission")),
    ]
    campaign = on_session_stack(api, stack, codes, edition, infra, dossiers(300), "every")
    try:
        report = await run(campaign, faults, "campaign-every-fault")
    finally:
        proxy.reset()
    assert report.duplicated_as_seen_by_users == 0 and len(report.faults) == len(faults)

    # After the palmarès: notify's database lost again; the status views and the mailbox do not move.
    measured["rebuild_after_palmares"] = await rebuild_after_palmares(api, stack, database_url, campaign)
    (REPORTS / "campaign-every-fault.rebuild.json").write_text(json.dumps(measured, indent=2) + "\n")
    print(f"\nevery fault: {measured}")

"""Paused processes: a service frozen (SIGSTOP) longer than its Kafka session and its database's idle limit.

While it is frozen, its consumer groups rebalance to a second instance,
PostgreSQL ends its open transactions and its outbox relay's lock session,
and the second instance takes its records, its outbox and its emails over.
When it wakes (SIGCONT) it is a zombie: its offset commits fail (the group's
generation moved on), the inbox makes whatever it applies again a no-op, and
its relay checks its session before publishing
(docs/reliability.md, "Paused processes"). The checker then proves that
nothing was evaluated, published or sent twice as users see it.
"""

from __future__ import annotations

import asyncio

import pytest
from palmares_stack.pytest_plugin import Infra

from tests.integration.harness import Api, Codes, Stack
from tests.reliability.campaign import TIMEOUT_S, Fault, dossiers, freeze, on_session_stack, run, toxiproxy_for

pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(TIMEOUT_S)]

# Longer than the Kafka session (10 s) and the idle limit of a transaction (10 s in the test stack's env) …
CONSUMER_PAUSE_S = 25
# … and than the idle limit of a delivery (4 × SMTP_TIMEOUT_S + 10 s = 30 s).
SENDER_PAUSE_S = 40


@pytest.mark.campaign
async def test_paused_services_wake_up_as_harmless_zombies(
    stack: Stack, api: Api, codes: Codes, edition: int, infra: Infra
) -> None:
    proxy = toxiproxy_for(infra, "slowing PostgreSQL down at the pause")
    zombies = {name: stack.process(name) for name in ("scoring", "notify")}
    logs_before = {name: p.log_path.stat().st_size for name, p in zombies.items()}
    # Second instances in the same consumer groups and schemas: they take the frozen one's work over.
    others = [await asyncio.to_thread(stack.start_instance, name, "b") for name in zombies]

    def pause(name: str, seconds: float, *, slow_database: bool = False) -> Fault:
        async def fault() -> None:
            await freeze(zombies[name], seconds, slow_database=proxy if slow_database else None)

        return (f"SIGSTOP {name} {seconds} s, then SIGCONT", fault)

    faults = [pause("scoring", CONSUMER_PAUSE_S), pause("notify", SENDER_PAUSE_S, slow_database=True)]
    campaign = on_session_stack(api, stack, codes, edition, infra, dossiers(400), "paused")
    try:
        report = await run(campaign, faults, "campaign-paused")
    finally:
        proxy.reset()
        for endpoint in others:
            await asyncio.to_thread(endpoint.process.stop, 20)
    assert report.duplicated_as_seen_by_users == 0
    assert all(p.is_alive() for p in zombies.values()), "the zombies live on and keep working"
    notify_log = zombies["notify"].log_path.read_bytes()[logs_before["notify"] :].decode(errors="replace")
    print(f"\nnotify's senders fenced after the pause: {notify_log.count('delivery fenced')}")

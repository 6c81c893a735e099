"""The reliability suite: campaigns of dossiers while faults are injected one after another.

After the faults, the checker (`tools.checker`) compares the campaign's
history with the final state seen through the API, the topics and the SMTP
capture: every acknowledged dossier present with its last acknowledged
revision, evaluated once per revision and grille version, one receipt and one
award per collectivité (a byte-identical resend in the SMTP window is counted
and reported), the palmarès equal to the evaluated dossiers, no dead letter
unexplained; the report gives the counts.
"""

from __future__ import annotations

import asyncio

import pytest
from palmares_stack.kafka import KafkaCluster
from palmares_stack.pytest_plugin import Infra

from tests.integration.harness import QUICK_RETRIES, Api, Codes, Stack, create_database
from tests.reliability.campaign import (
    TIMEOUT_S,
    Campaign,
    Fault,
    crash_faults,
    dossiers,
    on_session_stack,
    run,
    toxiproxy_for,
)

pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(TIMEOUT_S)]


def local_infra(infra: Infra) -> tuple[KafkaCluster, object]:
    if infra.kafka is None or infra.postgres is None:
        pytest.fail("the reliability suite injects process faults: it needs TEST_INFRA=local")
    return infra.kafka, infra.postgres


@pytest.mark.campaign
async def test_campaign_survives_crashes_restarts_and_outages(
    stack: Stack, api: Api, codes: Codes, edition: int, infra: Infra
) -> None:
    local_infra(infra)
    faults = crash_faults(stack, infra)
    campaign = on_session_stack(api, stack, codes, edition, infra, dossiers(2000), "campaign")
    report = await run(campaign, faults, "campaign-1-broker")
    assert report.duplicated_as_seen_by_users == 0
    assert len(report.faults) == len(faults)


@pytest.mark.cluster
async def test_campaign_on_three_brokers_survives_a_broker_killed(
    kafka_cluster3: KafkaCluster, infra: Infra, codes: Codes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """RF 3, min.insync.replicas 2: losing one broker loses nothing and stops nothing."""
    local_infra(infra)
    database_url = await create_database(infra.database_url, "palmares_cluster3")
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_cluster3.bootstrap_servers,
        "DATABASE_URL": database_url,
        "PALMARES_TOPIC_REPLICATION_FACTOR": "3",
        "PALMARES_TOPIC_MIN_ISR": "2",
        **QUICK_RETRIES,
    }
    cluster_stack = Stack.on(infra, tmp_path_factory.mktemp("cluster3"), env)
    cluster_stack.start()
    try:
        async with cluster_stack.api() as api:

            async def kill_a_broker() -> None:
                kafka_cluster3.kill_broker(1)  # SIGKILL one of three brokers mid-flow
                await asyncio.sleep(10)
                await asyncio.to_thread(kafka_cluster3.restart_broker, 1)

            campaign = Campaign(
                api, cluster_stack, codes, 2099, dossiers(500), "cluster",
                database_url=database_url,
                bootstrap=kafka_cluster3.bootstrap_servers,
            )  # fmt: skip
            report = await run(campaign, [("SIGKILL one of 3 brokers", kill_a_broker)], "campaign-3-brokers")
            assert report.duplicated_as_seen_by_users == 0
    finally:
        cluster_stack.stop()


@pytest.mark.campaign
async def test_campaign_survives_network_faults(
    stack: Stack, api: Api, codes: Codes, edition: int, infra: Infra
) -> None:
    """Toxiproxy between the services and Kafka, PostgreSQL and SMTP: slow, throttled, reset, silent, half-closed."""
    proxy = toxiproxy_for(infra, "the network faults")
    proxies = sorted(proxy.proxies())  # kafka-0, postgres, smtp
    both = ("upstream", "downstream")

    def toxic(kind: str, attributes: dict[str, int], seconds: float, streams: tuple[str, ...] = both) -> Fault:
        async def fault() -> None:
            with proxy.toxic(proxies, kind, attributes, streams=streams):
                await asyncio.sleep(seconds)

        return (f"{kind} {attributes} for {seconds:.0f} s on {', '.join(proxies)}", fault)

    faults: list[Fault] = [
        toxic("latency", {"latency": 300, "jitter": 100}, 10),
        toxic("bandwidth", {"rate": 32}, 10),  # KB/s each way
        toxic("reset_peer", {"timeout": 0}, 5, streams=("upstream",)),  # every connection reset (RST)
        toxic("timeout", {"timeout": 0}, 30),  # a black hole: bytes go nowhere, nothing is refused
        toxic("slow_close", {"delay": 20_000}, 10),  # half-open: a closed connection lingers 20 s
    ]
    campaign = on_session_stack(api, stack, codes, edition, infra, dossiers(600), "network")
    try:
        report = await run(campaign, faults, "campaign-network")
    finally:
        proxy.reset()
    assert report.duplicated_as_seen_by_users == 0
    assert len(report.faults) == len(faults)

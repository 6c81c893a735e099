"""The reliability suite: campaigns of dossiers while faults are injected one after another.

After the faults: every dossier has exactly one current score and one current
mention result, exactly one receipt and one award as the SMTP server received
them (a byte-identical resend in the SMTP window is counted and reported),
no dossier is stuck; the report gives the counts.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from pathlib import Path

import asyncpg
import httpx
import pytest
from palmares_cli.kafka_io import read_topics
from palmares_contracts import ALL_TOPICS
from palmares_stack.kafka import KafkaCluster
from palmares_stack.pytest_plugin import Infra
from palmares_stack.smtp import SmtpCapture

from tests.factories import grille_body
from tests.integration.harness import Api, Codes, Stack
from tests.reliability.campaign import EVALUATED, Campaign, Fault, Report, check, notified, redeliveries, run_faults

pytestmark = [pytest.mark.reliability, pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

REPORTS = Path(__file__).resolve().parents[2] / ".run" / "reliability"
DOSSIERS = int(os.environ.get("PALMARES_RELIABILITY_DOSSIERS", "2000"))


def local_infra(infra: Infra) -> tuple[KafkaCluster, object]:
    if infra.kafka is None or infra.postgres is None:
        pytest.fail("the reliability suite injects process faults: it needs TEST_INFRA=local")
    return infra.kafka, infra.postgres


async def dead_letter_count(bootstrap: str) -> int:
    return sum(len(t.letters) for t in await read_topics(bootstrap, [t.dlq for t in ALL_TOPICS]))


async def run(campaign: Campaign, faults: list[Fault], report_name: str) -> Report:
    report = Report(dossiers=campaign.n)
    began = time.monotonic()
    bootstrap = campaign.stack.env["KAFKA_BOOTSTRAP_SERVERS"]
    dead_before = await dead_letter_count(bootstrap)
    redeliveries_before = await redeliveries(campaign.stack.env["DATABASE_URL"])
    await campaign.api.publish_grille(grille_body(campaign.edition))
    await campaign.register_all()

    flowing = asyncio.Event()

    def progress(done: int) -> None:
        if done >= campaign.n // 20:
            flowing.set()

    chaos = asyncio.create_task(run_faults(faults, report, flowing))
    await campaign.submit_all(on_progress=progress)
    await chaos
    assert await campaign.wait_until("evaluated", EVALUATED, 300) == campaign.n, "dossiers stuck before evaluation"
    assert await campaign.wait_until("receipts", notified("receipt"), 300) == campaign.n, "receipts missing"
    await campaign.publish_palmares()
    awarded = await campaign.wait_until("awards", notified("award"), 300)
    report.stuck = campaign.n - awarded
    assert report.stuck == 0, f"{report.stuck} dossiers never got their award"
    await asyncio.sleep(3)  # anything extra (a resend) would arrive now
    await check(campaign, report, redeliveries_before, await dead_letter_count(bootstrap) - dead_before)
    report.seconds = round(time.monotonic() - began, 1)
    report.write(REPORTS / f"{report_name}.json")
    print(f"\n{report_name}: {report.__dict__}")
    return report


async def test_campaign_survives_crashes_restarts_and_outages(
    stack: Stack, api: Api, codes: Codes, edition: int, infra: Infra
) -> None:
    kafka, postgres = local_infra(infra)

    def kill_and_restart(name: str) -> Fault:
        async def fault() -> None:
            stack.kill(name)  # SIGKILL: no goodbye, no flush
            await asyncio.sleep(1)
            await asyncio.to_thread(stack.restart, name)

        return (f"SIGKILL {name}", fault)

    async def restart_kafka() -> None:
        await asyncio.to_thread(kafka.stop_broker, 0)
        await asyncio.sleep(2)
        await asyncio.to_thread(kafka.restart_broker, 0)

    async def restart_postgres() -> None:
        await asyncio.to_thread(postgres.restart)  # type: ignore[attr-defined]

    async def smtp_down_30s() -> None:
        port = infra.smtp.port
        infra.smtp.stop()  # connections refused: the server is gone
        await asyncio.sleep(30)
        infra.smtp = SmtpCapture(infra.mail_dir, host=infra.smtp_host, port=port).start()

    async def second_scoring_instance() -> None:
        # Joins the consumer groups (rebalance), works a while, then leaves (rebalance again).
        endpoint = await asyncio.to_thread(stack.start_instance, "scoring", "b")
        await asyncio.sleep(5)
        await asyncio.to_thread(endpoint.process.stop, 20)

    faults: list[Fault] = [
        *(kill_and_restart(s) for s in ("submission", "scoring", "mentions", "notify")),
        ("restart Kafka broker", restart_kafka),
        ("restart PostgreSQL", restart_postgres),
        ("SMTP server down 30 s", smtp_down_30s),
        ("second scoring instance joins then leaves", second_scoring_instance),
    ]
    campaign = Campaign(api, stack, codes, edition, DOSSIERS, "campaign")
    report = await run(campaign, faults, "campaign-1-broker")
    assert report.duplicated_as_seen_by_users == 0
    assert len(report.faults) == len(faults)


@pytest.mark.cluster
async def test_campaign_on_three_brokers_survives_a_broker_killed(
    kafka_cluster3: KafkaCluster, infra: Infra, codes: Codes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """RF 3, min.insync.replicas 2: losing one broker loses nothing and stops nothing."""
    local_infra(infra)
    database = "palmares_cluster3"
    admin = await asyncpg.connect(infra.database_url)
    try:
        if not await admin.fetchval("SELECT true FROM pg_database WHERE datname = $1", database):
            await admin.execute(f"CREATE DATABASE {database}")
    finally:
        await admin.close()
    base = tmp_path_factory.mktemp("cluster3")
    token = "op_" + secrets.token_urlsafe(16)
    env = {
        **infra.env(),
        "KAFKA_BOOTSTRAP_SERVERS": kafka_cluster3.bootstrap_servers,
        "DATABASE_URL": infra.database_url.rsplit("/", 1)[0] + "/" + database,
        "PALMARES_TOPIC_REPLICATION_FACTOR": "3",
        "PALMARES_TOPIC_MIN_ISR": "2",
        "OPERATOR_TOKEN": token,
        "PALMARES_TRACE_DIR": str(base / "traces"),
        "PALMARES_SEND_BASE_DELAY_S": "0.5",
        "PALMARES_SEND_MAX_DELAY_S": "2",
        "PALMARES_SEND_MAX_ATTEMPTS": "60",
    }
    cluster_stack = Stack(
        env=env, log_dir=base / "logs", trace_dir=base / "traces", mail_dir=infra.mail_dir, operator_token=token
    )
    cluster_stack.start()
    try:
        async with httpx.AsyncClient(base_url=cluster_stack.api_url, timeout=30) as client:
            api = Api(client, token)

            async def kill_a_broker() -> None:
                kafka_cluster3.kill_broker(1)  # SIGKILL one of three brokers mid-flow
                await asyncio.sleep(10)
                await asyncio.to_thread(kafka_cluster3.restart_broker, 1)

            campaign = Campaign(api, cluster_stack, codes, 2099, max(DOSSIERS // 4, 200), "cluster")
            report = await run(campaign, [("SIGKILL one of 3 brokers", kill_a_broker)], "campaign-3-brokers")
            assert report.duplicated_as_seen_by_users == 0
    finally:
        cluster_stack.stop()

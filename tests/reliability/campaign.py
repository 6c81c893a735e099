"""A campaign driver for the reliability suite: many dossiers, faults injected while they flow, then checks.

The collectivités behave like real clients: a request whose connection broke,
or that got a 5xx while the API or its database restarted, is sent again with
the same `Idempotency-Key` (so it never creates a second revision). Every
attempt and its answer go into the campaign's history (`tools.checker`), which
the checker compares with the final state once the faults have healed.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from palmares_stack.process import ManagedProcess
from palmares_stack.pytest_plugin import Infra
from palmares_stack.smtp import SmtpCapture
from palmares_stack.toxiproxy import Toxiproxy

from tests.factories import grille_body
from tests.integration.harness import Api, Codes, Stack
from tools.checker.history import EntryType, History
from tools.checker.observe import observe
from tools.checker.verdict import Verdict
from tools.checker.verdict import check as check_history

SCHEMAS = ("submission", "scoring", "mentions", "notify")

Fault = tuple[str, Callable[[], Awaitable[None]]]


@dataclass
class Report:
    """What the campaign measured (printed, and written as JSON)."""

    dossiers: int = 0
    faults: list[dict[str, Any]] = field(default_factory=list)
    client_retries: int = 0
    redeliveries_absorbed: int = 0
    dead_letters: int = 0
    receipts: int = 0
    awards: int = 0
    resent_in_smtp_window: int = 0
    duplicated_as_seen_by_users: int = 0
    lost: int = 0
    stuck: int = 0
    seconds: float = 0.0
    anomalies: list[str] = field(default_factory=list)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.__dict__, indent=2) + "\n")


def take(codes: Codes, kind: str) -> str:
    """A collectivité of `kind`, or a village once the session has used every one of that kind.

    The reference data has about 3,300 villes and 1,250 territoires: a campaign
    of 10,000 dossiers with six villes in ten would run out of them.
    """
    try:
        return codes.take(kind)
    except StopIteration:
        return codes.take("village")


class Campaign:
    """N collectivités of an edition, each submitting one dossier, then the palmarès."""

    def __init__(
        self, api: Api, stack: Stack, codes: Codes, edition: int, n: int, tag: str, history: History | None = None,
        *, database_url: str | None = None, bootstrap: str | None = None,
    ) -> None:  # fmt: skip
        self.api = api
        self.stack = stack
        # The test's own connections bypass the fault proxy: the faults are the services' to bear.
        self.database_url = database_url or stack.env["DATABASE_URL"]
        self.bootstrap = bootstrap or stack.env["KAFKA_BOOTSTRAP_SERVERS"]
        self.edition = edition
        self.n = n
        kinds = ["village"] * 3 + ["ville"] * 6 + ["territoire"]
        self.codes = [take(codes, kinds[i % len(kinds)]) for i in range(n)]
        self.contacts = {code: f"{tag}-{edition}-{code}@collectivites.example" for code in self.codes}
        self.tokens: dict[str, str] = {}
        self.submitted: dict[str, str] = {}
        self.retries = 0
        self.history = history or History()
        self._rng = random.Random(edition)

    async def _call(
        self, method: str, url: str, *, ok: tuple[int, ...], op: tuple[str, str], key: str = "", **kw: Any
    ) -> httpx.Response:
        """A request as a careful client sends it: retried on broken connections and 5xx, for up to 3 minutes.

        `op` is (operation, client) in the history; each attempt is recorded with its answer.
        """
        f, process = op
        contact = self.contacts.get(process)
        deadline = time.monotonic() + 180
        delay = 0.2
        attempt = 0
        while True:
            attempt += 1
            self.history.record(process, "invoke", f, key=key, attempt=attempt, edition=self.edition, contact=contact)
            outcome: EntryType = "info"
            try:
                r = await self.api.client.request(method, url, **kw)
                status, error = r.status_code, None if r.status_code in ok else r.text[:300]
                outcome = "ok" if r.status_code in ok else "fail" if r.status_code < 500 else "info"
                value = r.json() if outcome == "ok" and f == "submit" else None
            except httpx.TransportError as exc:
                status, error, value = None, f"{type(exc).__name__}: {exc}", None
            self.history.record(
                process, outcome, f, key=key, attempt=attempt, edition=self.edition, status=status, value=value,
                error=error,
            )  # fmt: skip
            if outcome == "ok":
                return r
            if outcome == "fail":
                raise AssertionError(f"{method} {url}: {status} {error}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} {url}: no success within 3 minutes")
            self.retries += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 3.0)

    async def register_all(self, concurrency: int = 16) -> None:
        gate = asyncio.Semaphore(concurrency)

        async def one(code: str) -> None:
            async with gate:
                r = await self._call(
                    "POST", "/v1/collectivites", ok=(201, 409), headers=self.api.operator, op=("register", code),
                    json={"code": code, "contact_email": self.contacts[code]},
                )  # fmt: skip
                if r.status_code == 409:
                    r = await self._call(
                        "POST", f"/v1/collectivites/{code}/token", ok=(200,), headers=self.api.operator,
                        op=("register", code),
                    )  # fmt: skip
                self.tokens[code] = r.json()["token"]

        await asyncio.gather(*(one(c) for c in self.codes))

    def dossier(self, code: str) -> dict[str, Any]:
        services = ["etat_civil_en_ligne", "paiement_cantine", "portail_open_data", "conseil_en_direct",
                    "espace_public_numerique", "gestion_flux_urbains"]  # fmt: skip
        actions = [
            {
                "title": f"Action numérique {i + 1}",
                "description": "Un service en ligne pour les habitants, accompagné en mairie.",
                "services": self._rng.sample(services, self._rng.randint(1, 3)),
                "started_on": "2016-03-01",
            }
            for i in range(self._rng.randint(1, 4))
        ]
        return {
            "contact_email": self.contacts[code],
            "narrative": "Nous publions nos données ouvertes et animons la page Facebook de la commune.",
            "actions": actions,
        }

    async def submit_all(
        self,
        concurrency: int = 8,
        on_progress: Callable[[int], None] | None = None,
        codes: list[str] | None = None,
    ) -> None:
        """Submit the dossier of every collectivité of the campaign (or of `codes`)."""
        gate = asyncio.Semaphore(concurrency)

        async def one(code: str) -> None:
            async with gate:
                key = f"campaign-{self.edition}-{code}"
                r = await self._call(
                    "POST", f"/v1/editions/{self.edition}/submissions", ok=(202,), json=self.dossier(code),
                    headers={"Authorization": f"Bearer {self.tokens[code]}", "Idempotency-Key": key},
                    op=("submit", code), key=key,
                )  # fmt: skip
                self.submitted[code] = r.json()["submission_id"]
                if on_progress:
                    on_progress(len(self.submitted))

        await asyncio.gather(*(one(c) for c in (self.codes if codes is None else codes)))

    async def publish_palmares(self) -> None:
        await self._call(
            "POST", f"/v1/editions/{self.edition}/palmares", ok=(202, 409), headers=self.api.operator,
            json={"ceremony": {"place": "Lille", "date": f"{self.edition}-02-01"}}, op=("palmares", "operator"),
        )  # fmt: skip

    async def wait_until(self, what: str, sql: str, within: float, target: int | None = None) -> int:
        """Poll a count over this edition's dossiers until it reaches N (or `target`)."""
        conn = await asyncpg.connect(self.database_url)
        try:
            deadline = time.monotonic() + within
            while True:
                try:
                    count = int(await conn.fetchval(sql, self.edition))
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    count = -1  # the database is being restarted by a fault
                    await conn.close()
                    await asyncio.sleep(1)
                    conn = await asyncpg.connect(self.database_url)
                if count >= (self.n if target is None else target) or time.monotonic() > deadline:
                    return count
                await asyncio.sleep(0.5)
        finally:
            await conn.close()


def crash_faults(stack: Stack, infra: Infra) -> list[Fault]:
    """The clean faults of the first campaigns: each service SIGKILLed, Kafka and PostgreSQL restarted,
    SMTP down 30 s, a second scoring instance joining then leaving (two rebalances)."""
    kafka, postgres = infra.kafka, infra.postgres
    assert kafka is not None and postgres is not None, "process faults need TEST_INFRA=local"

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

    return [
        *(kill_and_restart(s) for s in ("submission", "scoring", "mentions", "notify")),
        ("restart Kafka broker", restart_kafka),
        ("restart PostgreSQL", restart_postgres),
        ("SMTP server down 30 s", smtp_down_30s),
        ("second scoring instance joins then leaves", second_scoring_instance),
    ]


def toxiproxy_for(infra: Infra, what: str) -> Toxiproxy:
    """The proxy in front of the servers; without it the test fails and says what needed it."""
    if infra.toxiproxy is None:
        pytest.fail(f"{what}: Toxiproxy must stand in front of the servers (`make toxiproxy`, TEST_INFRA=local)")
    return infra.toxiproxy


async def freeze(process: ManagedProcess, seconds: float, *, slow_database: Toxiproxy | None = None) -> None:
    """SIGSTOP `process` for `seconds`, SIGCONT, then 5 s awake: whatever the zombie would do, it does then.

    `slow_database`: PostgreSQL's replies through that proxy take 2 s from 3 s before the stop, so that the
    senders are frozen holding an email they took, not yet sent.
    """
    if slow_database is not None:
        with slow_database.toxic(["postgres"], "latency", {"latency": 2000}):
            await asyncio.sleep(3)
            process.send_signal(signal.SIGSTOP)
    else:
        process.send_signal(signal.SIGSTOP)
    try:
        await asyncio.sleep(seconds)
    finally:
        process.send_signal(signal.SIGCONT)
    await asyncio.sleep(5)


def on_session_stack(api: Api, stack: Stack, codes: Codes, edition: int, infra: Infra, n: int, tag: str) -> Campaign:
    """A campaign on the session's stack, the test's own connections straight to the servers (never through the proxy)."""
    return Campaign(
        api, stack, codes, edition, n, tag, database_url=infra.database_url, bootstrap=infra.kafka_bootstrap
    )


EVALUATED = """
    SELECT count(*) FROM submission.submissions s
    WHERE s.edition = $1
      AND EXISTS (SELECT 1 FROM submission.results r WHERE r.submission_id = s.submission_id
                  AND r.kind = 'score' AND r.revision = s.revision)
      AND EXISTS (SELECT 1 FROM submission.results r WHERE r.submission_id = s.submission_id
                  AND r.kind = 'mentions' AND r.revision = s.revision)"""


def notified(kind: str) -> str:
    return f"""
    SELECT count(*) FROM submission.submissions s
    WHERE s.edition = $1 AND EXISTS (
        SELECT 1 FROM submission.notifications n
        WHERE n.submission_id = s.submission_id AND n.kind = '{kind}' AND n.status = 'sent')"""


async def redeliveries(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return sum([int(await conn.fetchval(f"SELECT coalesce(sum(redeliveries), 0) FROM {s}.inbox")) for s in SCHEMAS])
    finally:
        await conn.close()


async def run_faults(
    faults: list[Fault], report: Report, start: asyncio.Event, first_done: asyncio.Event | None = None
) -> None:
    """Inject the faults one after another, once the flow has started (`first_done`: set after the first)."""
    await start.wait()
    for name, fault in faults:
        began = time.monotonic()
        await fault()
        report.faults.append({"fault": name, "seconds": round(time.monotonic() - began, 1)})
        if first_done is not None:
            first_done.set()
        await asyncio.sleep(1.0)


async def check(
    campaign: Campaign, report: Report, redeliveries_before: int, *, explained: tuple[str, ...] = ()
) -> Verdict:
    """The checker on the campaign's history (every acknowledged dossier evaluated and notified exactly once)."""
    history = list(campaign.history)
    observed = await observe(
        history,
        api_url=campaign.stack.api_url,
        operator_token=campaign.stack.operator_token,
        bootstrap=campaign.bootstrap,
        mail_dir=campaign.stack.mail_dir,
        edition=campaign.edition,
    )
    verdict = check_history(history, observed, explained=explained)
    counts = verdict.counts
    report.receipts, report.awards = counts["receipts"], counts["awards"]
    report.duplicated_as_seen_by_users = counts["duplicated_as_seen_by_users"]
    report.resent_in_smtp_window = counts["resent_in_smtp_window"]
    report.lost, report.stuck = counts["lost"], counts["stuck"]
    report.dead_letters = counts["dead_letters"]
    report.client_retries = counts["client_retries"]
    report.redeliveries_absorbed = await redeliveries(campaign.database_url) - redeliveries_before
    report.anomalies = verdict.anomalies[:50]
    return verdict


REPORTS = Path(__file__).resolve().parents[2] / ".run" / "reliability"
# `RELIABILITY_DOSSIERS=10000 make test-reliability`: every campaign on that many dossiers (the CI-sized defaults otherwise).
SIZE = os.environ.get("RELIABILITY_DOSSIERS") or os.environ.get("PALMARES_RELIABILITY_DOSSIERS")


def dossiers(ci_default: int) -> int:
    """A campaign's size: `RELIABILITY_DOSSIERS` when set, else its CI-sized default."""
    return int(SIZE) if SIZE else ci_default


def allowed_s(n: int) -> float:
    """How long a stage of a campaign of n dossiers may take (300 s, or 0.1 s a dossier on big runs)."""
    return max(300.0, 0.1 * n)


# Each campaign's pytest timeout: 15 minutes at CI size, more for `RELIABILITY_DOSSIERS=10000`.
TIMEOUT_S = 900 + (int(SIZE) // 2 if SIZE else 0)


async def run(
    campaign: Campaign,
    faults: list[Fault],
    report_name: str,
    *,
    explained: tuple[str, ...] = (),
    rest_after_first_fault: bool = False,
) -> Report:
    """Run the campaign with the faults injected once its flow has started.

    `rest_after_first_fault`: half the dossiers are submitted and evaluated
    before the faults start, the rest once the first fault is over, so that
    some dossiers meet the stack before it and some what it left (a new
    version of a service, say), whatever the machine's speed.
    """
    report = Report(dossiers=campaign.n)
    began = time.monotonic()
    campaign.history = History(REPORTS / f"{report_name}.history.jsonl")
    redeliveries_before = await redeliveries(campaign.database_url)
    await campaign.api.publish_grille(grille_body(campaign.edition))
    await campaign.register_all()

    flowing = asyncio.Event()

    def progress(done: int) -> None:
        if done >= campaign.n // 20:
            flowing.set()

    first_done = asyncio.Event()
    chaos = asyncio.create_task(run_faults(faults, report, flowing, first_done))
    # Big campaigns with more clients at once: 8 keep the API ahead of the flow at CI size, not at 10,000.
    concurrency = 8 if campaign.n <= 2000 else 16
    if rest_after_first_fault:
        half = len(campaign.codes) // 2
        await campaign.submit_all(concurrency, None, campaign.codes[:half])
        # The first half evaluated before the first fault, the rest after it.
        await campaign.wait_until("evaluated", EVALUATED, allowed_s(campaign.n), target=half)
        flowing.set()
        first = asyncio.ensure_future(first_done.wait())
        await asyncio.wait({first, chaos}, return_when=asyncio.FIRST_COMPLETED)  # chaos: a fault that failed
        first.cancel()
        await campaign.submit_all(concurrency, progress, campaign.codes[half:])
    else:
        await campaign.submit_all(concurrency=concurrency, on_progress=progress)
    await chaos
    assert await campaign.wait_until("evaluated", EVALUATED, allowed_s(campaign.n)) == campaign.n, (
        "dossiers stuck before evaluation"
    )
    assert await campaign.wait_until("receipts", notified("receipt"), allowed_s(campaign.n)) == campaign.n, (
        "receipts missing"
    )
    await campaign.publish_palmares()
    awarded = await campaign.wait_until("awards", notified("award"), allowed_s(campaign.n))
    report.stuck = campaign.n - awarded
    assert report.stuck == 0, f"{report.stuck} dossiers never got their award"
    await asyncio.sleep(3)  # anything extra (a resend) would arrive now
    verdict = await check(campaign, report, redeliveries_before, explained=explained)
    report.seconds = round(time.monotonic() - began, 1)
    report.write(REPORTS / f"{report_name}.json")
    print(f"\n{report_name}: {report.__dict__}")
    assert verdict.valid, f"{len(verdict.anomalies)} anomalies: {verdict.anomalies[:20]}"
    return report

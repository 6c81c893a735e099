"""`make bench`: a national campaign end to end on the real local stack, measured against raw Kafka.

    .venv/bin/python -m bench [--dossiers N] [--keep] [--latency-seconds 60] ...   (from the repository root)

Starts its own stack (Kafka, PostgreSQL, the SMTP capture and the four
services, as processes on free ports, in a scratch state dir), then:

1. publishes grille 2018 (and copies of it for the latency editions) and
   registers every collectivité (timed on its own: `registration_per_s`);
2. bulk intake: every collectivité submits one dossier through
   `POST /v1/editions/2018/submissions`, 32 requests in flight; the pipeline is
   timed until the status view knows the score and the mentions of every
   dossier, then until every receipt email is in the capture;
3. latency: new dossiers at a fixed offered load (open loop, 100/s for 60 s)
   in editions of their own (2019, …): POST → evaluated per dossier;
4. grille 2018 v2: until the status view shows both results under v2 for all;
5. the palmarès 2018 is published: until every award email is in the capture;
6. the public catalogue and observatoire of 2018: the p95 of their JSON API and pages (each
   request ten times, one at a time), and the largest inequality the observatoire found;
   then the palmarès page asked by 8 visitors at once (its time; submission's RSS in this phase);
7. the baseline: raw aiokafka produce → consume → produce of records of the
   size of the run's SubmissionReceived, on the same broker.

Prints the figures and writes `.run/bench/report.json` and
`.run/bench/report.png`. See docs/benchmark.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
from palmares_stack.ports import LOCALHOST, free_port
from palmares_stack.postgres import private_data_parent
from palmares_stack.services import ready_on, service_env, stack_service_specs
from palmares_stack.stack import LocalStack, ServiceSpec
from palmares_submission.refdata import load_reference
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bench import compare, stats
from bench.chart import Series, draw
from bench.counters import Counters, per_dossier
from bench.dossiers import Member, campaign_members, make_dossier, services_by_category
from bench.kafka_baseline import measure_baseline, record_shape
from bench.lean_http import HttpError, Response, SpreadClient
from bench.procstat import Component, Sampler, add_up, cpu_between, loadavg
from bench.profile import Profiler
from tools.repository import repository_root

REPO = repository_root()
GRILLES = REPO / "deploy" / "grilles"
PALMARES_VISITORS = 8  # asking for the palmarès page at once in the public phase (submission's peak RSS shows it)
EDITION = 2018  # the campaign's edition; beyond the reference's collectivités, 2019, 2020… hold the rest
MAX_EDITION = 2098  # the API takes 2000–2100
LATENCY_CONNECTIONS = 256  # open loop: requests beyond these wait in the client's queue (their clock runs)
CAMPAIGN_PHASES = ("registration", "bulk", "regrade", "palmares")
CONTEXT = ("kafka", "postgres", "smtp")
KAFKA_DATA = Path("kafka") / "node-0" / "data"  # the broker's log dir in the stack's state dir


class BenchError(RuntimeError):
    """The benchmark could not complete a phase."""


@dataclass(frozen=True)
class Config:
    dossiers: int | None
    concurrency: int
    latency_rate: float
    latency_seconds: float
    baseline_messages: int | None
    seed: int
    keep: bool
    out_dir: Path
    phase_timeout: float | None
    profile: Path | None = None
    compare_commit: str | None = None
    replicas: dict[str, int] = field(default_factory=dict)

    def timeout(self, n: int) -> float:
        """How long a phase may take for `n` dossiers before the benchmark gives up."""
        return self.phase_timeout or 300 + n * 0.1


@dataclass
class Posted:
    """One dossier submitted by the benchmark."""

    code: str
    sent: float  # epoch seconds, just before the request was written
    answered: float = 0.0
    submission_id: str = ""
    evaluated: float = 0.0  # from the status view's `updated_at` (see docs/benchmark.md)
    observed: float = 0.0  # when the benchmark's poll saw it evaluated


@dataclass
class Run:
    """Everything measured so far (the report is built from it, even after a failure)."""

    figures: dict[str, Any] = field(default_factory=dict)
    series: Series = field(default_factory=lambda: Series(origin=time.time()))
    sampler: Sampler | None = None
    counters: Counters | None = None
    dossiers: int = 0


# --------------------------------------------------------------------------- HTTP


class Api:
    """The submission API as a careful client uses it: retried on broken connections, 429 and 5xx."""

    def __init__(self, client: SpreadClient, operator_token: str) -> None:
        self.client = client
        self.operator = {"authorization": f"Bearer {operator_token}"}
        self.retries = 0

    async def call(
        self,
        method: str,
        url: str,
        *,
        payload: Any = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        ok: Sequence[int] = (200, 201, 202),
    ) -> Response:
        data = body if body is not None else b"" if payload is None else json.dumps(payload).encode()
        all_headers = {"content-type": "application/json", **(headers or {})}
        for attempt in range(10):
            try:
                r = await self.client.request(method, url, body=data, headers=all_headers)
            except HttpError:
                self.retries += 1
                await asyncio.sleep(0.2 * (attempt + 1))
                continue
            if r.status_code in ok:
                return r
            if r.status_code == 429 or r.status_code >= 500:
                self.retries += 1
                await asyncio.sleep(float(r.headers.get("retry-after", 0.2 * (attempt + 1))))
                continue
            raise BenchError(f"{method} {url}: {r.status_code} {r.text[:800]}")
        raise BenchError(f"{method} {url}: still failing after 10 attempts")

    async def submit(self, edition: int, token: str, body: bytes, key: str) -> Response:
        headers = {"authorization": f"Bearer {token}", "idempotency-key": key}
        return await self.call("POST", f"/v1/editions/{edition}/submissions", body=body, headers=headers)


# --------------------------------------------------------------------------- observing the stack

EVALUATED_COUNT = """
SELECT count(*) FILTER (WHERE r.kind = 'score') AS scores, count(*) FILTER (WHERE r.kind = 'mentions') AS mentions
FROM submission.results r JOIN submission.submissions s USING (submission_id)
WHERE s.edition = ANY($1::int[]) AND r.grille_version = $2 AND r.revision = s.revision"""

EVALUATED_AT = """
SELECT s.submission_id::text AS id, max(r.updated_at) AS at, count(*) AS kinds
FROM submission.submissions s JOIN submission.results r USING (submission_id)
WHERE s.edition = ANY($1::int[]) AND r.revision = s.revision AND r.grille_version = $2
GROUP BY s.submission_id"""

EVALUATED_AMONG = """
SELECT submission_id::text AS id, max(updated_at) AS at FROM submission.results
WHERE submission_id = ANY($1::uuid[]) AND revision = 1
GROUP BY submission_id HAVING count(*) = 2"""


async def evaluated_count(db: asyncpg.Connection, editions: list[int], version: int) -> int:
    """Dossiers of `editions` whose score and mentions under `version` the status view knows (cheap poll)."""
    row = await db.fetchrow(EVALUATED_COUNT, editions, version)
    assert row is not None, "an aggregate without GROUP BY returns one row"
    return min(int(row["scores"]), int(row["mentions"]))


async def evaluated_at(db: asyncpg.Connection, editions: list[int], version: int) -> dict[str, float]:
    """submission_id → when its second result under `version` was written (epoch seconds)."""
    rows = await db.fetch(EVALUATED_AT, editions, version)
    return {r["id"]: r["at"].timestamp() for r in rows if r["kinds"] == 2}


def mail_names(mail_dir: Path) -> list[str]:
    with os.scandir(mail_dir) as entries:
        return [e.name for e in entries if e.name.endswith(".eml")]


def mail_time(name: str) -> float:
    """Arrival time of a captured message, from its name (`20261125T172301.123456Z-<uuid>.eml`)."""
    return datetime.strptime(name.split("-", 1)[0], "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC).timestamp()


def mail_kind(path: Path) -> str:
    """The X-Palmares-Notification kind of a captured message (receipt, award, …)."""
    with path.open("rb") as f:
        head = f.read(16_384)
    for line in head.split(b"\n"):
        if line.lower().startswith(b"x-palmares-notification:"):
            return line.split(b":", 1)[1].split(b";")[0].strip().decode()
        if not line.strip():
            break
    return "unknown"


async def wait_for(
    what: str,
    probe: Callable[[], Awaitable[int]],
    target: int,
    progress: Progress,
    task: Any,
    within: float,
    interval: float = 1.0,
) -> None:
    """Poll `probe` until it reaches `target`, updating a progress bar; BenchError after `within` s."""
    deadline = time.monotonic() + within
    while True:
        value = await probe()
        progress.update(task, completed=min(value, target))
        if value >= target:
            return
        if time.monotonic() > deadline:
            raise BenchError(f"{what}: {value}/{target} after {within:.0f} s")
        await asyncio.sleep(interval)


# --------------------------------------------------------------------------- the campaign


@dataclass
class Campaign:
    cfg: Config
    env: dict[str, str]
    api: Api
    db: asyncpg.Connection
    progress: Progress
    console: Console
    sampler: Sampler
    run: Run
    members: list[Member]  # each collectivité once (registrations)
    entries: list[tuple[int, Member]]  # the campaign's dossiers: (edition, collectivité)
    bodies: dict[str, bytes]
    counters: Counters
    api_urls: list[str]
    tokens: dict[str, str] = field(default_factory=dict)
    posted: dict[str, Posted] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.entries)

    @property
    def editions(self) -> list[int]:
        return sorted({edition for edition, _ in self.entries})

    @property
    def mail_dir(self) -> Path:
        return Path(self.env["MAIL_DIR"])

    def say(self, text: str) -> None:
        self.progress.console.print(text)

    async def phase(self, name: str, start: float) -> None:
        self.sampler.mark(name)
        self.run.series.phases.append((name, start, time.time()))
        await self.counters.mark(name)

    async def mail_count(self) -> int:
        return len(await asyncio.to_thread(mail_names, self.mail_dir))

    # ---- 1. grilles and registrations

    async def publish_grille(self, name: str, edition: int) -> None:
        """`deploy/grilles/<name>`, as the grille of `edition` (copies of 2018's for the other editions)."""
        grille = json.loads((GRILLES / name).read_text())
        if edition != EDITION:
            grille = {**grille, "edition": edition, "title": f"{grille['title']} — banc d’essai {edition}"}
        await self.api.call("PUT", f"/v1/editions/{edition}/grille", payload=grille, headers=self.api.operator)

    async def publish_grilles(self, latency_editions: list[int]) -> None:
        for edition in [*self.editions, *latency_editions]:
            await self.publish_grille("grille-2018.json", edition)

    async def register(self) -> None:
        # Each collectivité once: past the reference's 36,218, dossiers repeat codes across editions.
        task = self.progress.add_task("registrations", total=len(self.members))
        gate = asyncio.Semaphore(self.cfg.concurrency)

        async def one(member: Member) -> None:
            async with gate:
                body = {"code": member.code, "contact_email": f"numerique.{member.code.lower()}@collectivites.example"}
                r = await self.api.call(
                    "POST", "/v1/collectivites", payload=body, headers=self.api.operator, ok=(201, 409)
                )
                if r.status_code == 409:  # a retried request had gone through: a new token then
                    r = await self.api.call("POST", f"/v1/collectivites/{member.code}/token", headers=self.api.operator)
                self.tokens[member.code] = r.json()["token"]
                self.progress.advance(task)

        begin = time.time()
        await asyncio.gather(*(one(m) for m in self.members))
        seconds = time.time() - begin
        self.run.figures.update(
            registration_s=round(seconds, 2), registration_per_s=stats.rate(len(self.members), seconds)
        )
        await self.phase("registration", begin)

    # ---- 2. bulk intake and pipeline

    async def bulk(self) -> None:
        n, figures, series = self.n, self.run.figures, self.run.series
        sent_task = self.progress.add_task(f"bulk POST ({self.cfg.concurrency} in flight)", total=n)
        eval_task = self.progress.add_task("evaluated (score + mentions)", total=n)
        gate = asyncio.Semaphore(self.cfg.concurrency)

        async def one(edition: int, member: Member) -> None:
            async with gate:
                posted = Posted(member.code, sent=time.time())
                r = await self.api.submit(
                    edition, self.tokens[member.code], self.bodies[member.code], f"bench-{edition}-{member.code}"
                )
                posted.answered = time.time()
                posted.submission_id = r.json()["submission_id"]
                self.posted[posted.submission_id] = posted
                self.progress.advance(sent_task)

        begin = time.time()
        watcher = asyncio.create_task(
            wait_for(
                "evaluated under grille v1",
                lambda: evaluated_count(self.db, self.editions, 1),
                n,
                self.progress,
                eval_task,
                self.cfg.timeout(n) * 2,
            )
        )
        try:
            await asyncio.gather(*(one(edition, m) for edition, m in self.entries))
            last_answer = max(p.answered for p in self.posted.values())
            await watcher
        finally:
            watcher.cancel()
        at = await evaluated_at(self.db, self.editions, 1)
        for sid, t in at.items():
            self.posted[sid].evaluated = t
        first_sent = min(p.sent for p in self.posted.values())
        all_evaluated = max(at.values())
        figures.update(
            intake_s=round(last_answer - first_sent, 2),
            intake_per_s=stats.rate(n, last_answer - first_sent),
            intake_http_ms=stats.summary_ms([p.answered - p.sent for p in self.posted.values()]),
            pipeline_s=round(all_evaluated - first_sent, 2),
            pipeline_per_s=stats.rate(n, all_evaluated - first_sent),
            pipeline_sustained_per_s=stats.sustained_rate(list(at.values())),
            drain_after_last_submission_s=round(max(0.0, all_evaluated - last_answer), 2),
            bulk_latency_ms=stats.summary_ms([p.evaluated - p.sent for p in self.posted.values()]),
        )
        series.submitted = [p.answered for p in self.posted.values()]
        series.evaluated = list(at.values())
        self.say(
            f"bulk: {n} dossiers posted in {figures['intake_s']} s ({figures['intake_per_s']}/s); "
            f"all evaluated {figures['drain_after_last_submission_s']} s after the last answer "
            f"(pipeline {figures['pipeline_per_s']}/s)"
        )
        # The receipts close the phase: the next one starts on an idle pipeline.
        receipts = self.progress.add_task("receipts in the SMTP capture", total=n)
        await wait_for("receipts", self.mail_count, n, self.progress, receipts, self.cfg.timeout(n))
        figures["receipts_done_after_last_submission_s"] = round(time.time() - last_answer, 2)
        await self.phase("bulk", begin)

    # ---- 3. latency at a fixed offered load

    async def latency(self, plan: list[tuple[int, Member, bytes]]) -> None:
        k, rate, figures = len(plan), self.cfg.latency_rate, self.run.figures
        sent_task = self.progress.add_task(f"POST at {rate:g}/s (open loop)", total=k)
        eval_task = self.progress.add_task("evaluated at fixed load", total=k)
        records: list[Posted] = []
        lags: list[float] = []
        outstanding: dict[str, Posted] = {}
        done: list[Posted] = []
        sending = True

        async def poll() -> None:
            # Every 100 ms: which submitted dossiers does the status view show as evaluated?
            while sending or outstanding:
                if outstanding:
                    rows = await self.db.fetch(EVALUATED_AMONG, list(outstanding))
                    now = time.time()
                    for row in rows:
                        posted = outstanding.pop(row["id"])
                        posted.evaluated, posted.observed = row["at"].timestamp(), now
                        done.append(posted)
                    self.progress.update(eval_task, completed=len(done))
                await asyncio.sleep(0.1)

        client = SpreadClient(self.api_urls, connections=LATENCY_CONNECTIONS, timeout=600)
        try:
            api = Api(client, "")
            loop = asyncio.get_running_loop()

            async def send(edition: int, member: Member, body: bytes, due: float) -> None:
                lags.append(loop.time() - due)
                posted = Posted(member.code, sent=time.time())
                records.append(posted)
                r = await api.submit(edition, self.tokens[member.code], body, f"bench-{edition}-{member.code}")
                posted.answered = time.time()
                posted.submission_id = r.json()["submission_id"]
                outstanding[posted.submission_id] = posted
                self.progress.advance(sent_task)

            poller = asyncio.create_task(poll())
            begin = time.time()
            start = loop.time()
            tasks = []
            try:
                for i, (edition, member, body) in enumerate(plan):
                    due = start + i / rate
                    if (delay := due - loop.time()) > 0:
                        await asyncio.sleep(delay)
                    tasks.append(asyncio.create_task(send(edition, member, body, due)))
                await asyncio.gather(*tasks)
                sending = False
                await asyncio.wait_for(poller, self.cfg.timeout(k))
            except TimeoutError:
                raise BenchError(f"latency phase: {len(done)}/{k} evaluated") from None
            finally:
                sending = False
                poller.cancel()
                for t in tasks:
                    t.cancel()
            self.api.retries += api.retries
        finally:
            await client.aclose()
        sends = sorted(p.sent for p in records)
        latencies = [p.evaluated - p.sent for p in done]
        figures.update(
            latency_ms={**stats.summary_ms(latencies), "offered_per_s": rate},
            latency_observed_ms=stats.summary_ms([p.observed - p.sent for p in done]),
            latency_http_ms=stats.summary_ms([p.answered - p.sent for p in records]),
            latency_send_lag_ms=stats.summary_ms(lags),
            latency_achieved_send_per_s=stats.rate(len(sends) - 1, sends[-1] - sends[0]),
            # Below the offered rate when the stack could not keep up (latencies then grow with the backlog).
            latency_evaluated_per_s=stats.rate(len(done), max(p.evaluated for p in done) - sends[0]),
            latency_dossiers=k,
        )
        self.run.series.latency_sent = sends
        self.run.series.latency_evaluated = [p.evaluated for p in done]
        self.run.series.latencies_ms = [v * 1000 for v in latencies]
        lat = figures["latency_ms"]
        self.say(f"latency at {rate:g}/s: p50 {lat['p50']} ms, p95 {lat['p95']} ms, p99 {lat['p99']} ms ({k} dossiers)")
        receipts = self.progress.add_task("receipts of the latency dossiers", total=k)
        await wait_for("receipts", lambda: self._count_over(self.n), k, self.progress, receipts, self.cfg.timeout(k))
        await self.phase("latency", begin)

    async def _count_over(self, base: int) -> int:
        return await self.mail_count() - base

    # ---- 4. grille update

    async def regrade(self) -> None:
        n, figures = self.n, self.run.figures
        task = self.progress.add_task("re-evaluated under grille v2", total=n)
        begin = time.time()
        for edition in self.editions:
            await self.publish_grille("grille-2018-v2.json", edition)
        await wait_for(
            "re-evaluation under grille v2",
            lambda: evaluated_count(self.db, self.editions, 2),
            n,
            self.progress,
            task,
            self.cfg.timeout(n),
        )
        at = await evaluated_at(self.db, self.editions, 2)
        figures.update(
            regrade_s=round(max(at.values()) - begin, 2),
            regrade_per_s=stats.rate(n, max(at.values()) - begin),
            regrade_sustained_per_s=stats.sustained_rate(list(at.values())),
        )
        self.run.series.regraded = list(at.values())
        self.say(f"grille v2: every dossier re-evaluated in {figures['regrade_s']} s")
        await self.phase("regrade", begin)

    # ---- 5. palmarès and award emails

    async def palmares(self) -> None:
        n, figures = self.n, self.run.figures
        task = self.progress.add_task("award emails in the SMTP capture", total=n)
        before = set(await asyncio.to_thread(mail_names, self.mail_dir))
        begin = time.time()
        body = {"ceremony": {"place": "Paris", "date": "2018-02-01"}}
        for edition in self.editions:
            await self.api.call("POST", f"/v1/editions/{edition}/palmares", payload=body, headers=self.api.operator)
        # How much of the first award's delay is the publication's own request (its transaction).
        published = time.time()
        await wait_for(
            "award emails",
            lambda: self._count_over(len(before)),
            n,
            self.progress,
            task,
            self.cfg.timeout(n),
            interval=0.5,
        )
        new = [name for name in await asyncio.to_thread(mail_names, self.mail_dir) if name not in before]
        times = sorted(mail_time(name) for name in new)
        kinds = Counter(await asyncio.to_thread(lambda: [mail_kind(self.mail_dir / name) for name in new]))
        figures.update(
            emails_per_s=stats.rate(len(times), times[-1] - begin),
            emails_sustained_per_s=stats.sustained_rate(times),
            emails_s=round(times[-1] - begin, 2),
            emails_first_after_s=round(times[0] - begin, 2),
            palmares_request_s=round(published - begin, 2),
            emails_by_kind=dict(kinds),
        )
        if kinds.get("award", 0) != n:
            self.say(f"[yellow]warning: {dict(kinds)} new messages, {n} awards expected[/]")
        self.run.series.emails = times
        self.say(f"palmarès: {len(times)} award emails in {figures['emails_s']} s ({figures['emails_per_s']}/s)")
        await self.phase("palmares", begin)

    # ---- 6. the public catalogue, observatoire and palmarès of the published edition

    # What visitors ask: words in French (accents, plurals), filters, « comme la mienne ».
    CATALOGUE_QUERIES = (
        "q=mediatheque",
        "q=données+ouvertes",
        "q=conseil+municipal+en+vidéo",
        "q=ateliers+numériques&category=village",
        "population=1500-3500",
        "departement=59",
        "region=84&arobases=4",
        "q=paiement+en+ligne&limit=100",
        "comme=49007",
        "",
    )
    OBSERVATOIRE_BREAKDOWNS = ("region", "departement", "population", "kind", "territoire")

    async def public(self, rounds: int = 10) -> None:
        """The catalogue and the observatoire answer the public: each request `rounds` times, one at a time."""
        figures = self.run.figures
        edition = self.editions[0]
        begin = time.time()
        timed: dict[str, list[float]] = {"catalogue": [], "observatoire": [], "pages": []}
        requests = [
            # The lean client sends the target as it is: non-ASCII must be percent-encoded (RFC 3986).
            *(("catalogue", f"/v1/actions?edition={edition}&{quote(q, safe='=&+')}") for q in self.CATALOGUE_QUERIES),
            *(("observatoire", f"/v1/editions/{edition}/observatoire?by={by}") for by in self.OBSERVATOIRE_BREAKDOWNS),
            ("pages", f"/actions?edition={edition}&q=numerique"),
            ("pages", f"/observatoire/{edition}?by=departement"),
        ]
        task = self.progress.add_task("public: catalogue and observatoire", total=rounds * len(requests))
        answers: dict[str, Any] = {}
        for _ in range(rounds):
            for kind, url in requests:
                start = time.perf_counter()
                r = await self.api.call("GET", url, ok=(200,))
                timed[kind].append(time.perf_counter() - start)
                answers.setdefault(url, r)
                self.progress.advance(task)
        # The day of the publication: visitors ask for the whole palmarès page at once (one page per edition).
        start = time.perf_counter()
        pages = await asyncio.gather(
            *(self.api.call("GET", f"/palmares/{edition}", ok=(200,)) for _ in range(PALMARES_VISITORS))
        )
        palmares_page = {
            "visitors": PALMARES_VISITORS,
            "s": round(time.perf_counter() - start, 2),
            "mb": round(len(pages[0].content) / 2**20, 1),
        }
        # And its data, as the page's « Données JSON » link gives them.
        start = time.perf_counter()
        data = await self.api.call("GET", f"/v1/editions/{edition}/palmares", ok=(200,))
        palmares_json = {"s": round(time.perf_counter() - start, 2), "mb": round(len(data.content) / 2**20, 1)}
        # And its files, each asked once (the page's download links).
        palmares_files = {}
        for extension in ("csv", "xlsx", "ods"):
            start = time.perf_counter()
            data = await self.api.call("GET", f"/v1/editions/{edition}/palmares?format={extension}", ok=(200,))
            palmares_files[extension] = {
                "s": round(time.perf_counter() - start, 2),
                "mb": round(len(data.content) / 2**20, 1),
            }
        observed = answers[f"/v1/editions/{edition}/observatoire?by=departement"].json()
        catalogue = answers[f"/v1/actions?edition={edition}&"].json()
        largest = observed.get("largest_inequality")
        figures["public"] = {
            "edition": edition,
            "catalogue_actions": catalogue["total"],
            "catalogue_ms": stats.summary_ms(timed["catalogue"]),
            "observatoire_ms": stats.summary_ms(timed["observatoire"]),
            "pages_ms": stats.summary_ms(timed["pages"]),
            "palmares_page": palmares_page,
            "palmares_json": palmares_json,
            "palmares_files": palmares_files,
            "participants": observed["total"]["participants"],
            "labelled": observed["total"]["labelled"],
            "largest_inequality": (
                {k: largest[k] for k in ("code", "label", "gini", "theil", "adopters", "departements")}
                if largest
                else None
            ),
        }
        pub = figures["public"]
        self.say(
            f"public: catalogue p95 {pub['catalogue_ms']['p95']} ms ({pub['catalogue_actions']} actions), "
            f"observatoire p95 {pub['observatoire_ms']['p95']} ms, pages p95 {pub['pages_ms']['p95']} ms; "
            f"palmarès page ({palmares_page['mb']} MB) to {PALMARES_VISITORS} visitors at once in "
            f"{palmares_page['s']} s, its JSON ({palmares_json['mb']} MB) in {palmares_json['s']} s, its files in "
            + ", ".join(f"{f['s']} s ({ext}, {f['mb']} MB)" for ext, f in palmares_files.items())
            + "; "
            + (
                f"largest inequality: {largest['label']} (Gini {largest['gini']}, Theil {largest['theil']})"
                if largest
                else "no inequality"
            )
        )
        await self.phase("public", begin)

    # ---- 7. baseline

    async def baseline(self) -> None:
        figures = self.run.figures
        bootstrap = self.env["KAFKA_BOOTSTRAP_SERVERS"]
        shape, records = await record_shape(bootstrap, "submissions.v1")
        messages = self.cfg.baseline_messages or max(self.n, 20_000)
        task = self.progress.add_task(f"baseline: {messages} records produce → consume → produce", total=1)
        begin = time.time()
        result = await measure_baseline(bootstrap, shape, messages, within=self.cfg.timeout(messages))
        self.progress.update(task, completed=1)
        figures["baseline_per_s"] = round(result.per_s, 1)
        figures["baseline"] = {
            "messages": messages,
            "value_bytes": shape.value_bytes,
            "key_bytes": shape.key_bytes,
            "header_bytes": sum(len(k) + len(v) for k, v in shape.headers),
            "size_measured_over_records": records,
            "seconds": round(result.seconds, 2),
            "produce_only_per_s": round(messages / result.produce_seconds, 1),
        }
        self.say(
            f"baseline: {messages} records of {shape.value_bytes} B relayed at {figures['baseline_per_s']}/s "
            f"(produce alone {figures['baseline']['produce_only_per_s']}/s)"
        )
        await self.phase("baseline", begin)


def public_rows(public: dict[str, Any] | None, fmt: Callable[..., str]) -> list[tuple[str, str, str]]:
    """The public phase's lines of the summary: the API's p95 and the largest inequality found."""
    if not public:
        return []
    largest = public.get("largest_inequality")
    return [
        ("catalogue GET /v1/actions p95 (search, filters)", fmt(public["catalogue_ms"].get("p95"), " ms"), ""),
        ("observatoire GET …/observatoire p95", fmt(public["observatoire_ms"].get("p95"), " ms"), ""),
        (
            "largest inequality across départements (Gini)",
            f"{largest['label']} {largest['gini']}" if largest else "—",
            "",
        ),
    ]


def campaign_entries(members: Sequence[Member], n: int | None) -> list[tuple[int, Member]]:
    """The campaign's dossiers: each collectivité in edition 2018, then again in 2019, 2020… up to `n`.

    Beyond the reference's collectivités (`--dossiers 100000`), codes repeat
    across editions: each edition is a campaign of its own, as large as the
    reference, and the grille updates and palmarès cover them all.
    """
    count = len(members) if n is None else n
    return [(EDITION + i // len(members), members[i % len(members)]) for i in range(count)]


def latency_plan(
    members: Sequence[Member],
    k: int,
    seed: int,
    bodies_for: Callable[[random.Random, Member], bytes],
    first_edition: int,
) -> list[tuple[int, Member, bytes]]:
    """`k` new dossiers: each collectivité once per latency edition (after the campaign's), as many as needed."""
    rng = random.Random(seed + 1)
    return [
        (
            first_edition + i // len(members),
            members[i % len(members)],
            bodies_for(rng, members[i % len(members)]),
        )
        for i in range(k)
    ]


# --------------------------------------------------------------------------- the report


def git_state() -> dict[str, Any]:
    def git(*args: str) -> str:
        out = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False)
        return out.stdout.rstrip("\n")

    porcelain = git("status", "--porcelain").splitlines()  # "XY path": 2 status columns and a space
    return {"commit": git("rev-parse", "HEAD"), "modified": [line[3:] for line in porcelain if line.strip()]}


STACK = (*stats.SERVICES, *CONTEXT)


def cpu_ms_per_dossier(phases: dict[str, dict[str, float]], n: int) -> dict[str, dict[str, float]]:
    """phase → process → CPU ms per dossier, and `stack`: every process of the stack (not the client, not others)."""
    out: dict[str, dict[str, float]] = {}
    for phase in CAMPAIGN_PHASES:
        cpu = phases.get(phase)
        if not cpu or n <= 0:
            continue
        row = {name: round(cpu[name] * 1000 / n, 2) for name in STACK if name in cpu}
        row["stack"] = round(sum(cpu[name] for name in STACK if name in cpu) * 1000 / n, 2)
        out[phase] = row
    return out


def finish_report(run: Run, sampler: Sampler, cfg: Config, n: int, meta: dict[str, Any]) -> dict[str, Any]:
    """The report: figures, ratios, CPU and memory per process, targets."""
    figures = run.figures
    names = list(sampler.marks)
    phases = {b: cpu_between(sampler.marks[a], sampler.marks[b]) for a, b in itertools.pairwise(names)}
    campaign = add_up(phases, CAMPAIGN_PHASES)
    peaks = sampler.peak_rss_mb()
    peaks_by_phase = sampler.peak_rss_mb_by_phase()
    per_1000 = n / 1000
    services = {
        name: {
            "cpu_s_per_1000": round(campaign[name] / per_1000, 2) if name in campaign and per_1000 else None,
            "cpu_s": campaign.get(name),
            "peak_rss_mb": peaks.get(name),
            "peak_rss_mb_by_phase": {phase: mb[name] for phase, mb in peaks_by_phase.items() if name in mb},
        }
        for name in stats.SERVICES
    }
    context: dict[str, dict[str, Any]] = {
        name: {
            "cpu_s_per_1000": round(campaign[name] / per_1000, 2) if name in campaign and per_1000 else None,
            "cpu_s": campaign.get(name),
            "peak_rss_mb": peaks.get(name),
        }
        for name in CONTEXT
    }
    context["client"] = {
        "cpu_s": campaign.get("client"),
        "note": "this benchmark's own process (load generator, polls)",
    }
    context["others"] = {"cpu_s": campaign.get("others"), "note": "CPU used by other programs on the machine"}
    baseline = figures.get("baseline_per_s")

    def ratio(value: float | None) -> float | None:
        return round(value / baseline, 4) if value is not None and baseline else None

    report: dict[str, Any] = {
        "dossiers": n,
        **figures,
        "ratio_pipeline_to_baseline": ratio(figures.get("pipeline_per_s")),
        "ratios_to_baseline": {
            "intake": ratio(figures.get("intake_per_s")),
            "pipeline": ratio(figures.get("pipeline_per_s")),
            "regrade": ratio(figures.get("regrade_per_s")),
            "emails": ratio(figures.get("emails_per_s")),
        },
        "services": services,
        "context": context,
        "cpu_s_by_phase": phases,
        "client_retries": meta.pop("client_retries", 0),
        **meta,
        "config": {
            "edition": EDITION,
            "concurrency": cfg.concurrency,
            "latency_rate": cfg.latency_rate,
            "latency_seconds": cfg.latency_seconds,
            "seed": cfg.seed,
            "replicas": cfg.replicas,
            "cpu_per_1000_phases": list(CAMPAIGN_PHASES),
        },
    }
    counted = per_dossier(run.counters.marks, CAMPAIGN_PHASES, n) if run.counters else {}
    report["statements_per_dossier"] = counted.get("statements", {})
    report["kafka_records_per_dossier"] = counted.get("records", {})
    report["kafka_bytes_per_dossier"] = counted.get("bytes", {})
    report["postgres_per_dossier"] = counted.get("postgres", {})
    if run.counters and run.counters.errors:
        report["counter_errors"] = run.counters.errors
    report["cpu_ms_per_dossier"] = cpu_ms_per_dossier(phases, n)
    peaks_of_services = [float(peak) for name in stats.SERVICES if (peak := peaks.get(name)) is not None]
    report["peak_service_rss_mb"] = max(peaks_of_services) if peaks_of_services else None
    other = report.get("compare", {}).get("bulk_cpu_ms_per_dossier", {}).get("stack")
    ours = report["cpu_ms_per_dossier"].get("bulk", {}).get("stack")
    if other and ours is not None:
        report["compare"]["cpu_ratio"] = round(ours / other, 3)
    report["latency_ms"] = figures.get("latency_ms", {"p50": None, "p95": None, "p99": None})
    report["targets"] = stats.check_targets(report)
    return report


def work_table(report: dict[str, Any]) -> Table:
    """Per dossier, by phase: CPU ms per process, statements per service, Kafka records and bytes per topic,
    PostgreSQL's write-ahead log."""
    phases = [*CAMPAIGN_PHASES, "campaign"]
    table = Table(title="Where the work goes, per dossier (campaign phases)")
    table.add_column("what")
    for phase in phases:
        table.add_column(phase, justify="right")
    cpu = report.get("cpu_ms_per_dossier", {})
    for name in (*STACK, "stack"):
        row = [cpu.get(phase, {}).get(name) for phase in CAMPAIGN_PHASES]
        if any(v is not None for v in row):
            table.add_row(f"CPU ms: {name}", *("—" if v is None else f"{v:.2f}" for v in row), "")
    for kind, label in (
        ("statements_per_dossier", "statements"),
        ("kafka_records_per_dossier", "records"),
        ("kafka_bytes_per_dossier", "bytes"),
        ("postgres_per_dossier", "PostgreSQL"),
    ):
        for name, by_phase in sorted(report.get(kind, {}).items()):
            table.add_row(f"{label}: {name}", *(f"{by_phase[p]:g}" if p in by_phase else "—" for p in phases))
    return table


def print_report(console: Console, report: dict[str, Any], out: Path) -> None:
    def fmt(value: Any, unit: str = "") -> str:
        if value is None:
            return "—"
        return f"{value:,.1f}{unit}".replace(",", " ") if isinstance(value, float) else f"{value}{unit}"

    def ratio(value: float | None) -> str:
        return "—" if value is None else f"{value:.3f}"

    lat = report.get("latency_ms", {})
    ratios = {k: ratio(v) for k, v in report.get("ratios_to_baseline", {}).items()}
    table = Table(title=f"Palmarès benchmark — {report['dossiers']} dossiers", show_lines=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("÷ baseline", justify="right")
    rows = [
        ("registrations (HTTP, operator)", fmt(report.get("registration_per_s"), " /s"), ""),
        (
            f"intake: submissions (HTTP, {report.get('config', {}).get('concurrency')} in flight)",
            fmt(report.get("intake_per_s"), " /s"),
            ratios.get("intake", "—"),
        ),
        ("pipeline: dossiers evaluated", fmt(report.get("pipeline_per_s"), " /s"), ratios.get("pipeline", "—")),
        ("  evaluated after the last submission", fmt(report.get("drain_after_last_submission_s"), " s"), ""),
        (
            f"latency POST → evaluated at {lat.get('offered_per_s', '?')}/s p50 / p95 / p99",
            f"{fmt(lat.get('p50'))} / {fmt(lat.get('p95'))} / {fmt(lat.get('p99'))} ms",
            "",
        ),
        ("re-evaluation after grille v2", fmt(report.get("regrade_s"), " s"), ratios.get("regrade", "—")),
        ("award emails", fmt(report.get("emails_per_s"), " /s"), ratios.get("emails", "—")),
        (
            "  first award after the publication (its request)",
            f"{fmt(report.get('emails_first_after_s'), ' s')} ({fmt(report.get('palmares_request_s'), ' s')})",
            "",
        ),
        *public_rows(report.get("public"), fmt),
        ("baseline: raw aiokafka produce → consume → produce", fmt(report.get("baseline_per_s"), " /s"), "1"),
    ]
    for row in rows:
        table.add_row(*row)
    console.print(table)

    procs = Table(title="CPU and memory per process (campaign phases: " + ", ".join(CAMPAIGN_PHASES) + ")")
    for column in ("process", "CPU s", "CPU s / 1000 dossiers", "peak RSS MB", "peak RSS MB by phase"):
        procs.add_column(column, justify="right" if column != "process" else "left")
    for name, values in {**report.get("services", {}), **report.get("context", {})}.items():
        by_phase = values.get("peak_rss_mb_by_phase") or {}
        procs.add_row(
            name,
            fmt(values.get("cpu_s")),
            fmt(values.get("cpu_s_per_1000")),
            fmt(values.get("peak_rss_mb")),
            " ".join(f"{phase} {fmt(mb)}" for phase, mb in by_phase.items() if phase in CAMPAIGN_PHASES),
        )
    console.print(procs)

    console.print(work_table(report))
    targets = Table(title="Targets of issue 16 (2 cores, whole stack on one machine; a ratio decides when given)")
    for column in ("target", "goal", "measured", "ratio", "result"):
        targets.add_column(column)
    for t in report.get("targets", []):
        color = "green" if t["result"] == "PASS" else "red"
        targets.add_row(t["target"], t["goal"], fmt(t["value"]), ratio(t.get("ratio")), f"[{color}]{t['result']}[/]")
    console.print(targets)
    if "compare" in report:
        other = report["compare"]
        console.print(
            f"compared with {other.get('rev')} ({str(other.get('commit'))[:9]}): bulk CPU per dossier "
            f"{fmt(other.get('bulk_cpu_ms_per_dossier', {}).get('stack'))} ms there, ratio {other.get('cpu_ratio')}"
            + (f"; error: {other['error']}" if other.get("error") else "")
        )
    machine = report.get("machine", {})
    console.print(
        f"load average {machine.get('loadavg_start')} at start, {machine.get('loadavg_end')} at the end; "
        f"other programs used {fmt(report.get('context', {}).get('others', {}).get('cpu_s'))} CPU s "
        f"during the campaign phases ({machine.get('cores')} cores)"
    )
    console.print(f"report: {out / 'report.json'}   chart: {out / 'report.png'}")


# --------------------------------------------------------------------------- main


def base_name(process: str) -> str:
    """The component a process counts under: `kafka-0` → kafka, `notify-2` (a replica) → notify."""
    if process.startswith("kafka"):
        return "kafka"
    base, _, number = process.rpartition("-")
    return base if number.isdigit() and base in stats.SERVICES else process


def components(stack: LocalStack) -> list[Component]:
    found: dict[str, Component] = {}
    for process in stack.processes():
        name = base_name(process.name)
        if name in found:
            found[name].replicas += (process.pid,)
            continue
        postgres = name == "postgres"
        found[name] = Component(name, process.pid, tree=postgres, pss=postgres)
    return list(found.values())


def replica_specs(replicas: dict[str, int], extra: dict[str, str]) -> list[ServiceSpec]:
    """The second, third… process of each replicated service: same environment, a port of its own."""
    specs = []
    for name, count in replicas.items():
        for i in range(2, count + 1):
            port = free_port()
            specs.append(
                ServiceSpec(
                    name=f"{name}-{i}",
                    argv=[sys.executable, "-m", f"palmares_{name}"],
                    env={**service_env(name, port, {}), **extra},
                    ready=ready_on(port),
                    timeout=90.0,
                )
            )
    return specs


async def sample_forever(sampler: Sampler, interval: float = 1.0) -> None:
    while True:
        sampler.sample()
        await asyncio.sleep(interval)


async def report_progress_lines(progress: Progress, interval: float = 15.0) -> None:
    """Without a terminal (CI logs, `| tee`), rich draws no live bar: print the unfinished tasks now and then."""
    while True:
        await asyncio.sleep(interval)
        for task in progress.tasks:
            if not task.finished and task.total:
                progress.console.print(
                    f"  … {task.description}: {task.completed:.0f}/{task.total:.0f} ({task.elapsed or 0:.0f} s)"
                )


async def run_campaign(
    cfg: Config, stack: LocalStack, console: Console, run: Run, meta: dict[str, Any], service_urls: dict[str, list[str]]
) -> None:
    env = stack.read_env()
    reference = load_reference()
    within_reference = cfg.dossiers if cfg.dossiers is not None and cfg.dossiers <= len(reference) else None
    members = campaign_members(reference.values(), within_reference, seed=cfg.seed)
    entries = campaign_entries(members, cfg.dossiers)
    run.dossiers = len(entries)
    first_latency_edition = entries[-1][0] + 1
    v1 = json.loads((GRILLES / "grille-2018.json").read_text())
    catalog = services_by_category(v1)

    def body_of(rng: random.Random, member: Member) -> bytes:
        return json.dumps(make_dossier(rng, member, catalog), ensure_ascii=False).encode()

    rng = random.Random(cfg.seed)
    bodies = {m.code: body_of(rng, m) for m in members}
    k = min(int(cfg.latency_rate * cfg.latency_seconds), len(members) * (MAX_EDITION - first_latency_edition + 1))
    plan = latency_plan(members, k, cfg.seed, body_of, first_latency_edition)
    latency_editions = sorted({edition for edition, _, _ in plan})
    actions = [len(json.loads(b)["actions"]) for b in bodies.values()]
    meta["sample"] = {
        **Counter(m.category + "s" for m in members),
        "actions": sum(actions),
        "actions_per_dossier": round(sum(actions) / len(actions), 2),
        "body_bytes_mean": round(sum(len(b) for b in bodies.values()) / len(bodies)),
        "campaign_editions": entries[-1][0] - EDITION + 1,
        "latency_editions": len(latency_editions),
    }
    sampler = run.sampler = Sampler(components(stack))
    metrics = {name: [f"{url}/metrics" for url in urls] for name, urls in service_urls.items()}
    counters = run.counters = Counters(
        metrics, env["KAFKA_BOOTSTRAP_SERVERS"], stack.state_dir / KAFKA_DATA, database_url=env["DATABASE_URL"]
    )
    await counters.start()
    sampler.mark("start")
    await counters.mark("start")
    sampling = asyncio.create_task(sample_forever(sampler))
    client = SpreadClient(service_urls["submission"], connections=cfg.concurrency)
    db = await asyncpg.connect(env["DATABASE_URL"])
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=console) as progress:
            campaign = Campaign(
                cfg,
                env,
                Api(client, env["OPERATOR_TOKEN"]),
                db,
                progress,
                console,
                sampler,
                run,
                members,
                entries,
                bodies,
                counters,
                service_urls["submission"],
            )
            lines = None if console.is_terminal else asyncio.create_task(report_progress_lines(progress))
            pids = {c.name: c.pid for c in sampler.components if c.name in stats.SERVICES}
            profiler = Profiler(cfg.profile, pids) if cfg.profile else None

            def profiled(phase: str) -> contextlib.AbstractContextManager[None]:
                return profiler.phase(phase) if profiler else contextlib.nullcontext()

            try:
                run.series.origin = time.time()
                await campaign.publish_grilles(latency_editions)
                await campaign.register()
                with profiled("bulk"):
                    await campaign.bulk()
                if plan:
                    await campaign.latency(plan)
                with profiled("regrade"):
                    await campaign.regrade()
                with profiled("palmares"):
                    await campaign.palmares()
                await campaign.public()
                await campaign.baseline()
                if profiler:
                    meta["flame_graphs"] = [str(p) for p in profiler.written]
            finally:
                meta["client_retries"] = campaign.api.retries
                if lines is not None:
                    lines.cancel()
    finally:
        sampler.sample()
        sampling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampling
        await db.close()
        await client.aclose()
        await counters.stop()
        run.series.cpu = sampler.samples


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed (the services use it too): a lighter load generator."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def parse_args(argv: Sequence[str] | None) -> Config:
    parser = argparse.ArgumentParser(description="A national campaign on the local stack (docs/benchmark.md).")
    parser.add_argument("--dossiers", type=int, help="a deterministic sample of N collectivités (default: all)")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight during the bulk intake")
    parser.add_argument("--latency-rate", type=float, default=100.0, help="offered load of the latency phase (/s)")
    parser.add_argument("--latency-seconds", type=float, default=60.0, help="length of the latency phase (0: skip)")
    parser.add_argument("--baseline-messages", type=int, help="records of the baseline (default: max(N, 20000))")
    parser.add_argument("--seed", type=int, default=2018)
    parser.add_argument("--phase-timeout", type=float, help="seconds a phase may take (default 300 + 0.1 × N)")
    parser.add_argument(
        "--out", dest="out_dir", type=Path, default=REPO / ".run" / "bench", help="where report.json/png go"
    )
    parser.add_argument("--keep", action="store_true", help="leave the stack running (its state dir is printed)")
    parser.add_argument(
        "--replicas",
        action="append",
        default=[],
        metavar="SERVICE=N",
        help="run N processes of a service (e.g. notify=2, submission=2: requests spread over them)",
    )
    parser.add_argument(
        "--compare-commit",
        metavar="REV",
        help="then measure REV's CPU per dossier on this machine (its own worktree and venv under /tmp)",
    )
    parser.add_argument(
        "--profile", type=Path, help="write py-spy flame graphs of each service for bulk, regrade, palmarès here"
    )
    args = parser.parse_args(argv)
    if args.dossiers is not None and args.dossiers < 1:
        parser.error("--dossiers must be at least 1")
    replicas: dict[str, int] = {}
    for item in args.replicas:
        name, _, count = item.partition("=")
        if name not in stats.SERVICES or not count.isdigit() or int(count) < 1:
            parser.error(f"--replicas {item}: expected SERVICE=N with SERVICE one of {', '.join(stats.SERVICES)}")
        replicas[name] = int(count)
    # Each option's destination is the name of its field in Config; --replicas is the only one parsed further.
    return Config(**{**{f.name: getattr(args, f.name) for f in fields(Config)}, "replicas": replicas})


def main(argv: Sequence[str] | None = None) -> int:
    cfg = parse_args(argv)
    console = Console()
    # SIGTERM stops the benchmark like Ctrl-C: the stack is stopped on the way out.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    started = time.time()
    meta: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "loadavg_start": loadavg()},
        "git": git_state(),
    }
    run = Run()
    error: str | None = None
    parent = private_data_parent("palmares-bench-")
    state = parent / "run"
    stack = LocalStack(state)
    try:
        console.print(f"starting the stack in {state}")
        specs, extra = stack_service_specs(state, free_port())
        specs += replica_specs(cfg.replicas, extra)
        up = stack.up(services=specs, log=console.print)
        stack.update_env(extra)
        meta["stack_start_s"] = {k: round(v, 1) for k, v in up.timings.items()}
        console.print(f"stack up in {up.timings.get('total', 0):.1f} s")
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            service_urls: dict[str, list[str]] = {}
            for spec in specs:
                url = f"http://{LOCALHOST}:{spec.env['PALMARES_HTTP_PORT']}"
                service_urls.setdefault(base_name(spec.name), []).append(url)
            runner.run(run_campaign(cfg, stack, console, run, meta, service_urls))
    except BaseException as exc:  # whatever stopped it, the report says so
        error = f"{type(exc).__name__}: {exc}"
        console.print(f"[red]benchmark failed: {error}[/]")
        if not isinstance(exc, BenchError | KeyboardInterrupt):
            console.print_exception()
    finally:
        meta["machine"]["loadavg_end"] = loadavg()
        meta["duration_s"] = round(time.time() - started, 1)
        if error is not None and stack.logs_dir.is_dir():
            shutil.copytree(stack.logs_dir, cfg.out_dir / "logs", dirs_exist_ok=True)
            console.print(f"service logs copied to {cfg.out_dir / 'logs'}")
        if cfg.keep:
            console.print(
                f"stack left running in {state}; stop it with: "
                f"{sys.executable} -m palmares_stack down --state-dir {state}"
            )
        else:
            stack.down()
            shutil.rmtree(parent, ignore_errors=True)
    if error is None and cfg.compare_commit:
        console.print(f"measuring {cfg.compare_commit} on the same sample for the CPU ratio")
        try:
            meta["compare"] = compare.measure(REPO, cfg.compare_commit, run.dossiers, cfg.seed, cfg.out_dir / "compare")
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            meta["compare"] = {"rev": cfg.compare_commit, "error": str(exc)}
    if error is not None:
        meta["error"] = error
    sampler = run.sampler
    report = finish_report(run, sampler, cfg, run.dossiers, meta) if sampler else {"dossiers": run.dossiers, **meta}
    cfg.out_dir.mkdir(parents=True, exist_ok=True)
    (cfg.out_dir / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    if sampler is not None:
        cpu_names = [c.name for c in sampler.components]
        draw(cfg.out_dir / "report.png", run.series, report, cpu_names)
    print_report(console, report, cfg.out_dir)
    return 1 if error else 0


if __name__ == "__main__":
    sys.exit(main())

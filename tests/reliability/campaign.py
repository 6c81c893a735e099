"""A campaign driver for the reliability suite: many dossiers, faults injected while they flow, then checks.

The collectivités behave like real clients: a request whose connection broke,
or that got a 5xx while the API or its database restarted, is sent again with
the same `Idempotency-Key` (so it never creates a second revision).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from tests.integration.harness import Api, Codes, Stack, read_mails

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

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.__dict__, indent=2) + "\n")


class Campaign:
    """N collectivités of an edition, each submitting one dossier, then the palmarès."""

    def __init__(self, api: Api, stack: Stack, codes: Codes, edition: int, n: int, tag: str) -> None:
        self.api = api
        self.stack = stack
        self.edition = edition
        self.n = n
        kinds = ["village"] * 3 + ["ville"] * 6 + ["territoire"]
        self.codes = [codes.take(kinds[i % len(kinds)]) for i in range(n)]
        self.contacts = {code: f"{tag}-{edition}-{code}@collectivites.example" for code in self.codes}
        self.tokens: dict[str, str] = {}
        self.submitted: dict[str, str] = {}
        self.retries = 0
        self._rng = random.Random(edition)

    async def _call(self, method: str, url: str, *, ok: tuple[int, ...], **kw: Any) -> httpx.Response:
        """A request as a careful client sends it: retried on broken connections and 5xx, for up to 2 minutes."""
        deadline = time.monotonic() + 120
        delay = 0.2
        while True:
            try:
                r = await self.api.client.request(method, url, **kw)
                if r.status_code in ok:
                    return r
                if r.status_code < 500:
                    raise AssertionError(f"{method} {url}: {r.status_code} {r.text}")
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} {url}: no success within 2 minutes")
            self.retries += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 3.0)

    async def register_all(self, concurrency: int = 16) -> None:
        gate = asyncio.Semaphore(concurrency)

        async def one(code: str) -> None:
            async with gate:
                r = await self._call(
                    "POST", "/v1/collectivites", ok=(201, 409), headers=self.api.operator,
                    json={"code": code, "contact_email": self.contacts[code]},
                )  # fmt: skip
                if r.status_code == 409:
                    r = await self._call(
                        "POST", f"/v1/collectivites/{code}/token", ok=(200,), headers=self.api.operator
                    )
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

    async def submit_all(self, concurrency: int = 8, on_progress: Callable[[int], None] | None = None) -> None:
        gate = asyncio.Semaphore(concurrency)

        async def one(code: str) -> None:
            async with gate:
                r = await self._call(
                    "POST", f"/v1/editions/{self.edition}/submissions", ok=(202,), json=self.dossier(code),
                    headers={"Authorization": f"Bearer {self.tokens[code]}", "Idempotency-Key": f"campaign-{code}"},
                )  # fmt: skip
                self.submitted[code] = r.json()["submission_id"]
                if on_progress:
                    on_progress(len(self.submitted))

        await asyncio.gather(*(one(c) for c in self.codes))

    async def publish_palmares(self) -> None:
        await self._call(
            "POST", f"/v1/editions/{self.edition}/palmares", ok=(202, 409), headers=self.api.operator,
            json={"ceremony": {"place": "Lille", "date": f"{self.edition}-02-01"}},
        )  # fmt: skip

    async def wait_until(self, what: str, sql: str, within: float) -> int:
        """Poll a count over this edition's dossiers until it reaches N."""
        conn = await asyncpg.connect(self.stack.env["DATABASE_URL"])
        try:
            deadline = time.monotonic() + within
            while True:
                try:
                    count = int(await conn.fetchval(sql, self.edition))
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    count = -1  # the database is being restarted by a fault
                    await conn.close()
                    await asyncio.sleep(1)
                    conn = await asyncpg.connect(self.stack.env["DATABASE_URL"])
                if count >= self.n or time.monotonic() > deadline:
                    return count
                await asyncio.sleep(0.5)
        finally:
            await conn.close()


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


async def run_faults(faults: list[Fault], report: Report, start: asyncio.Event) -> None:
    """Inject the faults one after another, once the flow has started."""
    await start.wait()
    for name, fault in faults:
        began = time.monotonic()
        await fault()
        report.faults.append({"fault": name, "seconds": round(time.monotonic() - began, 1)})
        await asyncio.sleep(1.0)


async def check(campaign: Campaign, report: Report, redeliveries_before: int, dead_letters: int) -> None:
    """Exactly one current score, one mention result, one receipt and one award per dossier."""
    conn = await asyncpg.connect(campaign.stack.env["DATABASE_URL"])
    try:
        for schema in ("scoring", "mentions"):
            per_dossier = await conn.fetch(
                f"""SELECT d.submission_id, count(e.*) AS n FROM {schema}.dossiers d
                    LEFT JOIN {schema}.evaluations e ON e.submission_id = d.submission_id AND e.revision = d.revision
                    WHERE d.edition = $1 GROUP BY 1""",
                campaign.edition,
            )
            assert len(per_dossier) == campaign.n, f"{schema} knows {len(per_dossier)} dossiers of {campaign.n}"
            assert Counter(r["n"] for r in per_dossier) == {1: campaign.n}, f"{schema}: one current result each"
        revisions = await conn.fetch(
            "SELECT revision, count(*) AS n FROM submission.submissions WHERE edition = $1 GROUP BY 1", campaign.edition
        )
        assert [(r["revision"], r["n"]) for r in revisions] == [(1, campaign.n)], "retried requests made no revision"
    finally:
        await conn.close()

    mails = read_mails(campaign.stack.mail_dir, campaign.contacts.values())
    copies = Counter((m.kind, m.to, m.message_id) for m in mails)
    distinct = Counter((kind, to) for kind, to, _ in copies)
    expected = {(k, to): 1 for to in campaign.contacts.values() for k in ("receipt", "award")}
    report.receipts = sum(1 for k, _ in distinct if k == "receipt")
    report.awards = sum(1 for k, _ in distinct if k == "award")
    report.duplicated_as_seen_by_users = sum(n - 1 for n in distinct.values())
    report.resent_in_smtp_window = sum(n - 1 for n in copies.values())
    report.lost = sum(1 for key in expected if key not in distinct)
    report.redeliveries_absorbed = await redeliveries(campaign.stack.env["DATABASE_URL"]) - redeliveries_before
    report.dead_letters = dead_letters
    report.client_retries = campaign.retries
    assert report.lost == 0, f"{report.lost} emails never arrived"
    assert dict(distinct) == expected, "one receipt and one award per collectivité"
    for key, n in copies.items():
        if n > 1:  # the SMTP window (docs/delivery.md): a resend must be the very same message
            bodies = {m.path.read_bytes() for m in mails if (m.kind, m.to, m.message_id) == key}
            assert len(bodies) == 1, f"a resend differs from the original: {key}"

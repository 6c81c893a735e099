"""Test harness for the integration suite: the four services as real processes, and a client.

The services run exactly as in production (`python -m palmares_<service>`),
against the session's real Kafka, PostgreSQL and SMTP capture (`infra`
fixture of `palmares_stack`). Tests share one stack per session and isolate
themselves by edition (each test takes its own) and by contact address.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import itertools
import json
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from palmares_stack.process import ManagedProcess
from palmares_stack.pytest_plugin import Infra
from palmares_stack.services import SERVICES, ServiceEndpoint, start_service
from palmares_submission.refdata import category_of, load_reference

from tests.factories import grille_body

T = TypeVar("T")

_editions = itertools.count(2031)

# Quick retries of the emails: the tests inject SMTP refusals of a few seconds.
QUICK_RETRIES = {
    "PALMARES_SEND_BASE_DELAY_S": "0.5",
    "PALMARES_SEND_MAX_DELAY_S": "2",
    "PALMARES_SEND_MAX_ATTEMPTS": "60",
}


def next_edition() -> int:
    """A fresh edition number per test: tests never see each other's dossiers."""
    return next(_editions)


@dataclass
class Stack:
    """The four services running against the session's infrastructure."""

    env: dict[str, str]
    log_dir: Path
    trace_dir: Path
    mail_dir: Path
    operator_token: str
    endpoints: dict[str, ServiceEndpoint] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)  # chosen before start (the public URL names it)

    @classmethod
    def on(cls, infra: Infra, base: Path, env: Mapping[str, str], ports: Mapping[str, int] | None = None) -> Stack:
        """The four services (not started yet) on `infra`'s servers with `env` on top, a new operator token,
        their logs and traces under `base`."""
        token = "op_" + secrets.token_urlsafe(16)
        return cls(
            env={**infra.env(), "OPERATOR_TOKEN": token, "PALMARES_TRACE_DIR": str(base / "traces"), **env},
            log_dir=base / "logs",
            trace_dir=base / "traces",
            mail_dir=infra.mail_dir,
            operator_token=token,
            ports=dict(ports or {}),
        )

    @property
    def api_url(self) -> str:
        return self.endpoints["submission"].url

    @contextlib.asynccontextmanager
    async def api(self, timeout_s: float = 30) -> AsyncIterator[Api]:
        """A client of the submission service's API, with the stack's operator token."""
        async with httpx.AsyncClient(base_url=self.api_url, timeout=timeout_s) as client:
            yield Api(client, self.operator_token)

    def start(self, names: Iterable[str] = SERVICES) -> None:
        names = list(names)
        with ThreadPoolExecutor(len(names)) as pool:
            started = pool.map(
                lambda n: start_service(
                    n,
                    self.env,
                    self.log_dir,
                    port=self.endpoints[n].port if n in self.endpoints else self.ports.get(n),
                    tie_to_parent=True,
                ),
                names,
            )
            for endpoint in started:
                self.endpoints[endpoint.name] = endpoint

    def process(self, name: str) -> ManagedProcess:
        return self.endpoints[name].process

    def kill(self, name: str) -> None:
        """SIGKILL: no graceful shutdown, no flush, like a crashed host."""
        self.process(name).kill()

    def restart(self, name: str) -> None:
        self.start([name])

    def replace(self, name: str, argv: Sequence[str] | None = None) -> None:
        """Stop a service gracefully and start another version of it (`argv`; None: this one) on the same port."""
        endpoint = self.endpoints[name]
        endpoint.process.stop(timeout=20)
        self.endpoints[name] = start_service(
            name, self.env, self.log_dir, port=endpoint.port, tie_to_parent=True, argv=argv
        )

    def start_version(self, name: str, instance: str, argv: Sequence[str] | None) -> ServiceEndpoint:
        """Another instance of a service, of another version (`argv`), in the same consumer groups."""
        endpoint = start_service(name, self.env, self.log_dir, tie_to_parent=True, instance=instance, argv=argv)
        self.endpoints[endpoint.name] = endpoint
        return endpoint

    def start_instance(self, name: str, instance: str) -> ServiceEndpoint:
        """Another instance of a service, in the same consumer groups (the caller stops it)."""
        endpoint = start_service(name, self.env, self.log_dir, tie_to_parent=True, instance=instance)
        self.endpoints[endpoint.name] = endpoint
        return endpoint

    def stop(self) -> None:
        for endpoint in self.endpoints.values():
            endpoint.process.stop(timeout=20)

    def spans(self) -> list[dict[str, Any]]:
        spans = []
        for path in self.trace_dir.glob("*.jsonl"):
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    spans.append(json.loads(line))
                except json.JSONDecodeError:
                    continue  # empty, or the last line still being written by the exporter
        return spans


@dataclass(frozen=True)
class Mail:
    """One message as the SMTP server received it."""

    path: Path
    message: EmailMessage

    @property
    def kind(self) -> str:
        return str(self.message["X-Palmares-Notification"]).split(";")[0]

    @property
    def to(self) -> str:
        return str(self.message["To"])

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"]).strip()

    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]

    def html(self) -> str:
        return self.message.get_body(("html",)).get_content()  # type: ignore[union-attr]


def read_mails(mail_dir: Path, to: Iterable[str] | None = None) -> list[Mail]:
    """Every captured message (optionally only those sent to `to`), in arrival order."""
    wanted = set(to) if to is not None else None
    mails = []
    for path in sorted(mail_dir.glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        mail = Mail(path, msg)  # type: ignore[arg-type]
        if wanted is None or mail.to in wanted:
            mails.append(mail)
    return mails


Record = tuple[bytes | None, bytes, Sequence[tuple[str, bytes]]]


async def create_database(database_url: str, name: str) -> str:
    """The URL of database `name` on `database_url`'s server, created unless it exists."""
    admin = await asyncpg.connect(database_url)
    try:
        if not await admin.fetchval("SELECT true FROM pg_database WHERE datname = $1", name):
            await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    return database_url.rsplit("/", 1)[0] + "/" + name


async def produce(bootstrap: str, topic: str, records: Iterable[Record], **options: Any) -> None:
    """Write raw records (key, value, headers) to `topic`, in order, as a misbehaving producer could."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **options)
    await producer.start()
    try:
        for key, value, headers in records:
            await producer.send_and_wait(topic, value, key=key, headers=list(headers))
    finally:
        await producer.stop()


async def eventually(check: Callable[[], Awaitable[T | None]], within: float = 60, what: str = "condition") -> T:
    """Poll `check` until it returns something truthy; fail with `what` after `within` s."""
    deadline = time.monotonic() + within
    last: T | None = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out after {within}s waiting for {what}; last value: {last!r}")


class Codes:
    """Real collectivité codes from the reference data, each handed out once per session."""

    def __init__(self) -> None:
        refs = sorted(load_reference().values(), key=lambda r: r.code)
        self._by_category = {
            cat: iter([r.code for r in refs if category_of(r) == cat]) for cat in ("village", "ville", "territoire")
        }

    def take(self, category: str = "ville") -> str:
        return next(self._by_category[category])


class Api:
    """A thin client of the submission service's HTTP API."""

    def __init__(self, client: httpx.AsyncClient, operator_token: str) -> None:
        self.client = client
        self.operator = {"Authorization": f"Bearer {operator_token}"}

    async def register(self, code: str, email_address: str) -> str:
        r = await self.client.post(
            "/v1/collectivites", json={"code": code, "contact_email": email_address}, headers=self.operator
        )
        if r.status_code == 409:
            r = await self.client.post(f"/v1/collectivites/{code}/token", headers=self.operator)
        r.raise_for_status()
        return str(r.json()["token"])

    async def publish_grille(self, grille_body: dict[str, Any]) -> dict[str, Any]:
        r = await self.client.put(
            f"/v1/editions/{grille_body['edition']}/grille", json=grille_body, headers=self.operator
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def submit(self, token: str, edition: int, body: dict[str, Any], **headers: str) -> httpx.Response:
        return await self.client.post(
            f"/v1/editions/{edition}/submissions", json=body, headers={"Authorization": f"Bearer {token}", **headers}
        )

    async def status(self, submission_id: str) -> dict[str, Any]:
        r = await self.client.get(f"/v1/submissions/{submission_id}", headers=self.operator)
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def wait_status(self, submission_id: str, status: str, within: float = 60, **expected: Any) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            view = await self.status(submission_id)
            if view["status"] == status and all(view.get(k) == v for k, v in expected.items()):
                return view
            return None

        return await eventually(check, within, f"{submission_id} {status} {expected}")

    async def publish_palmares(self, edition: int) -> httpx.Response:
        return await self.client.post(
            f"/v1/editions/{edition}/palmares",
            json={"ceremony": {"place": "Lille", "date": f"{edition}-02-01"}},
            headers=self.operator,
        )


@contextlib.asynccontextmanager
async def open_edition(stack: Stack, *, http_timeout_s: float = 30) -> AsyncIterator[tuple[Api, int]]:
    """A client of the API and an edition of its own, its grille published: the campaign a test module shares."""
    async with stack.api(http_timeout_s) as api:
        edition = next_edition()
        # The grille's default dossier deadline: 30 November of the year before the edition.
        await api.publish_grille(grille_body(edition))
        yield api, edition


def dossier(contact_email: str, *, services: list[str] | None = None, narrative: str = "") -> dict[str, Any]:
    """A dossier body as a collectivité posts it."""
    return {
        "contact_email": contact_email,
        "narrative": narrative or "Notre commune publie ses données ouvertes et anime un espace public numérique.",
        "actions": [
            {
                "title": "Portail de données ouvertes",
                "description": "Publication des jeux de données de la commune sur data.gouv.fr.",
                "services": services if services is not None else ["portail_open_data"],
                "url": "https://data.commune.example/",
                "started_on": "2016-01-15",
            },
            {
                "title": "Espace public numérique",
                "description": "Ateliers d'initiation pour les seniors, deux fois par semaine.",
                "services": ["espace_public_numerique"],
                "started_on": "2015-09-01",
            },
        ],
    }

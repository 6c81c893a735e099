"""Read the final state of a campaign from outside: the public API, the topics, the SMTP capture.

Nothing here reads a service's tables: the checker sees what users and
operators see (the API answers, the events on Kafka, the messages the SMTP
server received).
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
from palmares_cli.dlq import DeadLetter
from palmares_cli.kafka_io import read_topics
from palmares_contracts import ALL_TOPICS, MENTIONS, SCORES

from tools.checker.history import Entry
from tools.checker.verdict import Evaluation, Letter, MailSeen, Observed, acknowledged


async def observe(
    history: list[Entry],
    *,
    api_url: str,
    operator_token: str,
    bootstrap: str,
    mail_dir: Path,
    edition: int,
    since_ms: int | None = None,
    concurrency: int = 16,
) -> Observed:
    """Everything `verdict.check` compares with the history (dead letters written since `since_ms`)."""
    dossiers = acknowledged(history)
    headers = {"Authorization": f"Bearer {operator_token}"}
    async with httpx.AsyncClient(base_url=api_url, timeout=30, headers=headers) as client:
        statuses = await _statuses(client, [d.submission_id for d in dossiers.values() if d.submission_id], concurrency)
        grille = await client.get(f"/v1/editions/{edition}/grille")
        grille_version = int(grille.json()["version"]) if grille.status_code == 200 else None
        palmares = await _palmares(client, edition)
    scores, mentions, *letters = await read_topics(
        bootstrap, [SCORES.name, MENTIONS.name, *(t.dlq for t in ALL_TOPICS)], timeout_s=300
    )
    evaluations = [
        *_evaluations("score", (r.value for r in scores.letters), edition),
        *_evaluations("mentions", (r.value for r in mentions.letters), edition),
    ]
    since = since_ms if since_ms is not None else int(min((e.time for e in history), default=0) * 1000)
    every = [d for content in letters for d in content.letters]
    before = {_source(d) for d in every if (d.timestamp_ms or 0) < since}
    dead = [
        Letter(
            topic=d.topic,
            consumer=d.header("x-consumer") or "",
            error_type=d.header("x-error-type") or "",
            error=d.header("x-error") or "",
            timestamp_ms=d.timestamp_ms or 0,
            again=_source(d) in before,
        )
        for d in every
        if (d.timestamp_ms or 0) >= since
    ]
    contacts = {d.contact for d in dossiers.values() if d.contact}
    return Observed(
        statuses=statuses,
        evaluations=evaluations,
        grille_version=grille_version,
        mails=read_mail_dir(mail_dir, contacts),
        palmares=palmares,
        dead_letters=dead,
    )


def _source(letter: DeadLetter) -> tuple[str | None, ...]:
    """The consumer and the source record of a dead letter."""
    return tuple(letter.header(h) for h in ("x-consumer", "x-source-topic", "x-source-partition", "x-source-offset"))


async def _statuses(
    client: httpx.AsyncClient, submission_ids: list[str], concurrency: int
) -> dict[str, dict[str, Any] | None]:
    gate = asyncio.Semaphore(concurrency)

    async def one(sid: str) -> tuple[str, dict[str, Any] | None]:
        async with gate:
            r = await client.get(f"/v1/submissions/{sid}")
            if r.status_code == 404:
                return sid, None
            r.raise_for_status()
            return sid, dict(r.json())

    return dict(await asyncio.gather(*(one(s) for s in submission_ids)))


async def _palmares(client: httpx.AsyncClient, edition: int) -> set[str] | None:
    r = await client.get(f"/v1/editions/{edition}/palmares")
    if r.status_code == 404:
        return None
    r.raise_for_status()
    view = r.json()
    return {e["collectivite_code"] for group in ("villages", "villes", "territoires") for e in view[group]}


def _evaluations(kind: str, values: Iterable[bytes | None], edition: int) -> list[Evaluation]:
    found = []
    for value in values:
        try:
            doc = json.loads(value or b"")
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue  # a poison record of another test: not an evaluation
        if not isinstance(doc, dict) or doc.get("edition") != edition:
            continue
        found.append(
            Evaluation(
                kind=kind,
                event_id=str(doc["event_id"]),
                submission_id=str(doc["submission_id"]),
                revision=int(doc["revision"]),
                grille_version=int(doc["grille_version"]),
            )
        )
    return found


def read_mail_dir(mail_dir: Path, to: set[str]) -> list[MailSeen]:
    """The messages the SMTP capture wrote (one `.eml` each) to any of `to`."""
    seen = []
    parser = email.parser.BytesParser(policy=email.policy.default)
    for path in sorted(mail_dir.glob("*.eml")):
        raw = path.read_bytes()
        message = parser.parsebytes(raw, headersonly=True)
        recipient = str(message["To"])
        if recipient not in to:
            continue
        seen.append(
            MailSeen(
                kind=str(message["X-Palmares-Notification"]).split(";")[0],
                to=recipient,
                message_id=str(message["Message-ID"]).strip(),
                digest=hashlib.sha256(raw).hexdigest(),
            )
        )
    return seen

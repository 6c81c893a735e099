"""The progress of an edition's long work, for operators: `GET /v1/editions/{edition}/progress`.

Two operations start work that takes minutes on a large edition: publishing a
grille version (scoring and mentions re-evaluate every dossier) and publishing
the palmarès (notify sends an award email per dossier). This service sees that
work arrive through the events it consumes for the status view: a dossier is
done for scoring (or mentions) when its current revision's result under the
edition's current grille version has reached the status view, and its award
is done when notify reported it sent or failed. Counts therefore trail the
services by the status view's consumer lag (seconds), and never read another
service's tables.

The rate is that of the last minute (or since the work started, if later); the
time left divides what remains by it. Dead letters are the records held on the
dead-letter topics of every topic (all editions: a dead letter may not name
one), read from Kafka's offsets; `null` when Kafka cannot be read.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import APIRouter, Path, Request
from palmares_contracts.topics import ALL_TOPICS
from palmares_eventkit import kafka_security
from palmares_eventkit.db import Connection
from palmares_eventkit.lag import partitions_of
from palmares_eventkit.settings import ServiceSettings
from pydantic import BaseModel, Field

from palmares_submission.api import AUTH, AuthenticatedFirst, Operator, runtime_of
from palmares_submission.errors import ApiError, responses

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1", route_class=AuthenticatedFirst)

EditionPath = Annotated[int, Path(ge=2000, le=2100, examples=[2018])]

# The rate is measured over the last minute: long enough to smooth a chunk's commit, short
# enough to follow a service that slows down or stops.
RATE_WINDOW_S = 60.0
# Kafka's offsets are read at most this often, whatever the number of operators polling.
DEAD_LETTERS_TTL_S = 5.0
DEAD_LETTERS_TIMEOUT_S = 5.0


class JobProgress(BaseModel):
    """One service's share of the work started by the last publication."""

    service: Literal["scoring", "mentions", "notify"]
    job: Literal["evaluation", "awards"] = Field(
        description="`evaluation`: every dossier under the current grille version; `awards`: an email per dossier."
    )
    started_at: datetime | None = Field(description="The publication that started it (null: not started).")
    done: int
    total: int
    rate_per_s: float = Field(description="Dossiers done per second over the last minute.")
    eta_s: float | None = Field(description="Seconds left at that rate (0 when finished, null when nothing moves).")
    finished: bool


class EvaluatedCounts(BaseModel):
    scoring: int
    mentions: int


class AwardCounts(BaseModel):
    queued: int = Field(description="Awards due and not yet reported sent or failed by notify.")
    sent: int
    failed: int


class DeadLetters(BaseModel):
    total: int
    topics: dict[str, int] = Field(description="Records held on each dead-letter topic that has any.")


class ProgressView(BaseModel):
    edition: int
    grille_version: int
    palmares_published_at: datetime | None
    measured_at: datetime
    dossiers: int
    evaluated: EvaluatedCounts = Field(description="Dossiers evaluated under the current grille version.")
    awards: AwardCounts
    dead_letters: DeadLetters | None = Field(description="Null when Kafka could not be read.")
    jobs: list[JobProgress]


def rate_and_eta(
    done: int, total: int, recent: int, started_at: datetime | None, now: datetime
) -> tuple[float, float | None]:
    """Items per second over the last `RATE_WINDOW_S` (or since `started_at`), and the seconds left at that rate."""
    if started_at is None:
        return 0.0, None
    elapsed = min(RATE_WINDOW_S, (now - started_at).total_seconds())
    rate = recent / elapsed if elapsed > 0 and recent > 0 else 0.0
    if done >= total:
        return rate, 0.0
    return rate, (total - done) / rate if rate > 0 else None


def job(
    service: Literal["scoring", "mentions", "notify"],
    kind: Literal["evaluation", "awards"],
    *,
    done: int,
    total: int,
    recent: int,
    started_at: datetime | None,
    now: datetime,
) -> JobProgress:
    rate, eta = rate_and_eta(done, total, recent, started_at, now)
    return JobProgress(
        service=service,
        job=kind,
        started_at=started_at,
        done=done,
        total=total,
        rate_per_s=round(rate, 2),
        eta_s=None if eta is None else round(eta, 1),
        finished=started_at is not None and done >= total,
    )


_COUNTS = """
WITH ed AS (
  SELECT e.edition, e.grille_version, e.palmares_published_at, g.published_at AS grille_published_at
  FROM editions e JOIN grilles g ON g.edition = e.edition AND g.version = e.grille_version
  WHERE e.edition = $1
), evaluated AS (
  SELECT count(*) FILTER (WHERE r.kind = 'score') AS scoring,
         count(*) FILTER (WHERE r.kind = 'score' AND r.updated_at > now() - $2 * interval '1 second') AS scoring_recent,
         count(*) FILTER (WHERE r.kind = 'mentions') AS mentions,
         count(*) FILTER (WHERE r.kind = 'mentions' AND r.updated_at > now() - $2 * interval '1 second')
           AS mentions_recent
  FROM submissions s
  JOIN results r ON r.submission_id = s.submission_id AND r.revision = s.revision
  JOIN ed ON r.grille_version = ed.grille_version
  WHERE s.edition = $1
), awards AS (
  SELECT count(DISTINCT submission_id) FILTER (WHERE status = 'sent') AS sent,
         count(DISTINCT submission_id) FILTER (WHERE status = 'failed') AS failed,
         count(*) FILTER (WHERE occurred_at > now() - $2 * interval '1 second') AS recent
  FROM notifications WHERE edition = $1 AND kind = 'award'
)
SELECT ed.*, now() AS now,
       (SELECT count(*) FROM submissions WHERE edition = $1) AS dossiers,
       evaluated.*, awards.sent AS awards_sent, awards.failed AS awards_failed, awards.recent AS awards_recent
FROM ed, evaluated, awards
"""


async def edition_progress(conn: Connection, edition: int, dead_letters: DeadLetters | None) -> ProgressView | None:
    """The edition's progress (None when no grille was ever published for it)."""
    row = await conn.fetchrow(_COUNTS, edition, RATE_WINDOW_S)
    if row is None:
        return None
    now: datetime = row["now"]
    dossiers: int = row["dossiers"]
    published_at: datetime | None = row["palmares_published_at"]
    # Every dossier gets its award once the palmarès is out (notify waits for its final results).
    awarded = row["awards_sent"] + row["awards_failed"]
    award_total = dossiers if published_at is not None else 0
    return ProgressView(
        edition=edition,
        grille_version=row["grille_version"],
        palmares_published_at=published_at,
        measured_at=now,
        dossiers=dossiers,
        evaluated=EvaluatedCounts(scoring=row["scoring"], mentions=row["mentions"]),
        awards=AwardCounts(queued=max(0, award_total - awarded), sent=row["awards_sent"], failed=row["awards_failed"]),
        dead_letters=dead_letters,
        jobs=[
            *(
                job(
                    service,
                    "evaluation",
                    done=row[service],
                    total=dossiers,
                    recent=row[f"{service}_recent"],
                    started_at=row["grille_published_at"],
                    now=now,
                )
                for service in ("scoring", "mentions")
            ),
            job(
                "notify",
                "awards",
                done=awarded,
                total=award_total,
                recent=row["awards_recent"],
                started_at=published_at,
                now=now,
            ),
        ],
    )


# --- dead letters, from Kafka's offsets ----------------------------------------------------------


def held(
    partitions: dict[str, list[int]], beginnings: dict[TopicPartition, int], ends: dict[TopicPartition, int]
) -> DeadLetters:
    """Records held on each topic: end minus beginning offset of every partition (pure)."""
    topics = {}
    for topic, numbers in partitions.items():
        count = sum(
            max(0, ends.get(TopicPartition(topic, p), 0) - beginnings.get(TopicPartition(topic, p), 0)) for p in numbers
        )
        if count:
            topics[topic] = count
    return DeadLetters(total=sum(topics.values()), topics=dict(sorted(topics.items())))


async def read_dead_letters(settings: ServiceSettings) -> DeadLetters:
    """The records held on every dead-letter topic (an admin client and a group-less consumer, closed after)."""
    kwargs = kafka_security.client_kwargs(settings)
    servers = settings.kafka_bootstrap_servers
    admin = AIOKafkaAdminClient(bootstrap_servers=servers, client_id="palmares-progress", **kwargs)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=servers, client_id="palmares-progress", enable_auto_commit=False, **kwargs
    )
    await admin.start()
    try:
        await consumer.start()
        try:
            partitions = partitions_of(await admin.describe_topics([t.dlq for t in ALL_TOPICS]))
            every = [TopicPartition(t, p) for t, ps in partitions.items() for p in ps]
            if not every:
                return DeadLetters(total=0, topics={})
            return held(partitions, await consumer.beginning_offsets(every), await consumer.end_offsets(every))
        finally:
            await consumer.stop()
    finally:
        await admin.close()


@dataclass
class DeadLetterReader:
    """Kafka's offsets read at most every `DEAD_LETTERS_TTL_S`; None (and a warning) when Kafka cannot be read."""

    settings: ServiceSettings
    _value: DeadLetters | None = None
    _read_at: float = float("-inf")
    _lock: asyncio.Lock | None = None

    async def read(self) -> DeadLetters | None:
        self._lock = self._lock or asyncio.Lock()
        async with self._lock:
            if time.monotonic() - self._read_at < DEAD_LETTERS_TTL_S:
                return self._value
            try:
                self._value = await asyncio.wait_for(read_dead_letters(self.settings), DEAD_LETTERS_TIMEOUT_S)
            except Exception as exc:
                log.warning("dead letters not counted", extra={"error": str(exc) or type(exc).__name__})
                self._value = None
            self._read_at = time.monotonic()
            return self._value


def _dead_letter_reader(request: Request) -> DeadLetterReader:
    state = request.app.state
    reader: DeadLetterReader | None = getattr(state, "dead_letter_reader", None)
    if reader is None:
        reader = state.dead_letter_reader = DeadLetterReader(runtime_of(request).settings)
    return reader


@router.get(
    "/editions/{edition}/progress",
    response_model=ProgressView,
    tags=["operator"],
    responses=responses(*AUTH, 404),
)
async def progress(edition: EditionPath, request: Request, _: Operator) -> ProgressView:
    """The progress of the edition's re-evaluation and awards (`palmares grille publish --wait`)."""
    dead_letters = await _dead_letter_reader(request).read()
    async with runtime_of(request).pool.acquire() as conn:
        view = await edition_progress(conn, edition, dead_letters)
    if view is None:
        raise ApiError(404, f"Aucune grille publiée pour l’édition {edition}.")
    return view

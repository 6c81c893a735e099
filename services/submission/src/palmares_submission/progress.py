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
from functools import partial
from typing import Annotated, Literal

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import APIRouter, Path, Request
from palmares_contracts.topics import ALL_TOPICS
from palmares_eventkit import kafka_security
from palmares_eventkit.lag import partitions_of
from palmares_eventkit.settings import ServiceSettings
from pydantic import BaseModel, Field

from palmares_submission import progress_store
from palmares_submission.api import AUTH, AuthenticatedFirst, Operator, runtime_of
from palmares_submission.errors import ApiError, responses
from palmares_submission.progress_store import ProgressCounts

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


def edition_progress(counts: ProgressCounts, dead_letters: DeadLetters | None) -> ProgressView:
    """The edition's progress, from its counts (pure)."""
    c = counts
    # Every dossier gets its award once the palmarès is out (notify waits for its final results).
    awarded = c.awards_sent + c.awards_failed
    award_total = c.dossiers if c.palmares_published_at is not None else 0
    # Scoring and mentions evaluate the same dossiers from the same grille's publication.
    evaluation = partial(job, kind="evaluation", total=c.dossiers, started_at=c.grille_published_at, now=c.now)
    return ProgressView(
        edition=c.edition,
        grille_version=c.grille_version,
        palmares_published_at=c.palmares_published_at,
        measured_at=c.now,
        dossiers=c.dossiers,
        evaluated=EvaluatedCounts(scoring=c.scoring, mentions=c.mentions),
        awards=AwardCounts(queued=max(0, award_total - awarded), sent=c.awards_sent, failed=c.awards_failed),
        dead_letters=dead_letters,
        jobs=[
            evaluation("scoring", done=c.scoring, recent=c.scoring_recent),
            evaluation("mentions", done=c.mentions, recent=c.mentions_recent),
            job(
                "notify",
                "awards",
                done=awarded,
                total=award_total,
                recent=c.awards_recent,
                started_at=c.palmares_published_at,
                now=c.now,
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
        counts = await progress_store.counts(conn, edition, RATE_WINDOW_S)
    if counts is None:
        raise ApiError(404, f"Aucune grille publiée pour l’édition {edition}.")
    return edition_progress(counts, dead_letters)

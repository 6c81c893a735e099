"""The progress view's arithmetic: rate over the last minute, time left, dead letters held (no server)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from aiokafka import TopicPartition
from palmares_submission.progress import RATE_WINDOW_S, edition_progress, held, job, rate_and_eta
from palmares_submission.progress_store import ProgressCounts

NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)


def test_the_rate_is_that_of_the_last_minute() -> None:
    rate, eta = rate_and_eta(done=1_000, total=3_000, recent=600, started_at=NOW - timedelta(hours=1), now=NOW)
    assert rate == 600 / RATE_WINDOW_S == 10.0
    assert eta == 200.0


def test_work_younger_than_the_window_is_measured_since_it_started() -> None:
    rate, eta = rate_and_eta(done=150, total=3_000, recent=150, started_at=NOW - timedelta(seconds=15), now=NOW)
    assert (rate, eta) == (10.0, 285.0)


def test_nothing_moving_leaves_the_time_unknown_and_finished_work_none() -> None:
    assert rate_and_eta(done=10, total=30, recent=0, started_at=NOW - timedelta(hours=1), now=NOW) == (0.0, None)
    assert rate_and_eta(done=30, total=30, recent=0, started_at=NOW - timedelta(hours=1), now=NOW) == (0.0, 0.0)
    assert rate_and_eta(done=0, total=0, recent=0, started_at=None, now=NOW) == (0.0, None)


def test_a_job_is_finished_once_started_and_complete() -> None:
    started = NOW - timedelta(minutes=5)
    assert job("notify", "awards", done=0, total=0, recent=0, started_at=None, now=NOW).finished is False
    assert job("notify", "awards", done=0, total=0, recent=0, started_at=started, now=NOW).finished is True
    running = job("scoring", "evaluation", done=2, total=3, recent=1, started_at=started, now=NOW)
    assert (running.finished, running.rate_per_s, running.eta_s) == (False, 0.02, 60.0)


def test_dead_letters_held_are_end_minus_beginning_offsets() -> None:
    partitions = {"scores.v1.dlq": [0, 1], "submissions.v1.dlq": [0], "jury.v1.dlq": [0]}
    beginnings = {TopicPartition("scores.v1.dlq", 0): 2, TopicPartition("jury.v1.dlq", 0): 4}
    ends = {
        TopicPartition("scores.v1.dlq", 0): 5,
        TopicPartition("scores.v1.dlq", 1): 1,
        TopicPartition("submissions.v1.dlq", 0): 0,
        TopicPartition("jury.v1.dlq", 0): 4,  # every record deleted by retention
    }
    found = held(partitions, beginnings, ends)
    assert (found.total, found.topics) == (4, {"scores.v1.dlq": 4})


def test_an_editions_progress_follows_from_its_counts_with_no_server() -> None:
    now = datetime(2026, 12, 5, 16, 0, tzinfo=UTC)
    counts = ProgressCounts(
        edition=2017, grille_version=2, palmares_published_at=now - timedelta(seconds=30),
        grille_published_at=now - timedelta(minutes=5), now=now, dossiers=100,
        scoring=100, scoring_recent=0, mentions=40, mentions_recent=30,
        awards_sent=50, awards_failed=2, awards_recent=52,
    )  # fmt: skip
    view = edition_progress(counts, None)
    assert (view.dossiers, view.evaluated.scoring, view.evaluated.mentions) == (100, 100, 40)
    assert (view.awards.queued, view.awards.sent, view.awards.failed) == (48, 50, 2)
    scoring, mentions, notify = view.jobs
    assert scoring.finished and scoring.eta_s == 0.0
    assert not mentions.finished and mentions.rate_per_s == 0.5 and mentions.eta_s == 120.0
    assert notify.job == "awards" and notify.total == 100 and notify.eta_s == round(48 / (52 / 30), 1)
    # Before the palmarès, no award is due.
    before = edition_progress(replace(counts, palmares_published_at=None, awards_sent=0, awards_failed=0), None)
    assert (before.awards.queued, before.jobs[2].total, before.jobs[2].started_at) == (0, 0, None)

"""Polling dossiers until they reach a status, with a fake clock (no sleeping)."""

from __future__ import annotations

from typing import Any

import pytest
from palmares_cli.demo import reached
from palmares_cli.errors import OperationFailed, UsageProblem
from palmares_cli.waiting import wait_for


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_status_order() -> None:
    assert reached("notified", "evaluated") and reached("evaluated", "evaluated")
    assert not reached("received", "evaluated") and not reached(None, "received")


def test_waits_until_every_dossier_gets_there() -> None:
    clock = FakeClock()
    timeline = {"a": ["received", "evaluated"], "b": ["received", "received", "notified"]}
    progress: list[tuple[int, int]] = []

    def fetch(submission_id: str) -> dict[str, Any]:
        states = timeline[submission_id]
        return {"status": states.pop(0) if len(states) > 1 else states[0]}

    views = wait_for(
        fetch,
        {"A": "a", "B": "b"},
        "evaluated",
        timeout_s=30,
        clock=clock,
        sleep=clock.sleep,
        on_update=lambda done, total: progress.append((done, total)),
    )
    assert {k: v["status"] for k, v in views.items()} == {"A": "evaluated", "B": "notified"}
    assert progress == [(0, 2), (1, 2), (2, 2)]
    assert clock.now == 2.0


def test_timeout_names_the_dossiers_behind_and_why() -> None:
    clock = FakeClock()
    failed = {"kind": "award", "status": "failed", "reason": "550 mailbox unavailable"}

    def fetch(submission_id: str) -> dict[str, Any]:
        if submission_id == "late":
            return {"status": "evaluated", "notifications": [failed]}
        return {"status": "notified"}

    with pytest.raises(OperationFailed) as caught:
        wait_for(fetch, {"49007": "late", "25056": "ok"}, "notified", timeout_s=5, clock=clock, sleep=clock.sleep)
    message = caught.value.message
    assert "1 of 2 dossier(s) not yet notified" in message
    assert "49007 (evaluated, last failed award: 550 mailbox unavailable)" in message
    assert "25056" not in message


def test_unknown_target_is_a_usage_error() -> None:
    with pytest.raises(UsageProblem):
        wait_for(lambda s: {}, {"a": "a"}, "published", timeout_s=1)

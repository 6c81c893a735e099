"""What follows a failed delivery attempt: backoff, its cap, giving up (no server)."""

from __future__ import annotations

import pytest
from palmares_notify.delivery import GiveUp, Outcome, Retry, RetryPolicy, after_failure

POLICY = RetryPolicy(max_attempts=5, base_delay_s=1.0, max_delay_s=6.0)
TEMPORARY = Outcome(False, error="421 try later")


@pytest.mark.parametrize(("before", "delay"), [(0, 1.0), (1, 2.0), (2, 4.0), (3, 6.0)])
def test_a_temporary_failure_is_retried_with_exponential_backoff_capped(before: int, delay: float) -> None:
    assert after_failure(before, TEMPORARY, POLICY) == Retry(before + 1, delay, "421 try later")


def test_the_last_attempt_gives_up() -> None:
    assert after_failure(4, TEMPORARY, POLICY) == GiveUp(5, "421 try later")


def test_a_permanent_refusal_gives_up_at_once() -> None:
    decision = after_failure(0, Outcome(False, permanent=True, error="550 no such user"), POLICY)
    assert decision == GiveUp(1, "550 no such user")
    assert decision.reason == "550 no such user"


def test_giving_up_always_gives_a_reason() -> None:
    decision = after_failure(0, Outcome(False, permanent=True), POLICY)
    assert isinstance(decision, GiveUp)
    assert decision.error == ""  # what the row keeps
    assert decision.reason == "échec de l'envoi"  # what NotificationFailed says


def test_a_single_attempt_policy_never_retries() -> None:
    assert after_failure(0, TEMPORARY, RetryPolicy(1, 1.0, 30.0)) == GiveUp(1, "421 try later")

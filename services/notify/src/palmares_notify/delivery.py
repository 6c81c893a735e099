"""What follows a failed delivery attempt (pure): retry later, or give up.

A permanent refusal (5xx) gives up at once; a temporary failure (4xx,
connection lost, timeout) is retried with exponential backoff from the base
delay, capped, until the attempts run out. The sender applies the decision in
the transaction that still holds the email's row lock.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one delivery attempt."""

    sent: bool
    permanent: bool = False
    error: str = ""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int
    base_delay_s: float
    max_delay_s: float


@dataclass(frozen=True, slots=True)
class Retry:
    """Try again in `delay_s` seconds; `attempts` made so far."""

    attempts: int
    delay_s: float
    error: str


@dataclass(frozen=True, slots=True)
class GiveUp:
    """No more attempts: the email failed after `attempts`."""

    attempts: int
    error: str

    @property
    def reason(self) -> str:
        """The reason its `NotificationFailed` gives (never empty)."""
        return self.error or "échec de l'envoi"


def after_failure(attempts_before: int, outcome: Outcome, policy: RetryPolicy) -> Retry | GiveUp:
    """The decision after a failed attempt, `attempts_before` being the count before it."""
    attempts = attempts_before + 1
    if outcome.permanent or attempts >= policy.max_attempts:
        return GiveUp(attempts, outcome.error)
    delay = min(policy.base_delay_s * 2 ** (attempts - 1), policy.max_delay_s)
    return Retry(attempts, float(delay), outcome.error)

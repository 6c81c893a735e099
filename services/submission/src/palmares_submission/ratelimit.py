"""Rate limiting per API token (429 with Retry-After): a moving window per token.

The counters live in the process by default (`async+memory://`): with several
replicas of the submission service, each one counts on its own, so a token
gets up to N × the limit. A shared storage URI (`async+redis://…`, with the
matching `limits` extra installed) makes them count together, on the `limits`
library's moving window; see docs/security.md.

In the process, the windows are ours (`MovingWindows`), not `limits`' memory
storage: that storage sweeps every key on every hit, and for its moving window
hands each key to a worker thread (`asyncio.to_thread`) during the sweep — with
one key per collectivité, thousands of thread hops per request, the largest
cost of an intake request in the benchmark's profile.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

from limits import RateLimitItem, parse_many
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string


def parse_limits(value: str) -> list[RateLimitItem]:
    """`"120/minute"`, `"10/second; 300/hour"`, or empty for no limit (ValueError when malformed)."""
    return parse_many(value) if value.strip() else []


class MovingWindows:
    """Exact moving windows in memory: at most `amount` hits per `seconds`, per key.

    Each (limit, key) keeps the times of its last `amount` hits; a hit is
    allowed when the oldest of them left the window. Keys idle for longer
    than the longest window are dropped by a sweep that runs when the table
    has doubled since the last one (amortised O(1) per hit).
    """

    def __init__(self, items: list[RateLimitItem], clock: Callable[[], float] = time.monotonic) -> None:
        self._limits = [(item.amount, float(item.get_expiry())) for item in items]
        self._longest = max((seconds for _, seconds in self._limits), default=0.0)
        self._hits: dict[str, list[deque[float]]] = {}
        self._sweep_at = 1024
        self._clock = clock

    def hit(self, key: str) -> float | None:
        """Count one hit of `key` if every limit allows it: None, else the seconds until one does."""
        now = self._clock()
        windows = self._hits.get(key)
        if windows is None:
            windows = self._hits[key] = [deque(maxlen=amount) for amount, _ in self._limits]
            if len(self._hits) >= self._sweep_at:
                self._sweep(now)
        wait = 0.0
        for (amount, seconds), times in zip(self._limits, windows, strict=True):
            if len(times) == amount and times[0] > now - seconds:
                wait = max(wait, times[0] + seconds - now)
        if wait:
            return wait
        for times in windows:
            times.append(now)  # the deque's maxlen drops the hit that left the window
        return None

    def _sweep(self, now: float) -> None:
        # Every window of a key holds its last hit (hits are counted in all of them together).
        idle = [k for k, windows in self._hits.items() if windows[0] and windows[0][-1] <= now - self._longest]
        for key in idle:
            del self._hits[key]
        self._sweep_at = max(1024, 2 * len(self._hits))


class TokenRateLimiter:
    """Counts the requests of each token; answers how long to wait when one goes over its limits."""

    def __init__(
        self, collectivite_limits: str, operator_limits: str = "", storage_uri: str = "async+memory://"
    ) -> None:
        self._collectivite = parse_limits(collectivite_limits)
        self._operator = parse_limits(operator_limits)
        self._storage_uri = storage_uri
        self._limiter: MovingWindowRateLimiter | None = None
        self._local: dict[bool, MovingWindows] | None = None
        if storage_uri.startswith("async+memory://") or storage_uri.startswith("memory://"):
            self._local = {False: MovingWindows(self._collectivite), True: MovingWindows(self._operator)}

    def _get(self) -> MovingWindowRateLimiter:
        # Created at the first request: the async memory storage needs a running event loop.
        if self._limiter is None:
            self._limiter = MovingWindowRateLimiter(storage_from_string(self._storage_uri))
        return self._limiter

    async def retry_after(self, token_key: str, *, operator: bool) -> int | None:
        """Count one request of `token_key`: None when allowed, else the seconds to wait (≥ 1)."""
        items = self._operator if operator else self._collectivite
        if not items:
            return None
        if self._local is not None:
            wait = self._local[operator].hit(token_key)
            return None if wait is None else max(1, math.ceil(wait))
        limiter = self._get()
        for item in items:
            if not await limiter.hit(item, "palmares-api", token_key):
                stats = await limiter.get_window_stats(item, "palmares-api", token_key)
                return max(1, math.ceil(stats.reset_time - time.time()))
        return None

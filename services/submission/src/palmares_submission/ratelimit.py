"""Rate limiting per API token (429 with Retry-After), on the `limits` library's moving window.

The counters live in the process (`async+memory://`): with several replicas
of the submission service, each one counts on its own, so a token gets up to
N × the limit. A shared storage URI (`async+redis://…`, with the matching
`limits` extra installed) makes them count together; see docs/security.md.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string


def parse_limits(value: str) -> list[RateLimitItem]:
    """`"120/minute"`, `"10/second; 300/hour"`, or empty for no limit (ValueError when malformed)."""
    return parse_many(value) if value.strip() else []


class TokenRateLimiter:
    """Counts the requests of each token; answers how long to wait when one goes over its limits."""

    def __init__(
        self, collectivite_limits: str, operator_limits: str = "", storage_uri: str = "async+memory://"
    ) -> None:
        self._collectivite = parse_limits(collectivite_limits)
        self._operator = parse_limits(operator_limits)
        self._storage_uri = storage_uri
        self._limiter: MovingWindowRateLimiter | None = None

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
        limiter = self._get()
        for item in items:
            if not await limiter.hit(item, "palmares-api", token_key):
                stats = await limiter.get_window_stats(item, "palmares-api", token_key)
                return max(1, math.ceil(stats.reset_time - time.time()))
        return None

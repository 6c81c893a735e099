"""How often sign-in links may be asked for: per address and per client (the `limits` library's moving window)."""

from __future__ import annotations

import hashlib

from limits import RateLimitItem
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from palmares_submission.ratelimit import parse_limits


class SignInThrottle:
    """Counts sign-in requests; an address or a client over its limit gets no more links for a while.

    Counted whatever the address: a limit reached tells nothing about whether
    the address is registered. Keys are hashes (no address kept in memory).
    """

    def __init__(self, per_address: str, per_client: str, storage_uri: str = "async+memory://") -> None:
        self._per_address = parse_limits(per_address)
        self._per_client = parse_limits(per_client)
        self._storage_uri = storage_uri
        self._limiter: MovingWindowRateLimiter | None = None

    async def allows(self, email: str, client: str) -> bool:
        if self._limiter is None:  # the async memory storage needs a running event loop
            self._limiter = MovingWindowRateLimiter(storage_from_string(self._storage_uri))
        allowed = await self._hit(self._per_client, "client", client)
        return await self._hit(self._per_address, "address", email) and allowed

    async def _hit(self, items: list[RateLimitItem], kind: str, value: str) -> bool:
        assert self._limiter is not None
        key = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        ok = True
        for item in items:
            ok = await self._limiter.hit(item, "palmares-sign-in", kind, key) and ok
        return ok

"""Bearer tokens: operators (from configuration), collectivités and jury members (random, stored hashed)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

COLLECTIVITE_PREFIX = "pal_"
JURY_PREFIX = "jur_"
# Longest token accepted at all: a longer Authorization header is not one of ours.
MAX_TOKEN_LENGTH = 512


@dataclass(frozen=True, slots=True)
class Principal:
    """Who calls: an operator, a jury member (`jury`: their name), or the collectivité of `code`.

    `token_key` identifies the token without being it (a hash): the rate
    limiter counts per token with it.
    """

    operator: bool
    code: str | None = None
    token_key: str = ""
    jury: str | None = None

    @property
    def staff(self) -> bool:
        """Operators and jury members: they read every dossier and record the jury's decisions."""
        return self.operator or self.jury is not None

    def may_read(self, collectivite_code: str) -> bool:
        return self.staff or self.code == collectivite_code

    def may_manage(self, collectivite_code: str) -> bool:
        """Its token (rotate, revoke): operators, and the collectivité itself; not the jury, which reads every dossier."""
        return self.operator or self.code == collectivite_code


def new_token() -> str:
    """A fresh collectivité API token (256 bits of randomness), shown once."""
    return COLLECTIVITE_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> bytes:
    # Tokens are long random strings, not passwords: a fast hash is enough and
    # allows an indexed lookup; a slow KDF would only add latency.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def token_key(token: str) -> str:
    """A stable, non-reversible name of a token (for counters, never for lookups)."""
    return hash_token(token).hex()[:32]


def is_operator(token: str, operator_tokens: Iterable[str]) -> bool:
    """Whether `token` is one of the configured operator tokens.

    Every configured token is compared, in constant time each, so the answer
    takes as long whichever of them matches (or none).
    """
    presented = token.encode("utf-8", "surrogatepass")
    found = False
    for candidate in operator_tokens:
        found |= hmac.compare_digest(presented, candidate.encode())
    return found

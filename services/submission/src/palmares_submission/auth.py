"""Bearer tokens: operators (from configuration) and collectivités (random, stored hashed)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    """Who calls: an operator, or the collectivité of `code`."""

    operator: bool
    code: str | None = None

    def may_read(self, collectivite_code: str) -> bool:
        return self.operator or self.code == collectivite_code


def new_token() -> str:
    """A fresh collectivité API token (256 bits of randomness), shown once."""
    return "pal_" + secrets.token_urlsafe(32)


def hash_token(token: str) -> bytes:
    # Tokens are long random strings, not passwords: a fast hash is enough and
    # allows an indexed lookup; a slow KDF would only add latency.
    return hashlib.sha256(token.encode()).digest()


def is_operator(token: str, operator_token: str) -> bool:
    return hmac.compare_digest(token.encode(), operator_token.encode())

"""Secrets and personal data out of logs and traces: one redaction for both (pure).

What is masked, wherever it appears in a log line or a span attribute:
- email addresses (contact emails of collectivités, recipients in SMTP replies);
- API tokens: collectivités' `pal_…`, operators' `op_…`;
- the credentials of an `Authorization` header (`Bearer …`, `Basic …`);
- passwords in URLs (`postgresql://user:secret@host`) and secret-looking
  query parameters (`?token=…`, `?password=…`).

Redaction is by pattern, so it also catches what no code meant to log (an
exception message quoting an address). It cannot know an operator token
that does not start with `op_`: configured secrets are kept out of logs by
never being logged (pydantic `SecretStr`), this is the net under that.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

EMAIL = "[email]"
TOKEN = "[token]"
SECRET = "[secret]"

# userinfo of a URL: scheme://user:password@host
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]*):[^/\s@]*@", re.IGNORECASE)

# Each pattern with a cheap test its matches cannot pass without: a pattern runs only on a text
# that passes it, and most span names and attributes (ids, topic names, "scores.v1 process") pass
# none. The single shortcut it replaces (an '@', '_', '=' or space anywhere, else nothing to do) ran
# the five regexes on every span name with a space, and let "Bearer<TAB>token" through.
_AUTH_WORD = re.compile(r"bearer|basic|digest", re.IGNORECASE)  # the header pattern's words, same flags
_PATTERNS: tuple[tuple[re.Pattern[str], str, Callable[[str], object]], ...] = (
    # Authorization header values, whatever the token looks like.
    (
        re.compile(r"\b(Bearer|Basic|Digest)\s+[A-Za-z0-9._~+/=-]+", re.IGNORECASE),
        rf"\1 {TOKEN}",
        _AUTH_WORD.search,
    ),
    # Our token formats (secrets.token_urlsafe alphabet).
    (re.compile(r"\b(pal|op)_[A-Za-z0-9_-]{6,}"), TOKEN, lambda text: "pal_" in text or "op_" in text),
    (_URL_PASSWORD, rf"\1:{SECRET}@", lambda text: "@" in text),
    # Secret-looking query or form parameters.
    (
        re.compile(
            r"([?&;](?:access_token|token|api_key|apikey|key|password|passwd|secret|signature|sig)=)[^&#\s\"']*",
            re.IGNORECASE,
        ),
        rf"\1{SECRET}",
        lambda text: "=" in text,
    ),
    # Email addresses (after the URL userinfo, which also has an '@').
    (
        re.compile(r"[A-Za-z0-9.!#$%&*+/?^_{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"),
        EMAIL,
        lambda text: "@" in text,
    ),
)


def redact_url_password(url: str) -> str:
    """`postgresql://user:secret@host/db` → `postgresql://user:[secret]@host/db` (nothing else changed)."""
    return _URL_PASSWORD.sub(rf"\1:{SECRET}@", url)


def redact(text: str) -> str:
    """`text` with every email address, token and credential replaced by a marker."""
    if not text:
        return text
    for pattern, replacement, may_match in _PATTERNS:
        if may_match(text):
            text = pattern.sub(replacement, text)
    return text


def redact_value(value: Any) -> Any:
    """A log field or span attribute value, redacted (strings, and strings inside lists, tuples and dicts)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(redact_value(v) for v in value)
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return [redact_value(v) for v in value]
    return value

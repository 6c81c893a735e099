"""Configuration of the submission service (environment only)."""

from __future__ import annotations

from pathlib import Path

from palmares_eventkit.settings import ServiceSettings
from pydantic import Field, SecretStr, model_validator

from palmares_submission.ratelimit import parse_limits

# An operator token is a long random secret; a short one is a password someone chose.
MIN_OPERATOR_TOKEN_LENGTH = 16


class SubmissionSettings(ServiceSettings):
    """Shared settings plus the operator credentials, the input and rate limits, the village threshold."""

    # Operator tokens: any of these three sources, all of them together.
    operator_token: SecretStr | None = Field(default=None, alias="OPERATOR_TOKEN")
    # Several operators, each with their own token (revoking one is removing it):
    # comma-separated, or a file with one token per line (`#` comments).
    operator_tokens: SecretStr | None = Field(default=None, alias="OPERATOR_TOKENS")
    operator_tokens_file: Path | None = Field(default=None, alias="OPERATOR_TOKENS_FILE")
    # The press calls "village" a commune under about 3,000–3,500 inhabitants (docs/glossary.md).
    village_max_population: int = Field(default=3500, ge=1, alias="PALMARES_VILLAGE_MAX_POPULATION")
    # Request bodies over this are refused with 413 before they are parsed.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, alias="PALMARES_MAX_BODY_BYTES")
    # Per token, `limits` notation ("120/minute", "10/second; 500/hour"); empty: no limit.
    rate_limit: str = Field(default="120/minute", alias="PALMARES_RATE_LIMIT")
    operator_rate_limit: str = Field(default="", alias="PALMARES_OPERATOR_RATE_LIMIT")
    rate_limit_storage: str = Field(default="async+memory://", alias="PALMARES_RATE_LIMIT_STORAGE")

    @model_validator(mode="after")
    def _check(self) -> SubmissionSettings:
        tokens = self.operator_secrets()
        if not tokens:
            raise ValueError("no operator token: set OPERATOR_TOKEN, OPERATOR_TOKENS or OPERATOR_TOKENS_FILE")
        if any(len(t) < MIN_OPERATOR_TOKEN_LENGTH for t in tokens):
            raise ValueError(f"operator tokens must be at least {MIN_OPERATOR_TOKEN_LENGTH} characters long")
        for name, value in (
            ("PALMARES_RATE_LIMIT", self.rate_limit),
            ("PALMARES_OPERATOR_RATE_LIMIT", self.operator_rate_limit),
        ):
            try:
                parse_limits(value)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        return self

    def operator_secrets(self) -> tuple[str, ...]:
        """Every configured operator token (read once per call: the file may be replaced to revoke one)."""
        tokens: list[str] = []
        if self.operator_token is not None:
            tokens.append(self.operator_token.get_secret_value())
        if self.operator_tokens is not None:
            tokens += self.operator_tokens.get_secret_value().split(",")
        if self.operator_tokens_file is not None:
            for line in self.operator_tokens_file.read_text(encoding="utf-8").splitlines():
                tokens.append(line.split("#", 1)[0])
        return tuple(dict.fromkeys(t.strip() for t in tokens if t.strip()))

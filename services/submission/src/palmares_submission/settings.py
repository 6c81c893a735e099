"""Configuration of the submission service (environment only)."""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import urlsplit

from palmares_eventkit.settings import ServiceSettings
from pydantic import AliasChoices, Field, SecretStr, model_validator

from palmares_submission.ratelimit import parse_limits

# An operator token is a long random secret; a short one is a password someone chose.
MIN_OPERATOR_TOKEN_LENGTH = 16
# The key that signs the dossier links of the emails: 256 bits written as text.
MIN_SIGNING_KEY_LENGTH = 32


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

    # --- the espaces (web pages) ---
    # The site's public address: the base of the links sent by email (never taken from
    # a request's Host header, which a client chooses); cookies are `Secure` under https.
    public_url: str = Field(
        default="http://127.0.0.1:8000", validation_alias=AliasChoices("PALMARES_PUBLIC_URL", "API_URL")
    )
    # Shared with notify: signs the dossier links of the emails (and the pages' CSRF
    # tokens). Unset: a random key per process, and the links of the emails do not open.
    signing_key: SecretStr | None = Field(default=None, alias="PALMARES_SIGNING_KEY")
    # Sign-in links requested, per address and per client address (`limits` notation).
    sign_in_rate_limit: str = Field(default="5/hour", alias="PALMARES_SIGN_IN_RATE_LIMIT")
    sign_in_client_rate_limit: str = Field(default="30/10 minutes", alias="PALMARES_SIGN_IN_CLIENT_RATE_LIMIT")
    # Sign-in links and jury invitations are emailed by this service itself: a link
    # must never be stored in clear nor travel through Kafka (notify stores what it sends).
    smtp_host: str = Field(default="127.0.0.1", alias="SMTP_HOST")
    smtp_port: int = Field(default=25, alias="SMTP_PORT")
    smtp_starttls: bool = Field(default=False, alias="SMTP_STARTTLS")
    smtp_username: str | None = Field(default=None, alias="SMTP_USERNAME")
    smtp_password: SecretStr | None = Field(default=None, alias="SMTP_PASSWORD")
    mail_from: str = Field(default="Label Villes Internet <palmares@villes-internet.example>", alias="MAIL_FROM")

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
            ("PALMARES_SIGN_IN_RATE_LIMIT", self.sign_in_rate_limit),
            ("PALMARES_SIGN_IN_CLIENT_RATE_LIMIT", self.sign_in_client_rate_limit),
        ):
            try:
                parse_limits(value)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        parts = urlsplit(self.public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
            raise ValueError("PALMARES_PUBLIC_URL must be an http:// or https:// URL without credentials")
        if self.signing_key is not None and len(self.signing_key.get_secret_value()) < MIN_SIGNING_KEY_LENGTH:
            raise ValueError(f"PALMARES_SIGNING_KEY must be at least {MIN_SIGNING_KEY_LENGTH} characters long")
        return self

    @property
    def public_base(self) -> str:
        """The public URL without its trailing slash."""
        return self.public_url.rstrip("/")

    @property
    def secure_cookies(self) -> bool:
        """Served over HTTPS (possibly behind a proxy): cookies never travel in clear."""
        return self.public_url.startswith("https://")

    def signing_secret(self) -> str:
        """The configured signing key, or a random one for this process (links of emails then do not open)."""
        if self.signing_key is None:
            self.signing_key = SecretStr(secrets.token_urlsafe(32))
        return self.signing_key.get_secret_value()

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

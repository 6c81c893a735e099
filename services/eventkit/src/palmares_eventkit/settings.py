"""Configuration of a service, from the environment only (never from code).

Secrets (`KAFKA_SASL_PASSWORD`, `KAFKA_SSL_KEY_PASSWORD`, a service's own) are
`SecretStr`: their repr is `'**********'`; the password of `DATABASE_URL` is
masked in the settings' repr too. Misconfigured transport security fails at
start-up with a clear message, never silently in clear text.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from palmares_eventkit.redaction import redact_url_password
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

KafkaSecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
KafkaSaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
# libpq's sslmode values, all honoured by asyncpg.
POSTGRES_SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


class ServiceSettings(BaseSettings):
    """Settings every service shares. Names as documented in docs/development.md (`KAFKA_BOOTSTRAP_SERVERS`, …)."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    kafka_bootstrap_servers: str = Field(default="127.0.0.1:9092", alias="KAFKA_BOOTSTRAP_SERVERS")

    @property
    def kafka_bootstrap_list(self) -> list[str]:
        """`host:port,host:port` as a list: FastStream takes a string as one single host."""
        return [h.strip() for h in self.kafka_bootstrap_servers.split(",") if h.strip()]

    database_url: str = Field(default="postgresql://postgres@127.0.0.1:5432/palmares", alias="DATABASE_URL")
    # Topics are created at start-up (no broker auto-creation), so each gets the configured partition count.
    topic_partitions: int = Field(default=6, ge=1, alias="PALMARES_TOPIC_PARTITIONS")
    topic_replication_factor: int = Field(default=1, ge=1, alias="PALMARES_TOPIC_REPLICATION_FACTOR")
    topic_min_insync_replicas: int | None = Field(default=None, alias="PALMARES_TOPIC_MIN_ISR")
    db_pool_min: int = Field(default=1, ge=0, alias="PALMARES_DB_POOL_MIN")
    db_pool_max: int = Field(default=10, ge=1, alias="PALMARES_DB_POOL_MAX")
    # A frozen process's open transaction (or the outbox relay's lock session) is ended by
    # PostgreSQL after this long without a statement, so another instance takes its work over.
    db_idle_in_transaction_timeout_s: float = Field(default=20.0, gt=0, alias="PALMARES_DB_IDLE_TIMEOUT_S")
    # Local trace store (JSON lines, one file per service) used when no OTLP endpoint is set.
    trace_dir: Path | None = Field(default=None, alias="PALMARES_TRACE_DIR")
    log_level: str = Field(default="INFO", alias="PALMARES_LOG_LEVEL")
    # Retries of a handler failing for a reason that is not the message's fault.
    retry_max_attempts: int = Field(default=6, ge=1, alias="PALMARES_RETRY_MAX_ATTEMPTS")
    retry_base_delay_s: float = Field(default=0.2, gt=0, alias="PALMARES_RETRY_BASE_DELAY_S")
    retry_max_delay_s: float = Field(default=5.0, gt=0, alias="PALMARES_RETRY_MAX_DELAY_S")
    http_host: str = Field(default="127.0.0.1", alias="PALMARES_HTTP_HOST")
    http_port: int = Field(default=0, ge=0, alias="PALMARES_HTTP_PORT")
    graceful_timeout_s: float = Field(default=15.0, gt=0, alias="PALMARES_GRACEFUL_TIMEOUT_S")
    # A record larger than this is not an event of ours: dead-lettered as "oversized".
    max_event_bytes: int = Field(default=512 * 1024, ge=1024, alias="PALMARES_MAX_EVENT_BYTES")
    # Records applied per database transaction and offset commit.
    batch_max_records: int = Field(default=200, ge=1, le=10_000, alias="PALMARES_BATCH_MAX_RECORDS")
    # A consumer's fetch waits on the broker until `fetch_min_bytes` are there, or `fetch_max_wait_ms`
    # passed: under load, batches of tens of records (one transaction, one outbox insert, one
    # status-view write each, and a fetch request for many) rather than one or two, at the price
    # of at most that wait per hop when the campaign is quiet. aiokafka's defaults (1 byte, 500 ms)
    # answer each fetch as soon as one record is there. Measured in docs/benchmark.md.
    fetch_max_wait_ms: int = Field(default=100, ge=0, le=10_000, alias="PALMARES_FETCH_MAX_WAIT_MS")
    fetch_min_bytes: int = Field(default=64 * 1024, ge=1, alias="PALMARES_FETCH_MIN_BYTES")
    # Transport security of Kafka (docs/security.md); applied by palmares_eventkit.kafka_security.
    kafka_security_protocol: KafkaSecurityProtocol = Field(default="PLAINTEXT", alias="KAFKA_SECURITY_PROTOCOL")
    kafka_sasl_mechanism: KafkaSaslMechanism | None = Field(default=None, alias="KAFKA_SASL_MECHANISM")
    kafka_sasl_username: str | None = Field(default=None, alias="KAFKA_SASL_USERNAME")
    kafka_sasl_password: SecretStr | None = Field(default=None, alias="KAFKA_SASL_PASSWORD")
    kafka_ssl_cafile: Path | None = Field(default=None, alias="KAFKA_SSL_CAFILE")
    kafka_ssl_certfile: Path | None = Field(default=None, alias="KAFKA_SSL_CERTFILE")
    kafka_ssl_keyfile: Path | None = Field(default=None, alias="KAFKA_SSL_KEYFILE")
    kafka_ssl_key_password: SecretStr | None = Field(default=None, alias="KAFKA_SSL_KEY_PASSWORD")
    kafka_ssl_check_hostname: bool = Field(default=True, alias="KAFKA_SSL_CHECK_HOSTNAME")

    @model_validator(mode="after")
    def _check_transport_security(self) -> ServiceSettings:
        protocol = self.kafka_security_protocol
        if protocol.startswith("SASL_"):
            missing = [
                name
                for name, value in (
                    ("KAFKA_SASL_MECHANISM", self.kafka_sasl_mechanism),
                    ("KAFKA_SASL_USERNAME", self.kafka_sasl_username),
                    ("KAFKA_SASL_PASSWORD", self.kafka_sasl_password),
                )
                if not value
            ]
            if missing:
                raise ValueError(f"KAFKA_SECURITY_PROTOCOL={protocol} needs {', '.join(missing)}")
        elif self.kafka_sasl_mechanism or self.kafka_sasl_username or self.kafka_sasl_password:
            raise ValueError(
                f"KAFKA_SASL_* is set but KAFKA_SECURITY_PROTOCOL={protocol}: set SASL_SSL or SASL_PLAINTEXT"
            )
        tls_files = {
            "KAFKA_SSL_CAFILE": self.kafka_ssl_cafile,
            "KAFKA_SSL_CERTFILE": self.kafka_ssl_certfile,
            "KAFKA_SSL_KEYFILE": self.kafka_ssl_keyfile,
        }
        if not protocol.endswith("SSL") and any(tls_files.values()):
            # A CA file with PLAINTEXT means someone expects TLS that would not happen.
            raise ValueError(f"KAFKA_SSL_* is set but KAFKA_SECURITY_PROTOCOL={protocol}: set SSL or SASL_SSL")
        for name, path in tls_files.items():
            if path is not None and not path.is_file():
                raise ValueError(f"{name}={path}: no such file")
        if bool(self.kafka_ssl_certfile) != bool(self.kafka_ssl_keyfile):
            raise ValueError("KAFKA_SSL_CERTFILE and KAFKA_SSL_KEYFILE go together (client certificate)")
        sslmode = postgres_sslmode(self.database_url)
        if sslmode is not None and sslmode not in POSTGRES_SSLMODES:
            raise ValueError(f"DATABASE_URL: sslmode={sslmode!r} is not one of {', '.join(POSTGRES_SSLMODES)}")
        return self

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # SecretStr fields show as '**********' by themselves; a URL carries its password in clear.
        for name, value in super().__repr_args__():
            yield name, redact_url_password(value) if isinstance(value, str) else value


def postgres_sslmode(database_url: str) -> str | None:
    """The `sslmode` of a PostgreSQL URL (None when absent: asyncpg then tries TLS and falls back, `prefer`)."""
    values = parse_qs(urlsplit(database_url).query).get("sslmode")
    return values[-1] if values else None

"""Configuration of a service, from the environment only (never from code)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Settings every service shares. Names follow DESIGN.md (`KAFKA_BOOTSTRAP_SERVERS`, …)."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    kafka_bootstrap_servers: str = Field(default="127.0.0.1:9092", alias="KAFKA_BOOTSTRAP_SERVERS")

    @property
    def kafka_bootstrap_list(self) -> list[str]:
        """`host:port,host:port` as a list: FastStream takes a string as one single host."""
        return [h.strip() for h in self.kafka_bootstrap_servers.split(",") if h.strip()]
    database_url: str = Field(default="postgresql://postgres@127.0.0.1:5432/palmares", alias="DATABASE_URL")
    # Topics are created at start-up (no broker auto-creation), DESIGN.md.
    topic_partitions: int = Field(default=6, ge=1, alias="PALMARES_TOPIC_PARTITIONS")
    topic_replication_factor: int = Field(default=1, ge=1, alias="PALMARES_TOPIC_REPLICATION_FACTOR")
    topic_min_insync_replicas: int | None = Field(default=None, alias="PALMARES_TOPIC_MIN_ISR")
    db_pool_min: int = Field(default=1, ge=0, alias="PALMARES_DB_POOL_MIN")
    db_pool_max: int = Field(default=10, ge=1, alias="PALMARES_DB_POOL_MAX")
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

"""Configuration of the submission service (environment only)."""

from __future__ import annotations

from palmares_eventkit.settings import ServiceSettings
from pydantic import Field, SecretStr


class SubmissionSettings(ServiceSettings):
    """Shared settings plus the operator credentials and the village threshold."""

    operator_token: SecretStr = Field(alias="OPERATOR_TOKEN")
    # LABEL.md: the press calls "village" a commune under about 3,000–3,500 inhabitants.
    village_max_population: int = Field(default=3500, ge=1, alias="PALMARES_VILLAGE_MAX_POPULATION")

"""HTTP request and response bodies of the submission API (`/v1`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from palmares_contracts import Category, CollectiviteKind
from pydantic import BaseModel, ConfigDict, EmailStr, Field, HttpUrl, model_validator

MAX_ACTIONS = 200


class _Body(BaseModel):
    # Requests reject unknown fields: a typo in a field name must not be silently ignored.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RegisterRequest(_Body):
    code: Annotated[str, Field(pattern=r"^(?:[0-9][0-9AB][0-9]{3}|[0-9]{9})$", examples=["49007"])]
    contact_email: EmailStr


class RegisterResponse(BaseModel):
    code: str
    name: str
    kind: CollectiviteKind
    category: Category
    population: int
    departement: str
    token: str = Field(description="API token of the collectivité, shown once.")


class ActionIn(_Body):
    title: Annotated[str, Field(min_length=1, max_length=300)]
    description: Annotated[str, Field(max_length=10_000)] = ""
    services: Annotated[list[Annotated[str, Field(min_length=1, max_length=64)]], Field(max_length=200)] = []
    url: HttpUrl | None = None
    started_on: date
    ended_on: date | None = None

    @model_validator(mode="after")
    def _dates(self) -> ActionIn:
        if self.ended_on is not None and self.ended_on < self.started_on:
            raise ValueError("ended_on: la date de fin précède la date de début")
        return self


class SubmissionRequest(_Body):
    actions: Annotated[list[ActionIn], Field(min_length=1, max_length=MAX_ACTIONS)]
    narrative: Annotated[str, Field(max_length=20_000)] = ""
    contact_email: EmailStr | None = None


class SubmissionAccepted(BaseModel):
    submission_id: UUID
    revision: int
    status_url: str


class Explanation(BaseModel):
    enjeux: list[dict[str, Any]] = []
    next_level: dict[str, Any] | None = None
    ignored_actions: list[dict[str, Any]] = []


class JuryView(BaseModel):
    arobases: int
    comment: str
    decided_by: str
    decided_at: datetime


class NotificationView(BaseModel):
    notification_id: UUID
    kind: str
    status: str
    revision: int | None
    to: str
    message_id: str
    reason: str | None = None
    at: datetime


Status = Literal["received", "evaluated", "notified"]


class StatusView(BaseModel):
    submission_id: UUID
    revision: int
    edition: int
    collectivite_code: str
    status: Status
    score: float | None = None
    arobases: int | None = None
    grille_version: int | None = None
    explanation: Explanation | None = None
    mentions: list[dict[str, Any]] | None = None
    mentions_grille_version: int | None = None
    jury: JuryView | None = None
    notifications: list[NotificationView] = []
    submitted_at: datetime


class JuryRequest(_Body):
    arobases: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str, Field(max_length=5_000)] = ""
    decided_by: Annotated[str, Field(min_length=1, max_length=200)]


class CeremonyIn(_Body):
    place: Annotated[str, Field(min_length=1, max_length=200)]
    date: date


class PalmaresPublishRequest(_Body):
    ceremony: CeremonyIn | None = None


class PalmaresEntry(BaseModel):
    collectivite_code: str
    name: str
    category: Category
    arobases: int
    pre_notation: int | None
    mentions: list[str]
    distinctions: list[str] = []


class PalmaresView(BaseModel):
    edition: int
    published_at: datetime
    ceremony: dict[str, Any] | None
    villages: list[PalmaresEntry]
    villes: list[PalmaresEntry]
    territoires: list[PalmaresEntry]


class LabelIn(_Body):
    code: Annotated[str, Field(pattern=r"^(?:[0-9][0-9AB][0-9]{3}|[0-9]{9})$")]
    edition: Annotated[int, Field(ge=1999, le=2100)]
    arobases: Annotated[int, Field(ge=1, le=5)]


class LabelHistoryImport(_Body):
    entries: Annotated[list[LabelIn], Field(min_length=1, max_length=50_000)]

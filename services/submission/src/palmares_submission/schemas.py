"""HTTP request and response bodies of the submission API (`/v1`).

Requests are bounded everywhere (issue 8): lengths of every text, number of
actions and services, http(s) URLs only, plausible dates, valid addresses,
no control characters where a line break or a NUL could hurt (`text`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from palmares_contracts import Category, CollectiviteKind
from pydantic import (
    AfterValidator,
    AnyUrl,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StrictBool,
    UrlConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from palmares_submission.text import multi_line, single_line

MAX_ACTIONS = 200
MAX_SERVICES_PER_ACTION = 50
# The label was created in 1999; an action started before 1990 is a typo.
EARLIEST_DATE = date(1990, 1, 1)
LATEST_DATE = date(2100, 12, 31)

COLLECTIVITE_CODE = r"^(?:[0-9][0-9AB][0-9]{3}|[0-9]{9})$"
# Grille service codes (palmares_contracts.grille.Code).
SERVICE_CODE = r"^[a-z0-9][a-z0-9_.-]*$"


def _ascii_address(address: str) -> str:
    # A non-ASCII local part needs SMTPUTF8 end to end, which mail servers of
    # collectivités cannot be assumed to speak; an accented domain is fine, in IDNA.
    local, _, domain = address.rpartition("@")
    if not local.isascii():
        raise PydanticCustomError("email_local_part", "adresse électronique : caractères accentués avant « @ » refusés")
    return f"{local}@{domain.encode('idna').decode('ascii')}"


ContactEmail = Annotated[
    EmailStr, Field(max_length=254, examples=["numerique@mairie.example"]), AfterValidator(_ascii_address)
]


class ErrorDetail(BaseModel):
    """One field at fault."""

    field: str | None = Field(description="Dotted path of the field at fault (`actions.0.title`), or `body`.")
    message: str = Field(description="What is wrong, in French.")
    type: str | None = Field(default=None, description="Machine-readable kind of error.")


class ErrorBody(BaseModel):
    """Every error of the API has this shape."""

    error: str = Field(description="What went wrong, in French.")
    detail: list[ErrorDetail] = []


class _Body(BaseModel):
    # Requests reject unknown fields: a typo in a field name must not be silently ignored.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RegisterRequest(_Body):
    code: Annotated[str, Field(pattern=COLLECTIVITE_CODE, examples=["49007"])]
    contact_email: ContactEmail


class RegisterResponse(BaseModel):
    code: str
    name: str
    kind: CollectiviteKind
    category: Category
    population: int
    departement: str
    token: str = Field(description="API token of the collectivité, shown once.")


def _plain_http_url(url: AnyUrl) -> AnyUrl:
    # Credentials in a published link leak them to everyone who reads the dossier.
    if url.username or url.password:
        raise PydanticCustomError("url_userinfo", "identifiants interdits dans l’adresse web")
    return url


def _plausible(day: date) -> date:
    if day < EARLIEST_DATE:
        raise PydanticCustomError("date_too_early", "date invraisemblable : antérieure au 1er janvier 1990")
    if day > LATEST_DATE:
        raise PydanticCustomError("date_too_late", "date invraisemblable : postérieure à 2100")
    return day


ActionUrl = Annotated[
    AnyUrl,
    UrlConstraints(max_length=2000, allowed_schemes=["http", "https"], host_required=True),
    Field(json_schema_extra={"pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"}),
    AfterValidator(_plain_http_url),
]
PlausibleDate = Annotated[date, AfterValidator(_plausible)]


class ActionIn(_Body):
    title: Annotated[str, Field(min_length=1, max_length=300), single_line]
    description: Annotated[str, Field(max_length=10_000), multi_line] = ""
    services: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=64, pattern=SERVICE_CODE)]],
        Field(max_length=MAX_SERVICES_PER_ACTION),
    ] = []
    url: ActionUrl | None = None
    started_on: PlausibleDate
    ended_on: PlausibleDate | None = None
    # Once the palmarès is published, the action appears in the public catalogue unless this is false.
    # Strict: a JSON 0 or "no" is refused, not read as false.
    catalogue: StrictBool = True

    @field_validator("ended_on")
    @classmethod
    def _ends_after_start(cls, ended_on: date | None, info: ValidationInfo) -> date | None:
        started_on = info.data.get("started_on")
        if ended_on is not None and started_on is not None and ended_on < started_on:
            raise PydanticCustomError("date_order", "la date de fin précède la date de début")
        return ended_on


class SubmissionRequest(_Body):
    actions: Annotated[list[ActionIn], Field(min_length=1, max_length=MAX_ACTIONS)]
    narrative: Annotated[str, Field(max_length=20_000), multi_line] = ""
    contact_email: ContactEmail | None = None


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
    revision: int | None = Field(default=None, description="The revision the jury examined.")
    mentions: list[dict[str, Any]] | None = Field(
        default=None, description="The mentions the jury grants; null: the detected mentions stand."
    )
    to_review_again: bool = Field(
        default=False, description="« À revoir »: the dossier was revised after the decision."
    )


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
    mentions_missed: list[dict[str, Any]] | None = Field(
        default=None, description="Mentions just missed, each with what was lacking (French); null: not yet detected."
    )
    suggestions: list[dict[str, Any]] | None = Field(
        default=None,
        description="Grille services that an action describes but the dossier does not declare, each with its "
        "advice in French (« … semble relever du service … : déclarez-le »); the pré-notation counts declared "
        "services only. Null: not yet detected.",
    )
    jury: JuryView | None = None
    notifications: list[NotificationView] = []
    submitted_at: datetime


class JuryRequest(_Body):
    arobases: Annotated[int, Field(ge=1, le=5)]
    comment: Annotated[str, Field(max_length=5_000), multi_line] = ""
    decided_by: Annotated[str, Field(min_length=1, max_length=200), single_line] | None = Field(
        default=None, description="Who decides: required from operators; a jury member's token signs with their name."
    )
    revision: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="The revision the jury examined (default: the current one)."
    )
    mentions: Annotated[list[Annotated[str, Field(min_length=1, max_length=100)]], Field(max_length=50)] | None = Field(
        default=None,
        description=(
            "The codes of the mentions the jury grants: detected ones it confirms, others of the grille it adds; "
            "a detected mention left out is removed. Absent: the detected mentions stand."
        ),
    )


# The same fields as worklist.WorklistRow, kept apart on purpose: this is the API's documented answer
# (`GET /v1/editions/{edition}/submissions`), that one the store's row; a column added for the pages
# must not change the API.
class WorklistItem(BaseModel):
    submission_id: UUID
    revision: int
    collectivite_code: str
    name: str
    category: str
    departement: str
    submitted_at: datetime
    arobases: int | None = Field(description="The pré-notation (null until scored).")
    score: float | None
    jury_arobases: int | None = Field(description="The jury's arobases (null until decided).")
    to_review_again: bool = Field(description="« À revoir »: the dossier was revised after the jury's decision.")
    mentions: list[str] = Field(description="Codes of the dossier's mentions: the jury's if it ruled, else detected.")
    status: Status


class WorklistPage(BaseModel):
    items: list[WorklistItem]
    total: int = Field(description="Dossiers matching the filters, all pages together.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last one.")


def _instant_text(value: object) -> object:
    # Pydantic reads a JSON number as a Unix timestamp: an operator's `0` would reopen until 1970.
    if isinstance(value, int | float):
        raise PydanticCustomError("datetime_type", "date et heure attendues au format ISO 8601 avec leur décalage")
    return value


class ReopeningRequest(_Body):
    until: Annotated[AwareDatetime | None, BeforeValidator(_instant_text)] = Field(
        default=None,
        description="Until when the dossier stays open (an instant with its offset); absent: until the palmarès.",
        examples=["2017-12-15T18:00:00+01:00"],
    )


class ReopeningView(BaseModel):
    edition: int
    code: str
    reopened_at: datetime
    until: datetime | None = Field(description="Open until this instant; null: until the palmarès.")
    closes_at: datetime | None = Field(description="The campaign's closing instant (the grille's `closes_at`).")


class CategoryOverrideRequest(_Body):
    category: Category
    reason: Annotated[str, Field(min_length=1, max_length=1_000), multi_line] = Field(
        description="Why, in French: shown in the audit trail and carried by the dossier."
    )
    decided_by: Annotated[str, Field(min_length=1, max_length=200), single_line]


class CategoryDecision(BaseModel):
    category: Category
    reason: str
    decided_by: str
    decided_at: datetime


class CategoryView(BaseModel):
    """A collectivité's category for an edition: from the population in force then, or an operator's decision."""

    code: str
    edition: int
    category: Category = Field(description="The category its dossier of this edition records.")
    population: int = Field(description="Population in force at the edition's deadline.")
    millesime: int | None = Field(description="Year of the reference data of that population (None: unknown then).")
    category_from_population: Category
    override: CategoryDecision | None = Field(description="The operator's decision that applies, if any.")
    history: list[CategoryDecision] = Field(description="Every decision for this edition, the latest first.")
    revision: int | None = Field(
        default=None, description="The dossier revision a change of category made (its dossier is re-evaluated)."
    )


class CeremonyIn(_Body):
    place: Annotated[str, Field(min_length=1, max_length=200), single_line]
    date: PlausibleDate


class PalmaresPublishRequest(_Body):
    ceremony: CeremonyIn | None = None


class PalmaresPublication(BaseModel):
    edition: int
    published_at: datetime
    catalogue_built: bool = Field(
        description="The catalogue of labelled actions and the observatoire are built. False: their build goes on "
        "after the answer (a large edition), and they are public once it is done."
    )


class PalmaresEntry(BaseModel):
    collectivite_code: str
    name: str
    category: Category
    arobases: int
    pre_notation: int | None
    mentions: list[str]
    distinctions: list[str] = []
    # How French text names it: an EPCI by its full official name
    # (« Communauté de communes de Parthenay-Gâtine »), a commune as in `name`.
    official_name: str = ""
    departement: str = ""
    departement_name: str = ""
    region: str = ""


class Evaluation(BaseModel):
    """A dossier's current pré-notation and the jury's decision, for the calibration of the thresholds."""

    collectivite_code: str
    name: str
    category: Category = Field(description="The category the dossier was scored in.")
    score: float | None
    pre_notation: int | None
    grille_version: int | None = Field(description="The grille version of the score.")
    jury_arobases: int | None


class EvaluationsView(BaseModel):
    edition: int
    grille_version: int | None = Field(description="The edition's current grille version.")
    dossiers: list[Evaluation]


class PalmaresView(BaseModel):
    edition: int
    published_at: datetime
    ceremony: dict[str, Any] | None
    villages: list[PalmaresEntry]
    villes: list[PalmaresEntry]
    territoires: list[PalmaresEntry]
    # The source of the names, départements and régions, as its licence asks.
    attribution: str = ""


class LabelIn(_Body):
    code: Annotated[str, Field(pattern=COLLECTIVITE_CODE)]
    edition: Annotated[int, Field(ge=1999, le=2100)]
    arobases: Annotated[int, Field(ge=1, le=5)]


class LabelHistoryImport(_Body):
    # ~30 bytes an entry: 1 MiB of body holds about 35,000 of them.
    entries: Annotated[list[LabelIn], Field(min_length=1, max_length=50_000)]


class ImportedLabels(BaseModel):
    imported: int

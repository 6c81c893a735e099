"""Event models: the facts services tell each other through Kafka.

Every event is the JSON of one of these frozen pydantic v2 models. Unknown
fields are ignored (forward compatibility). The compatibility rule
(docs/architecture.md, "Event versions"): every change of an event's schema
is a new `schema_version`; an *additive* change (new optional fields whose
absence keeps the old meaning) declares the oldest version it stays readable
by (`COMPATIBLE_SINCE`, carried in the `schema-compatible-since` header), so
that consumers of that version read it, ignoring what they do not know, while
a service is upgraded; a change that older consumers would misread sets
`COMPATIBLE_SINCE` to the new version (they dead-letter it), and a breaking
change of shape is a new `*.v2` topic.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, ClassVar, Literal
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from palmares_contracts.enums import Category, CollectiviteKind, NotificationKind
from palmares_contracts.grille import Grille

# INSEE commune code (5 chars, Corsica uses 2A/2B) or EPCI SIREN (9 digits).
CollectiviteCode = Annotated[str, Field(pattern=r"^(?:[0-9][0-9AB][0-9]{3}|[0-9]{9})$")]
Edition = Annotated[int, Field(ge=2000, le=2100)]
Arobases = Annotated[int, Field(ge=1, le=5)]
# Deliberately loose: the submission service validates addresses strictly at
# the HTTP boundary; the contracts depend on pydantic only (no email-validator).
EmailAddress = Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]


def utcnow() -> datetime:
    """Current time, timezone-aware UTC (events never carry naive datetimes)."""
    return datetime.now(UTC)


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Event(_Value):
    """Common envelope fields of every event."""

    SCHEMA_VERSION: ClassVar[int] = 1
    # The oldest schema version whose consumers can read this one (see the module's docstring).
    COMPATIBLE_SINCE: ClassVar[int] = 1

    event_id: UUID = Field(default_factory=uuid4)
    event_type: str
    schema_version: int = Field(default=1, ge=1)
    occurred_at: AwareDatetime = Field(default_factory=utcnow)


# --- Value objects -----------------------------------------------------------------


class CategoryOverride(_Value):
    """An operator's decision on a collectivité's category for an edition, and why (French)."""

    category: Category
    reason: str = Field(min_length=1, max_length=1_000)
    decided_by: str = Field(min_length=1, max_length=200)
    decided_at: AwareDatetime


class Collectivite(_Value):
    """A participating collectivité, as known from the reference data.

    In a dossier (`SubmissionReceived`), `population` and `category` are those
    of the dossier's edition: the population in force at its deadline
    (reference data of `millesime`), and the category that follows from it,
    unless an operator overrode it (`category_override`, whose category it is).
    """

    code: CollectiviteCode
    kind: CollectiviteKind
    name: str = Field(min_length=1, max_length=200)
    population: int = Field(ge=0)
    departement: str = Field(min_length=2, max_length=3)
    contact_email: EmailAddress
    category: Category
    # The EPCI's type in the reference data (CC, CA, CU, METRO, MET69): letters name an
    # EPCI by its full official name (« la communauté de communes de … »). Added after
    # schema version 1, optional: older events and consumers are unaffected.
    epci_type: str | None = Field(default=None, max_length=8)
    # Added after schema version 1, optional: where the population and the category come from.
    millesime: int | None = Field(default=None, ge=1999, le=2100)
    category_override: CategoryOverride | None = None

    @model_validator(mode="after")
    def _check_override(self) -> Collectivite:
        if self.category_override is not None and self.category_override.category != self.category:
            raise ValueError("an overridden category is the category of the collectivité")
        return self


class Action(_Value):
    """A digital action of a dossier, declaring the grille services it delivers."""

    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=10_000)
    services: tuple[str, ...] = ()
    url: str | None = Field(default=None, max_length=2_000, pattern=r"^https?://")
    started_on: date
    ended_on: date | None = None


class EnjeuCoverage(_Value):
    """How much of one enjeu's applicable weight the dossier covers."""

    code: str
    label: str = ""
    coverage: float = Field(ge=0, le=1)
    services: tuple[str, ...] = ()


class NextLevel(_Value):
    """What would earn the next arobase."""

    target_arobases: Arobases
    points_missing: float = Field(ge=0)
    suggested_services: tuple[str, ...] = ()


class IgnoredAction(_Value):
    """An action that did not count, and why (in French: shown to collectivités)."""

    title: str
    reason: str


class Evidence(_Value):
    """Why a mention was detected: where, what text, which words or services."""

    action_title: str | None = None
    snippet: str = ""
    matched_terms: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()


class Mention(_Value):
    """A mention of the label detected for a dossier."""

    code: str
    label: str
    evidence: tuple[Evidence, ...] = ()


class MentionMiss(_Value):
    """A mention just missed, with what was lacking (French, shown to collectivités)."""

    code: str
    label: str
    lacking: str


class ServiceSuggestion(_Value):
    """A grille service that an action's text describes but the dossier does not declare.

    Shown to the collectivité (« votre action X semble relever du service Y :
    déclarez-le »); the pré-notation counts declared services only.
    """

    action_title: str
    service_code: str
    service_label: str
    matched_terms: tuple[str, ...] = ()
    snippet: str = ""
    message: str = ""  # the advice, in French, ready to show


class Distinction(_Value):
    """A distinction beyond the arobases (e.g. « Territoire d'excellence numérique »)."""

    collectivite_code: CollectiviteCode
    label: str


class Ceremony(_Value):
    """Where and when the palmarès is revealed."""

    place: str
    date: date


# --- Events --------------------------------------------------------------------------


class GrillePublished(Event):
    """An operator published a new version of an edition's grille."""

    event_type: Literal["GrillePublished"] = "GrillePublished"
    edition: Edition
    version: int = Field(ge=1)
    grille: Grille

    @model_validator(mode="after")
    def _consistent(self) -> GrillePublished:
        if (self.grille.edition, self.grille.version) != (self.edition, self.version):
            raise ValueError("grille edition/version differ from the event's")
        return self


class SubmissionReceived(Event):
    """A collectivité submitted (a revision of) its dossier."""

    event_type: Literal["SubmissionReceived"] = "SubmissionReceived"
    submission_id: UUID
    revision: int = Field(ge=1)
    edition: Edition
    collectivite: Collectivite
    actions: tuple[Action, ...] = Field(min_length=1)
    narrative: str = Field(default="", max_length=20_000)
    submitted_at: AwareDatetime


class SubmissionScored(Event):
    """The pré-notation of a dossier revision under a grille version."""

    event_type: Literal["SubmissionScored"] = "SubmissionScored"
    submission_id: UUID
    revision: int = Field(ge=1)
    edition: Edition
    collectivite_code: CollectiviteCode
    grille_version: int = Field(ge=1)
    score: float = Field(ge=0, le=100)
    arobases: Arobases
    category: Category
    enjeux: tuple[EnjeuCoverage, ...] = ()
    next_level: NextLevel | None = None
    ignored_actions: tuple[IgnoredAction, ...] = ()


class MentionsDetected(Event):
    """The mentions detected for a dossier revision under a grille version."""

    event_type: Literal["MentionsDetected"] = "MentionsDetected"
    submission_id: UUID
    revision: int = Field(ge=1)
    edition: Edition
    collectivite_code: CollectiviteCode
    grille_version: int = Field(ge=1)
    mentions: tuple[Mention, ...] = ()
    missed: tuple[MentionMiss, ...] = ()
    # Added after schema version 1, with a default: older consumers ignore it, older events read as ().
    suggestions: tuple[ServiceSuggestion, ...] = ()


class JuryDecided(Event):
    """The jury placed a dossier on the 1–5 @ scale (confirms or overrides the pré-notation).

    Schema version 2 adds, both optional (a version 1 event still reads):
    - `revision`: the revision of the dossier the jury examined;
    - `mentions`: the mentions the jury grants — the detected ones it
      confirmed (with their evidence) and the ones it added (no evidence).
      They replace the detected mentions in the palmarès, the award email
      and the status view. `None` (version 1, or a decision on the arobases
      alone) leaves the detected mentions as they are.
    The version changed, not only the fields: a consumer that only knows
    version 1 would show the detected mentions instead of the jury's, so it
    must refuse the event (dead letter) rather than ignore the new field:
    version 2 is compatible since version 2 only.
    """

    SCHEMA_VERSION: ClassVar[int] = 2
    COMPATIBLE_SINCE: ClassVar[int] = 2

    event_type: Literal["JuryDecided"] = "JuryDecided"
    schema_version: int = Field(default=2, ge=1)
    submission_id: UUID
    edition: Edition
    collectivite_code: CollectiviteCode
    arobases: Arobases
    comment: str = Field(default="", max_length=5_000)
    decided_by: str = Field(min_length=1, max_length=200)
    revision: int | None = Field(default=None, ge=1)
    mentions: tuple[Mention, ...] | None = None


class PalmaresPublished(Event):
    """An operator published the palmarès of an edition: award emails follow."""

    event_type: Literal["PalmaresPublished"] = "PalmaresPublished"
    edition: Edition
    published_at: AwareDatetime
    ceremony: Ceremony | None = None
    distinctions: tuple[Distinction, ...] = ()
    # How many JuryDecided events of this edition were published before this
    # event: the award emails wait until all of them were read (another topic).
    jury_decisions: int = Field(default=0, ge=0)


class _NotificationEvent(Event):
    notification_id: UUID
    kind: NotificationKind
    collectivite_code: CollectiviteCode
    edition: Edition
    to: EmailAddress
    message_id: str
    submission_id: UUID | None = None
    revision: int | None = None


class NotificationSent(_NotificationEvent):
    """An email was accepted by the SMTP server."""

    event_type: Literal["NotificationSent"] = "NotificationSent"


class NotificationFailed(_NotificationEvent):
    """An email could not be delivered (permanent refusal or retries exhausted)."""

    event_type: Literal["NotificationFailed"] = "NotificationFailed"
    reason: str

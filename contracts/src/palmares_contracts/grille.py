"""The grille: the yearly selection grid of the label, as carried by `GrillePublished`.

A grille groups services (digital public services a collectivité may run) into
enjeux, and enjeux into 4 categories. It also carries the arobase thresholds
of the pré-notation and the rules of the mentions. The submission service
validates a grille with these models before publishing it, so every consumer
can rely on the invariants checked here.
"""

from __future__ import annotations

from datetime import date
from itertools import pairwise
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from palmares_contracts.enums import Category, ChangeKind

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
Label = Annotated[str, Field(min_length=1, max_length=300)]


class _Frozen(BaseModel):
    # Frozen value objects; unknown fields are ignored so an older consumer
    # still reads a grille written by a newer producer.
    model_config = ConfigDict(frozen=True, extra="ignore")


class GrilleCategory(_Frozen):
    """One of the 4 categories that group the enjeux."""

    code: Code
    label: Label


class Enjeu(_Frozen):
    """An enjeu de développement local (16 in a grille)."""

    code: Code
    label: Label
    category: Code


class GrilleService(_Frozen):
    """A digital service of the grille, the unit a dossier's actions declare."""

    code: Code
    label: Label
    enjeu: Code
    weight: float = Field(gt=0, le=100)
    applies_to: tuple[Category, ...] = (Category.VILLAGE, Category.VILLE, Category.TERRITOIRE)
    description: str = ""
    # Added after schema version 1, with defaults: older grilles and consumers are unaffected.
    # Expressions by which an action's text describes this service, and their homonyms:
    # the mentions service suggests declaring the service when an action describes it
    # without declaring it. A service without terms is never suggested.
    terms: tuple[str, ...] = ()
    exclusions: tuple[str, ...] = ()
    # Added after schema version 1, with a default: one of the « services publics numériques
    # essentiels » the grille designates, whose coverage the observatoire follows everywhere.
    essentiel: bool = False


class Threshold(_Frozen):
    """Minimum score (0–100) for a number of arobases."""

    arobases: int = Field(ge=1, le=5)
    min_score: float = Field(ge=0, le=100)


class CategoryThresholds(_Frozen):
    """The thresholds of one category, where the jury's data supports its own scale.

    Added after schema version 1, optional: a category without its own uses the
    grille's general `thresholds`.
    """

    category: Category
    thresholds: tuple[Threshold, ...] = Field(min_length=1)


class ContextualTerms(_Frozen):
    """Terms that evidence a mention only next to a context.

    An occurrence of one of `terms` counts when its sentence also holds one of
    `context` and none of the rule's exclusions: « personnes en situation de
    handicap » is digital accessibility next to « site internet », not next to
    « salle polyvalente ».
    """

    terms: tuple[str, ...] = Field(min_length=1)
    context: tuple[str, ...] = Field(min_length=1)


class MentionRule(_Frozen):
    """How a mention is detected: from French free text, and from declared services.

    `terms` are evidence on their own; `exclusions` are homonyms (a term occurrence
    that starts inside one does not count); `contextual` terms need a context.
    A declared service of `service_codes` is a hint: it stands as the context of
    the rule's contextual terms in its action, and is evidence on its own only
    if it is one of `sufficient_services`. `min_evidence` counts distinct
    sources of evidence: each action once, the narrative once.
    """

    code: Code
    label: Label
    service_codes: tuple[Code, ...] = ()
    terms: tuple[str, ...] = ()
    exclusions: tuple[str, ...] = ()
    min_evidence: int = Field(default=1, ge=1)
    # Added after schema version 1, with a default: older grilles and consumers are unaffected.
    contextual: tuple[ContextualTerms, ...] = ()
    # Added after schema version 1, with a default (no service suffices on its own).
    sufficient_services: tuple[Code, ...] = ()


class ChangelogEntry(_Frozen):
    """One change of this grille version against the previous one.

    A change of a service names it (`service_code`); a change of thresholds
    (`ChangeKind.THRESHOLDS`) names no service, and the category whose own
    thresholds changed (`category`; None: the general thresholds).
    """

    change: ChangeKind
    service_code: Code | None = None
    detail: str = ""
    category: Category | None = None
    # Additive: the tendances de la grille feed the next grille's changelog.
    theme: Label | None = Field(
        default=None,
        description="an « added » service: the theme of the previous edition's tendances de la grille it answers "
        "(the theme's name, as the report gives it)",
    )

    @model_validator(mode="after")
    def _check_subject(self) -> ChangelogEntry:
        if self.theme is not None and self.change is not ChangeKind.ADDED:
            raise ValueError("only an added service cites a theme of the tendances")
        if self.change is ChangeKind.THRESHOLDS:
            if self.service_code is not None:
                raise ValueError("a thresholds change names no service")
        elif self.service_code is None or self.category is not None:
            raise ValueError(f"a {self.change.value} change names a service and no category")
        return self


class GrilleBody(_Frozen):
    """A grille as an operator writes it (`PUT /v1/editions/{edition}/grille`): no version."""

    edition: int = Field(ge=2000, le=2100)
    title: str = ""
    # Dossier deadline used by the 2-year rule; default 30 November of the year before.
    deadline: date | None = None
    # The campaign's closing instant: after it, new dossiers and revisions are
    # refused unless an operator reopened that collectivité's dossier. None: open
    # until the palmarès is published.
    closes_at: AwareDatetime | None = None
    categories: tuple[GrilleCategory, ...] = Field(min_length=1)
    enjeux: tuple[Enjeu, ...] = Field(min_length=1)
    services: tuple[GrilleService, ...] = Field(min_length=1)
    thresholds: tuple[Threshold, ...] = Field(min_length=1)
    mentions: tuple[MentionRule, ...] = ()
    changelog: tuple[ChangelogEntry, ...] = ()
    # Added after schema version 1, optional: thresholds of a category, when calibrated apart.
    category_thresholds: tuple[CategoryThresholds, ...] = ()

    @property
    def effective_deadline(self) -> date:
        """The dossier deadline: the configured one, or 30 November of the year before."""
        return self.deadline or date(self.edition - 1, 11, 30)

    def thresholds_for(self, category: Category) -> tuple[Threshold, ...]:
        """The thresholds that apply to a category: its own, else the general ones."""
        own = next((c.thresholds for c in self.category_thresholds if c.category == category), None)
        return own if own is not None else self.thresholds

    @model_validator(mode="after")
    def _check_references(self) -> GrilleBody:
        _unique("categories", [c.code for c in self.categories])
        _unique("enjeux", [e.code for e in self.enjeux])
        _unique("services", [s.code for s in self.services])
        _unique("mentions", [m.code for m in self.mentions])
        categories = {c.code for c in self.categories}
        for enjeu in self.enjeux:
            if enjeu.category not in categories:
                raise ValueError(f"enjeu {enjeu.code!r}: unknown category {enjeu.category!r}")
        enjeux = {e.code for e in self.enjeux}
        for service in self.services:
            if service.enjeu not in enjeux:
                raise ValueError(f"service {service.code!r}: unknown enjeu {service.enjeu!r}")
        services = {s.code for s in self.services}
        for rule in self.mentions:
            unknown = [c for c in rule.service_codes if c not in services]
            if unknown:
                raise ValueError(f"mention {rule.code!r}: unknown services {unknown}")
            stray = [c for c in rule.sufficient_services if c not in rule.service_codes]
            if stray:
                raise ValueError(f"mention {rule.code!r}: sufficient services {stray} are not among its service_codes")
        _check_thresholds("thresholds", self.thresholds)
        _unique("category_thresholds", [c.category.value for c in self.category_thresholds])
        for own in self.category_thresholds:
            _check_thresholds(f"thresholds of {own.category.value}", own.thresholds)
        return self

    @property
    def essentiels(self) -> tuple[GrilleService, ...]:
        """The services the grille designates as essential, in its order (none in a grille without the field)."""
        return tuple(s for s in self.services if s.essentiel)

    def service(self, code: str) -> GrilleService | None:
        """The service of that code, if the grille has it."""
        return next((s for s in self.services if s.code == code), None)


class Grille(GrilleBody):
    """A published grille version (the service assigns `version`, increasing per edition)."""

    version: int = Field(ge=1)


def _check_thresholds(what: str, thresholds: tuple[Threshold, ...]) -> None:
    levels = sorted(thresholds, key=lambda t: t.arobases)
    if [t.arobases for t in levels] != list(range(1, len(levels) + 1)):
        raise ValueError(f"{what} must define arobases 1, 2, … without gaps")
    if levels[0].min_score != 0:
        raise ValueError(f"{what}: the threshold of 1 arobase must be 0: every participant gets 1 @")
    if any(a.min_score >= b.min_score for a, b in pairwise(levels)):
        raise ValueError(f"{what} must increase with the arobases")


def _unique(what: str, codes: list[str]) -> None:
    seen: set[str] = set()
    duplicates = sorted({c for c in codes if c in seen or seen.add(c)})  # type: ignore[func-returns-value]
    if duplicates:
        raise ValueError(f"duplicate {what} codes: {duplicates}")

"""The jury's worklist of an edition: tabs, filters, sorting, pages (pure: what to ask the store, how to read it).

The same worklist serves the espace jury (tabs « à examiner », « décidés »,
« tous », filters kept in the URL, CSV and XLSX exports) and the API
(`GET /v1/editions/{edition}/submissions`, with an opaque cursor).

- « à examiner »: no jury decision yet, or one that is « à revoir » (the
  collectivité revised its dossier after the decision);
- « décidés »: a decision on the dossier's current revision.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal
from uuid import UUID

from palmares_submission import calendar
from palmares_submission.refdata import load_departements
from palmares_submission.schemas import Status
from palmares_submission.status import Progress, dossier_status

Tab = Literal["a-examiner", "decides", "tous"]
TABS: dict[Tab, str] = {"a-examiner": "À examiner", "decides": "Décidés", "tous": "Tous"}
SORTS = {
    "nom": "Nom",
    "prenotation": "Pré-notation",
    "departement": "Département",
    "depot": "Date de dépôt",
}
CATEGORIES = {"village": "Villages", "ville": "Villes", "territoire": "Territoires"}
PAGE_SIZE = 50
MAX_LIMIT = 500
MAX_QUERY_LENGTH = 100


@dataclass(frozen=True, slots=True)
class WorklistQuery:
    """What the jury asks: one tab, filters, an order, a window."""

    edition: int
    tab: Tab = "tous"
    category: str | None = None
    departement: str | None = None
    region: str | None = None
    arobases: int | None = None  # the pré-notation
    decided: bool | None = None
    mention: str | None = None
    q: str | None = None
    sort: str = "nom"
    descending: bool = False
    limit: int = PAGE_SIZE
    offset: int = 0

    @property
    def departements(self) -> list[str] | None:
        """The départements the filters allow (a région is its départements), None for all."""
        allowed: set[str] | None = None
        if self.region:
            allowed = {d.code for d in load_departements().values() if d.region == self.region}
        if self.departement:
            allowed = {self.departement} if allowed is None else allowed & {self.departement}
        return sorted(allowed) if allowed is not None else None

    def page(self, number: int) -> WorklistQuery:
        return replace(self, offset=max(0, number - 1) * self.limit)

    @property
    def page_number(self) -> int:
        return self.offset // self.limit + 1


class QueryError(ValueError):
    """A filter the worklist cannot apply; `field` names the parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _choice(params: Mapping[str, str], name: str, allowed: Collection[str]) -> str | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    if value not in allowed:
        raise QueryError(name, f"Valeur inconnue pour « {name} » : {value[:40]}.")
    return value


def _int(params: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    if not value.isdecimal() or len(value) > 9 or not low <= int(value) <= high:
        raise QueryError(name, f"« {name} » doit être un nombre entier de {low} à {high}.")
    return int(value)


def parse_filters(edition: int, params: Mapping[str, str]) -> WorklistQuery:
    """The worklist a page's query string asks for (QueryError names the parameter at fault)."""
    departements = load_departements()
    regions = {d.region for d in departements.values()}
    decided = _choice(params, "decided", {"true", "false"})
    sort = _choice(params, "tri", SORTS) or "nom"
    q = (params.get("q") or "").strip()
    if len(q) > MAX_QUERY_LENGTH:
        raise QueryError("q", f"La recherche tient en {MAX_QUERY_LENGTH} caractères au plus.")
    mention = (params.get("mention") or "").strip() or None
    if mention is not None and (len(mention) > 64 or not all(c.isalnum() or c in "_.-" for c in mention)):
        raise QueryError("mention", "Code de mention invalide.")
    chosen = _choice(params, "onglet", TABS)
    tab: Tab = next((t for t in TABS if t == chosen), "tous")
    return WorklistQuery(
        edition=edition,
        tab=tab,
        category=_choice(params, "category", CATEGORIES) or _choice(params, "categorie", CATEGORIES),
        departement=_choice(params, "departement", departements),
        region=_choice(params, "region", regions),
        arobases=_int(params, "prenotation", 1, 5),
        decided=None if decided is None else decided == "true",
        mention=mention,
        q=q or None,
        sort=sort,
        descending=params.get("ordre") == "desc",
        limit=PAGE_SIZE,
    ).page(_int(params, "page", 1, 100_000) or 1)


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The offset an API cursor stands for (QueryError for a cursor this service did not write)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    kind, _, value = raw.partition(":")
    if kind != "o" or not value.isdecimal() or len(value) > 9:
        raise QueryError("cursor", "Curseur invalide : reprenez celui de la réponse précédente.")
    return int(value)


# The same fields as schemas.WorklistItem, kept apart on purpose: this is the store's row, that one the API's
# documented answer; a column added for the pages must not change the API.
@dataclass(frozen=True, slots=True)
class WorklistRow:
    """One dossier of the worklist, as the store reads it."""

    submission_id: UUID
    revision: int
    collectivite_code: str
    name: str
    category: str
    departement: str
    submitted_at: datetime
    arobases: int | None
    score: float | None
    jury_arobases: int | None
    decision_revision: int | None
    mentions: tuple[str, ...]
    score_revision: int | None
    mentions_revision: int | None
    receipt_sent: bool
    award_sent: bool
    palmares_published: bool

    @property
    def decided(self) -> bool:
        return self.jury_arobases is not None

    @property
    def to_review_again(self) -> bool:
        """« À revoir »: the collectivité revised its dossier after the jury decided on it."""
        return self.decided and calendar.to_review_again(self.decision_revision, self.revision)

    @property
    def status(self) -> Status:
        return dossier_status(
            Progress(
                revision=self.revision,
                score_revision=self.score_revision,
                mentions_revision=self.mentions_revision,
                receipt_sent=self.receipt_sent,
                palmares_published=self.palmares_published,
                award_sent=self.award_sent,
            )
        )

    @property
    def region_name(self) -> str:
        ref = load_departements().get(self.departement)
        return ref.region_name if ref else ""


@dataclass(frozen=True, slots=True)
class TabCounts:
    a_examiner: int
    decides: int
    tous: int

    def of(self, tab: Tab) -> int:
        return {"a-examiner": self.a_examiner, "decides": self.decides, "tous": self.tous}[tab]

"""The dossier form of the espace collectivité, without JavaScript (pure: form fields ⇄ a submission).

The form posts flat fields (`actions-0-title`, `actions-0-services` repeated,
…); this module turns them into the API's submission body, validated by the
same model (`SubmissionRequest`), and turns each error back into the field it
belongs to, with a French message. Adding or removing an action is a submit
button that redisplays the form (nothing is lost, nothing is saved).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from palmares_contracts import Grille, SubmissionReceived
from palmares_label.french import typeset
from pydantic import ValidationError

from palmares_submission.errors import french_message
from palmares_submission.schemas import MAX_ACTIONS, SubmissionRequest

ACTION_FIELDS = ("title", "description", "started_on", "ended_on", "url")
LABELS = {
    "title": "le titre",
    "description": "la description",
    "started_on": "la date de début",
    "ended_on": "la date de fin",
    "url": "l’adresse web",
    "services": "les services",
}


@dataclass
class ActionForm:
    title: str = ""
    description: str = ""
    started_on: str = ""
    ended_on: str = ""
    url: str = ""
    services: list[str] = field(default_factory=list)
    # Kept out of the public catalogue of labelled actions (default: published).
    withheld: bool = False

    @property
    def blank(self) -> bool:
        return not any((self.title, self.description, self.started_on, self.ended_on, self.url, self.services))


@dataclass
class DossierForm:
    """The form as typed: redisplayed as is after an error."""

    actions: list[ActionForm] = field(default_factory=lambda: [ActionForm()])
    narrative: str = ""

    @classmethod
    def of(cls, dossier: SubmissionReceived, withheld: frozenset[int] = frozenset()) -> DossierForm:
        """The form filled with a revision, to revise it (`withheld`: the actions kept out of the catalogue)."""
        return cls(
            actions=[
                ActionForm(
                    title=a.title,
                    description=a.description,
                    started_on=a.started_on.isoformat(),
                    ended_on=a.ended_on.isoformat() if a.ended_on else "",
                    url=a.url or "",
                    services=list(a.services),
                    withheld=i in withheld,
                )
                for i, a in enumerate(dossier.actions)
            ],
            narrative=dossier.narrative,
        )

    @classmethod
    def parse(cls, fields: Any) -> DossierForm:
        """From the posted fields (a multi-dict: `getlist` for the repeated services)."""
        count = min(_int(fields.get("actions", "1")), MAX_ACTIONS)
        removed = {_int(fields.get("retirer", "-1"), default=-1)}
        actions = []
        for i in range(count):
            if i in removed:
                continue
            actions.append(
                ActionForm(
                    **{name: str(fields.get(f"actions-{i}-{name}", "")).strip() for name in ACTION_FIELDS},
                    services=[str(s) for s in fields.getlist(f"actions-{i}-services")][:50],
                    withheld=bool(fields.get(f"actions-{i}-hors_catalogue")),
                )
            )
        if fields.get("ajouter") and len(actions) < MAX_ACTIONS:
            actions.append(ActionForm())
        return cls(actions=actions or [ActionForm()], narrative=str(fields.get("narrative", "")))

    def request_body(self) -> dict[str, Any]:
        """The API's submission body (blank action blocks are left out)."""
        return {
            "actions": [
                {
                    "title": a.title,
                    "description": a.description,
                    "services": a.services,
                    "url": a.url or None,
                    "started_on": a.started_on or None,
                    "ended_on": a.ended_on or None,
                    "catalogue": not a.withheld,
                }
                for a in self.actions
                if not a.blank
            ],
            "narrative": self.narrative,
        }

    def index_of_field(self, api_index: int) -> int:
        """The form's block number of the `api_index`-th action sent (blank blocks are not sent)."""
        sent = [i for i, a in enumerate(self.actions) if not a.blank]
        return sent[api_index] if api_index < len(sent) else api_index


def _int(value: Any, default: int = 1) -> int:
    try:
        return int(str(value))
    except ValueError:
        return default


def field_id(form: DossierForm, api_field: str | None) -> str:
    """The form field of an API field path: `actions.2.services.0` → `actions-<block>-services`."""
    parts = (api_field or "").split(".")
    if parts[0] == "actions" and len(parts) >= 3 and parts[1].isdecimal():
        return f"actions-{form.index_of_field(int(parts[1]))}-{parts[2]}"
    if parts[0] == "actions":
        return "actions-0-title"
    return parts[0] or "narrative"


def message_for(field: str, message: str) -> str:
    """A French sentence that names the field: « Action 2, la date de début : … »."""
    parts = field.split("-")
    if parts[0] == "actions" and len(parts) == 3:
        what = LABELS.get(parts[2], parts[2])
        # French: no capital after a colon, a non-breaking space before it.
        text = message[:1].lower() + message[1:] if message[1:2].islower() else message
        return f"Action {int(parts[1]) + 1}, {what}\u00a0: {text.rstrip('.')}."
    if field == "narrative":
        return f"Récit\u00a0: {message.rstrip('.')}."
    return message


def validate(form: DossierForm) -> tuple[SubmissionRequest | None, dict[str, str]]:
    """The request the form makes, or the errors by form field (French, first error of each field)."""
    body = form.request_body()
    if not body["actions"]:
        return None, {"actions-0-title": "Décrivez au moins une action : son titre et sa date de début."}
    try:
        return SubmissionRequest.model_validate(body), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            loc = ".".join(str(p) for p in error.get("loc", ()))
            fid = field_id(form, loc)
            errors.setdefault(fid, message_for(fid, _friendly(error)))
        return None, errors


def _friendly(error: Any) -> str:
    """pydantic's error in words a secretary of a mairie reads (not « champ obligatoire manquant »)."""
    kind = error.get("type")
    if kind == "missing" or (
        kind in ("date_from_datetime_parsing", "date_parsing", "date_type") and not error.get("input")
    ):
        return "à renseigner"
    if kind in ("date_from_datetime_parsing", "date_parsing", "date_type"):
        return "une date est attendue, par exemple 15/01/2016"
    if kind == "string_too_short":
        return "à renseigner"
    return french_message(error)


def services_for(grille: Grille, category: str) -> list[tuple[str, list[tuple[str, str, str]]]]:
    """The grille's services a collectivité of `category` can declare, grouped by enjeu (the picker's list)."""
    groups: list[tuple[str, list[tuple[str, str, str]]]] = []
    for enjeu in grille.enjeux:
        members = [
            (s.code, typeset(s.label), typeset(s.description))
            for s in grille.services
            if s.enjeu == enjeu.code and category in {c.value for c in s.applies_to}
        ]
        if members:
            groups.append((typeset(enjeu.label), members))
    return groups

"""What an award letter advises for the next dossier (pure): the next arobase, and the services to declare.

Two pieces of advice, both from the evaluation of the dossier:
- **the next arobase** (scoring's `next_level`): the points the pré-notation
  misses for it and the grille services that would bring them. Told only when
  the pré-notation is the result: when the jury decided otherwise, the
  pré-notation's next arobase is not the collectivité's;
- **the services to declare** (the mentions service's `suggestions`): an
  action whose text describes a grille service that the dossier does not
  declare. The pré-notation counts declared services only, so each is told
  with its action and the words that describe it (« Votre action « … » semble
  relever du service « … » : déclarez-le. Terme relevé : « … ». »), whatever
  the jury decided.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from palmares_label import french


@dataclass(frozen=True, slots=True)
class NextArobase:
    """« Pour obtenir {target}, il manque {missing} … ; ces services … : {services}. »"""

    target: str  # « quatre arobases »
    missing: str  # « 1,2 point »
    services: str  # « « Paiement en ligne », « État civil » », or empty


@dataclass(frozen=True, slots=True)
class Advice:
    next_arobase: NextArobase | None = None
    declare: tuple[str, ...] = ()  # one French sentence per service to declare, ready to show

    def __bool__(self) -> bool:
        return self.next_arobase is not None or bool(self.declare)


def next_arobase(
    score: Mapping[str, Any], arobases: int, service_labels: Mapping[str, str] | None = None
) -> NextArobase | None:
    """The way to the next arobase, when the pré-notation is the result (`arobases`) and has a next one."""
    next_level = score.get("next_level")
    if not next_level or arobases != score.get("arobases"):
        return None
    labels = service_labels or {}
    services = [french.quoted(french.typographic(labels.get(c, c))) for c in next_level.get("suggested_services", [])]
    return NextArobase(
        target=french.arobases(int(next_level["target_arobases"])),
        missing=french.count(float(next_level["points_missing"]), "point"),
        services=", ".join(services),
    )


def services_to_declare(mentions: Mapping[str, Any]) -> tuple[str, ...]:
    """The mentions service's advice for each service an action describes but the dossier does not declare.

    An event written before the suggestions existed has none; a suggestion
    without its French message (never sent so far) is not told.
    """
    return tuple(
        french.typographic(message)
        for s in mentions.get("suggestions") or ()
        if (message := str(s.get("message") or "").strip())
    )


def advice_for(
    score: Mapping[str, Any],
    mentions: Mapping[str, Any],
    arobases: int,
    service_labels: Mapping[str, str] | None = None,
) -> Advice:
    """The advice of an award letter announcing `arobases`, from the dossier's score and mentions (as JSON)."""
    return Advice(next_arobase(score, arobases, service_labels), services_to_declare(mentions))

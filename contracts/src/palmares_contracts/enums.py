"""Enumerations shared by every service (domain words of the label)."""

from __future__ import annotations

from enum import StrEnum


class CollectiviteKind(StrEnum):
    """Legal kind of a collectivité: a commune (INSEE code) or an EPCI (SIREN)."""

    COMMUNE = "commune"
    EPCI = "epci"


class Category(StrEnum):
    """The three tables of the palmarès: Villages, Villes, Territoires (EPCI)."""

    VILLAGE = "village"
    VILLE = "ville"
    TERRITOIRE = "territoire"


class NotificationKind(StrEnum):
    """Emails sent to a collectivité."""

    RECEIPT = "receipt"
    AWARD = "award"
    RECTIFICATIF = "rectificatif"


class ChangeKind(StrEnum):
    """Kinds of change between two versions of a grille (machine-readable changelog)."""

    ADDED = "added"
    REMOVED = "removed"
    REWORDED = "reworded"
    REWEIGHTED = "reweighted"
    MOVED = "moved"
    APPLICABILITY = "applicability"
    # The arobase thresholds (general, or of one category): the entry names no service.
    THRESHOLDS = "thresholds"

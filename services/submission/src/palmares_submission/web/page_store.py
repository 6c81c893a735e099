"""SQL reads of the espaces' pages (the submission service's own tables only)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from palmares_contracts import Grille, SubmissionReceived
from palmares_eventkit.db import Connection

from palmares_submission import store


@dataclass(frozen=True, slots=True)
class DossierRow(store.SubmissionRow):
    """A collectivité's dossier of one edition, as its dashboard lists it: with its pré-notation and jury's arobases."""

    pre_notation: int | None
    jury_arobases: int | None


async def dossiers_of(conn: Connection, codes: list[str]) -> list[DossierRow]:
    rows = await conn.fetch(
        """SELECT s.submission_id, s.edition, s.collectivite_code, s.revision, s.submitted_at,
                  e.palmares_published_at, (r.payload->>'arobases')::int AS pre_notation,
                  j.arobases AS jury_arobases
           FROM submissions s
           LEFT JOIN editions e ON e.edition = s.edition
           LEFT JOIN results r ON r.submission_id = s.submission_id AND r.kind = 'score'
           LEFT JOIN jury_decisions j ON j.submission_id = s.submission_id
           WHERE s.collectivite_code = ANY($1::text[])
           ORDER BY s.edition DESC""",
        codes,
    )
    return [DossierRow(**dict(r)) for r in rows]


@dataclass(frozen=True, slots=True)
class OpenEdition:
    """An edition whose campaign is open: a grille is published, the palmarès is not."""

    edition: int
    grille: Grille


async def open_editions(conn: Connection) -> list[OpenEdition]:
    rows = await conn.fetch(
        """SELECT e.edition, g.grille FROM editions e
           JOIN grilles g ON g.edition = e.edition AND g.version = e.grille_version
           WHERE e.palmares_published_at IS NULL ORDER BY e.edition DESC"""
    )
    return [OpenEdition(r["edition"], Grille.model_validate_json(r["grille"])) for r in rows]


async def grille_of(conn: Connection, edition: int, version: int | None = None) -> Grille | None:
    """A version of an edition's grille (the current one without `version`)."""
    raw = await conn.fetchval(
        """SELECT g.grille FROM grilles g JOIN editions e ON e.edition = g.edition
           WHERE g.edition = $1 AND g.version = coalesce($2, e.grille_version)""",
        edition,
        version,
    )
    return Grille.model_validate_json(raw) if raw else None


async def dossier_content(conn: Connection, submission_id: UUID, revision: int) -> SubmissionReceived | None:
    """What the collectivité declared in a revision (the event it was published as)."""
    raw = await conn.fetchval(
        "SELECT event FROM submission_revisions WHERE submission_id = $1 AND revision = $2", submission_id, revision
    )
    return SubmissionReceived.model_validate_json(raw) if raw else None


@dataclass(frozen=True, slots=True)
class JuryDecisionRow:
    arobases: int
    comment: str
    decided_by: str
    decided_at: datetime
    revision: int | None
    mentions: list[str] | None  # codes; None: the jury did not rule on the mentions


async def jury_decision(conn: Connection, submission_id: UUID) -> JuryDecisionRow | None:
    row = await conn.fetchrow(
        "SELECT arobases, comment, decided_by, decided_at, revision, mentions FROM jury_decisions WHERE submission_id = $1",
        submission_id,
    )
    if row is None:
        return None
    mentions = json.loads(row["mentions"]) if row["mentions"] is not None else None
    return JuryDecisionRow(**{**dict(row), "mentions": [m["code"] for m in mentions] if mentions is not None else None})


async def catalogue_withheld(conn: Connection, edition: int, code: str) -> frozenset[int]:
    """The positions of the current revision's actions kept out of the public catalogue."""
    found = await conn.fetchval(
        """SELECT r.catalogue_withheld FROM submissions s
           JOIN submission_revisions r ON r.submission_id = s.submission_id AND r.revision = s.revision
           WHERE s.edition = $1 AND s.collectivite_code = $2""",
        edition,
        code,
    )
    return frozenset(found or ())


@dataclass(frozen=True, slots=True)
class JuryEdition:
    """An edition as the espace jury lists it: its dossiers counted, its palmarès published or not."""

    edition: int
    palmares_published_at: datetime | None
    dossiers: int


async def jury_editions(conn: Connection) -> list[JuryEdition]:
    """Every edition with a grille, newest first."""
    rows = await conn.fetch(
        """SELECT e.edition, e.palmares_published_at, count(s.submission_id) AS dossiers
           FROM editions e LEFT JOIN submissions s ON s.edition = e.edition
           GROUP BY e.edition ORDER BY e.edition DESC"""
    )
    return [JuryEdition(**dict(r)) for r in rows]

"""SQL of the campaign's calendar: the dossiers an operator reopened after the campaign closed."""

from __future__ import annotations

from datetime import datetime

from palmares_eventkit.db import Connection

from palmares_submission.calendar import Reopening


async def reopening(conn: Connection, edition: int, code: str) -> Reopening | None:
    """The reopening of the collectivité's dossier of `edition`, if an operator reopened it."""
    row = await conn.fetchrow(
        """SELECT reopened_at, reopened_until FROM reopened_dossiers
           WHERE edition = $1 AND collectivite_code = $2""",
        edition,
        code,
    )
    return Reopening(reopened_at=row["reopened_at"], until=row["reopened_until"]) if row else None


async def reopen(conn: Connection, edition: int, code: str, at: datetime, until: datetime | None) -> Reopening:
    """Reopen (again) the collectivité's dossier of `edition` until `until` (None: until the palmarès)."""
    await conn.execute(
        """INSERT INTO reopened_dossiers (edition, collectivite_code, reopened_at, reopened_until)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (edition, collectivite_code)
           DO UPDATE SET reopened_at = EXCLUDED.reopened_at, reopened_until = EXCLUDED.reopened_until""",
        edition,
        code,
        at,
        until,
    )
    return Reopening(reopened_at=at, until=until)

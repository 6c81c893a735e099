"""SQL of an edition's progress: what the status view's tables count of its re-evaluation and awards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from palmares_eventkit.db import Connection


@dataclass(frozen=True, slots=True)
class ProgressCounts:
    """An edition's counts at `now` (the database's clock); `*_recent`: those of the last `window_s` seconds."""

    edition: int
    grille_version: int
    palmares_published_at: datetime | None
    grille_published_at: datetime
    now: datetime
    dossiers: int
    scoring: int
    scoring_recent: int
    mentions: int
    mentions_recent: int
    awards_sent: int
    awards_failed: int
    awards_recent: int


_COUNTS = """
WITH ed AS (
  SELECT e.edition, e.grille_version, e.palmares_published_at, g.published_at AS grille_published_at
  FROM editions e JOIN grilles g ON g.edition = e.edition AND g.version = e.grille_version
  WHERE e.edition = $1
), evaluated AS (
  SELECT count(*) FILTER (WHERE r.kind = 'score') AS scoring,
         count(*) FILTER (WHERE r.kind = 'score' AND r.updated_at > now() - $2 * interval '1 second') AS scoring_recent,
         count(*) FILTER (WHERE r.kind = 'mentions') AS mentions,
         count(*) FILTER (WHERE r.kind = 'mentions' AND r.updated_at > now() - $2 * interval '1 second')
           AS mentions_recent
  FROM submissions s
  JOIN results r ON r.submission_id = s.submission_id AND r.revision = s.revision
  JOIN ed ON r.grille_version = ed.grille_version
  WHERE s.edition = $1
), awards AS (
  SELECT count(DISTINCT submission_id) FILTER (WHERE status = 'sent') AS sent,
         count(DISTINCT submission_id) FILTER (WHERE status = 'failed') AS failed,
         count(*) FILTER (WHERE occurred_at > now() - $2 * interval '1 second') AS recent
  FROM notifications WHERE edition = $1 AND kind = 'award'
)
SELECT ed.*, now() AS now,
       (SELECT count(*) FROM submissions WHERE edition = $1) AS dossiers,
       evaluated.*, awards.sent AS awards_sent, awards.failed AS awards_failed, awards.recent AS awards_recent
FROM ed, evaluated, awards
"""


async def counts(conn: Connection, edition: int, window_s: float) -> ProgressCounts | None:
    """The edition's counts (None when no grille was ever published for it)."""
    row = await conn.fetchrow(_COUNTS, edition, window_s)
    return ProgressCounts(**dict(row)) if row is not None else None

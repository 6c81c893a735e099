"""Grille versions kept by a service that depends on the grille (scoring, mentions).

The service's schema has a table `grilles(edition, version, grille jsonb)`;
this keeps every version and parses each one once per process (a grille is
immutable once published, so the cache never goes stale).
"""

from __future__ import annotations

from palmares_contracts import Grille
from palmares_eventkit.db import Connection


class GrilleCache:
    """Every grille version of every edition, read from the service's own table."""

    def __init__(self) -> None:
        self._parsed: dict[tuple[int, int], Grille] = {}

    async def store(self, conn: Connection, grille: Grille) -> bool:
        """Keep a published version; False if it was already known."""
        self._parsed[(grille.edition, grille.version)] = grille
        inserted = await conn.fetchval(
            "INSERT INTO grilles (edition, version, grille) VALUES ($1, $2, $3::jsonb) "
            "ON CONFLICT DO NOTHING RETURNING true",
            grille.edition,
            grille.version,
            grille.model_dump_json(),
        )
        return bool(inserted)

    async def latest(self, conn: Connection, edition: int) -> Grille | None:
        """The newest version of an edition's grille, if any."""
        version = await conn.fetchval("SELECT max(version) FROM grilles WHERE edition = $1", edition)
        if version is None:
            return None
        return await self.version(conn, edition, version)

    async def version(self, conn: Connection, edition: int, version: int) -> Grille:
        """A stored version of an edition's grille (LookupError when it is not stored)."""
        key = (edition, version)
        if key not in self._parsed:
            raw = await conn.fetchval(
                "SELECT grille FROM grilles WHERE edition = $1 AND version = $2", edition, version
            )
            if raw is None:
                raise LookupError(f"grille {edition} v{version} is not stored")
            self._parsed[key] = Grille.model_validate_json(raw)
        return self._parsed[key]

"""What the public pages of the catalogue and the observatoire share: their templates and their choices."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import asyncpg
from jinja2 import Environment, PackageLoader, StrictUndefined
from palmares_eventkit.db import Connection
from palmares_label import french

from palmares_submission import refdata, store

_env = Environment(
    loader=PackageLoader("palmares_submission", "templates"),
    autoescape=True,  # dossiers' text and reference data: escape everything
    undefined=StrictUndefined,
)
_env.filters["number"] = french.number
_env.filters["typographic"] = french.typographic
_env.filters["typeset"] = french.typeset
_env.filters["thousands"] = lambda value: f"{int(value):,}".replace(",", "\u202f")


def render(template: str, **context: Any) -> str:
    return _env.get_template(template).render(**context)


def collectivite_name(code: str) -> str:
    ref = refdata.lookup_latest(code)
    return french.typographic(ref.name) if ref else code


@dataclass(slots=True)
class Choices:
    """The values a visitor can pick in the catalogue's filters, with their French labels."""

    editions: list[int] = field(default_factory=list)
    enjeux: dict[str, str] = field(default_factory=dict)
    services: dict[str, str] = field(default_factory=dict)
    mentions: dict[str, str] = field(default_factory=dict)
    departements: dict[str, str] = field(default_factory=dict)
    regions: dict[str, str] = field(default_factory=dict)


async def published_editions(conn: Connection) -> list[tuple[int, int]]:
    """(edition, grille version) of every edition whose palmarès is published, newest first."""
    rows = await conn.fetch(
        "SELECT edition, grille_version FROM editions WHERE palmares_published_at IS NOT NULL ORDER BY edition DESC"
    )
    return [(r["edition"], r["grille_version"]) for r in rows]


async def catalogue_choices(conn: Connection) -> Choices:
    """Editions, and the enjeux, services and mentions of their grilles (the newest edition's label wins)."""
    choices = Choices()
    for edition, version in await published_editions(conn):
        choices.editions.append(edition)
        grille = await store.grille_version(as_asyncpg(conn), edition, version)
        for e in grille.enjeux:
            choices.enjeux.setdefault(e.code, e.label)
        for s in grille.services:
            choices.services.setdefault(s.code, s.label)
        for m in grille.mentions:
            choices.mentions.setdefault(m.code, m.label)
    choices.enjeux = dict(sorted(choices.enjeux.items(), key=lambda kv: kv[1]))
    choices.services = dict(sorted(choices.services.items(), key=lambda kv: kv[1]))
    choices.mentions = dict(sorted(choices.mentions.items(), key=lambda kv: kv[1]))
    departements = refdata.load_departements()
    choices.departements = {code: f"{french.typographic(d.name)} ({code})" for code, d in sorted(departements.items())}
    choices.regions = dict(
        sorted(
            {d.region: french.typographic(d.region_name) for d in departements.values()}.items(),
            key=lambda kv: kv[1],
        )
    )
    return choices


def as_asyncpg(conn: Connection) -> asyncpg.Connection:
    # `store` still types its connections as asyncpg's (a pool's proxy behaves the same).
    return cast(asyncpg.Connection, conn)

"""Reference data of French collectivités (communes and EPCI à fiscalité propre).

The data ships with the package, one file per millésime (``collectivites-2016.csv.gz``,
``collectivites-2026.csv.gz``) and ``departements.csv.gz``, built by
``services/submission/scripts/build_refdata.py`` (Licence Ouverte / Etalab 2.0; see
``ATTRIBUTION.md``):

- millésime 2026: ``@etalab/decoupage-administratif@6.0.0``, today's communes and EPCI;
- millésime 2016: what was in force at the 2017 edition's dossier deadline, the INSEE
  populations légales 2013 (in force from 1 January 2016) and the EPCI at 1 January 2016.

An edition uses the millésime in force at its dossier deadline (30 November of the
year before the edition): the newest shipped millésime not after that year
(`millesime_for`). Pure and stdlib-only: no I/O beyond reading the package's own
files, each loaded once per process and cached.

A collectivité is identified by its ``code``: the 5-character INSEE code of a
commune (``"25056"``, ``"2A004"``) or the 9-digit SIREN of an EPCI
(``"200041333"``). The two namespaces never collide.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Final, Literal

__all__ = [
    "CURRENT_MILLESIME",
    "DEFAULT_VILLAGE_MAX_POPULATION",
    "LICENCE_URL",
    "MILLESIMES",
    "SOURCE",
    "SOURCES",
    "Category",
    "CollectiviteRef",
    "DepartementRef",
    "Kind",
    "attribution",
    "category_of",
    "load_departements",
    "load_reference",
    "lookup",
    "lookup_for_edition",
    "lookup_latest",
    "millesime_for",
]

Kind = Literal["commune", "epci"]
Category = Literal["village", "ville", "territoire"]

# Oldest first. Each millésime's source, as cited with the data it ships (Licence Ouverte).
SOURCES: Final = {
    2016: "INSEE, populations légales 2013 (en vigueur au 1er janvier 2016) ; DGCL, EPCI au 1er janvier 2016",
    2026: "@etalab/decoupage-administratif@6.0.0 (millésime 2026)",
}
MILLESIMES: Final = tuple(SOURCES)
CURRENT_MILLESIME: Final = MILLESIMES[-1]
SOURCE: Final = SOURCES[CURRENT_MILLESIME]

# The same sources as cited to the public, in French: the palmarès page and its exports credit
# them as the Licence Ouverte asks (`attribution`).
_CITATIONS: Final = {
    2016: "INSEE, populations légales 2013 (en vigueur au 1er janvier 2016)\u202f; DGCL, EPCI au 1er janvier 2016",
    2026: "Etalab, «\u00a0Découpage administratif français\u00a0», millésime 2026",
}
LICENCE_URL: Final = "https://www.etalab.gouv.fr/licence-ouverte-open-licence"

# The label's palmarès has three kinds: Villages, Villes, Territoires (EPCI). The
# association publishes no threshold; the press calls "village" a commune under
# about 3,000 or 3,500 inhabitants. We take 3,500 — the upper reading, so that
# small communes are not pushed into the "ville" questionnaire — and keep it a
# parameter so the grille can override it.
DEFAULT_VILLAGE_MAX_POPULATION: Final = 3500

_DEPARTEMENTS: Final = "departements.csv.gz"
_COLLECTIVITES_HEADER: Final = (
    "code",
    "kind",
    "name",
    "departement",
    "region",
    "population",
    "epci_type",
)


@dataclass(frozen=True, slots=True)
class CollectiviteRef:
    """One collectivité as known from the reference data.

    ``population`` is the INSEE *population municipale* (for an EPCI, the sum of
    its member communes'). ``departement``/``region`` are codes (``"25"``,
    ``"27"``); for an EPCI spanning several départements, the one holding most of
    its population. ``epci_type`` is empty for a commune, else the source's code:
    ``CC`` (communauté de communes), ``CA`` (d'agglomération), ``CU`` (urbaine),
    ``METRO`` (métropole) or ``MET69`` (Métropole de Lyon). ``millesime`` is the
    year of the reference data it comes from.
    """

    code: str
    kind: Kind
    name: str
    departement: str
    region: str
    population: int
    epci_type: str
    millesime: int = CURRENT_MILLESIME


@dataclass(frozen=True, slots=True)
class DepartementRef:
    """A département (or overseas collectivity) with its region's code and name."""

    code: str
    name: str
    region: str
    region_name: str


def _read_text(name: str) -> str:
    raw = resources.files(__name__).joinpath(name).read_bytes()
    return (gzip.decompress(raw) if name.endswith(".gz") else raw).decode("utf-8")


def _parse_kind(value: str) -> Kind:
    if value == "commune":
        return "commune"
    if value == "epci":
        return "epci"
    raise ValueError(f"unknown collectivité kind in reference data: {value!r}")


def millesime_for(edition: int) -> int:
    """The millésime of the reference data in force at an edition's dossier deadline.

    The deadline falls in the year before the edition: the newest shipped millésime
    not after that year, or the oldest one for an edition older than every millésime.
    """
    earlier = [m for m in MILLESIMES if m <= edition - 1]
    return earlier[-1] if earlier else MILLESIMES[0]


@cache
def load_reference(millesime: int = CURRENT_MILLESIME) -> Mapping[str, CollectiviteRef]:
    """Return every collectivité of a millésime keyed by code (read-only view, loaded once).

    About 36,000 entries: the first call takes about 0.1 s, later calls are free.
    """
    if millesime not in SOURCES:
        raise ValueError(f"no reference data of millésime {millesime} (shipped: {MILLESIMES})")
    name = f"collectivites-{millesime}.csv.gz"
    reader = csv.reader(io.StringIO(_read_text(name)))
    header = next(reader)
    # Positional parsing is ~2x faster than DictReader; the header check keeps it safe
    # against a regenerated file whose columns moved.
    if tuple(header) != _COLLECTIVITES_HEADER:
        raise ValueError(f"unexpected header in {name}: {header}")
    table: dict[str, CollectiviteRef] = {}
    for code, kind, name, departement, region, population, epci_type in reader:
        table[code] = CollectiviteRef(
            code=code,
            kind=_parse_kind(kind),
            name=name,
            departement=departement,
            region=region,
            population=int(population),
            epci_type=epci_type,
            millesime=millesime,
        )
    # A read-only view: the cached table is shared by every caller in the process.
    return MappingProxyType(table)


@cache
def load_departements() -> Mapping[str, DepartementRef]:
    """Return départements (incl. overseas) keyed by code, with their region's name."""
    reader = csv.DictReader(io.StringIO(_read_text(_DEPARTEMENTS)))
    return MappingProxyType(
        {
            row["code"]: DepartementRef(
                code=row["code"],
                name=row["name"],
                region=row["region"],
                region_name=row["region_name"],
            )
            for row in reader
        }
    )


def lookup(code: str, millesime: int = CURRENT_MILLESIME) -> CollectiviteRef | None:
    """Find a collectivité by INSEE code (commune) or SIREN (EPCI); ``None`` if unknown.

    Surrounding blanks are ignored and Corsican codes are matched case-insensitively
    (``"2a004"`` → ``"2A004"``); no zero-padding is guessed (``"1001"`` stays unknown).
    """
    return load_reference(millesime).get(code.strip().upper())


def lookup_latest(code: str) -> CollectiviteRef | None:
    """The collectivité as the newest millésime that knows it: today's, or the last one
    before it merged or was dissolved (a 2016 EPCI may take part in the 2017 edition)."""
    for millesime in reversed(MILLESIMES):
        ref = lookup(code, millesime)
        if ref is not None:
            return ref
    return None


def lookup_for_edition(code: str, edition: int) -> CollectiviteRef | None:
    """The collectivité as the edition's millésime knows it (population and perimeter in
    force at its dossier deadline), else as the newest millésime that knows it."""
    return lookup(code, millesime_for(edition)) or lookup_latest(code)


def attribution(millesime: int = CURRENT_MILLESIME) -> str:
    """The credit of the reference data behind a palmarès that used `millesime`, in French.

    Départements and régions always come from the newest millésime.
    """
    if millesime == CURRENT_MILLESIME:
        return f"Collectivités, départements et régions\u00a0: {_CITATIONS[millesime]}. Licence Ouverte 2.0."
    return (
        f"Collectivités\u00a0: {_CITATIONS[millesime]}. Départements et régions\u00a0: "
        f"{_CITATIONS[CURRENT_MILLESIME]}. Licence Ouverte 2.0."
    )


def category_of(ref: CollectiviteRef, village_max_population: int = DEFAULT_VILLAGE_MAX_POPULATION) -> Category:
    """Palmarès category of a collectivité: ``village``, ``ville`` or ``territoire``.

    An EPCI is a ``territoire``; a commune below the threshold a ``village``, else a ``ville``.

    The threshold is exclusive: with the default 3,500, a commune of 3,499
    inhabitants is a village and one of 3,500 a ville.
    """
    if ref.kind == "epci":
        return "territoire"
    return "village" if ref.population < village_max_population else "ville"

"""The campaign's collectivités and their dossiers: deterministic, realistic, pure (no I/O).

- `campaign_members` takes every commune and EPCI of the reference data, or a
  deterministic sample of `n` that keeps the mix of categories (villages,
  villes, territoires) and, within each, the spread of population sizes.
- `make_dossier` writes one dossier the way a collectivité of that size
  would: a village declares 1 to 4 actions, a ville 3 to 10, a big city or a
  territoire 6 to 20; each action declares 1 to 3 services of the grille that
  apply to its category, with a French title and a description of a few
  sentences built from the grille's own wording (so that the mention
  detection has real text to read).
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from palmares_submission.refdata import DEFAULT_VILLAGE_MAX_POPULATION, Category, CollectiviteRef, category_of

T = TypeVar("T")

CATEGORIES: tuple[Category, ...] = ("village", "ville", "territoire")

# Actions started within these dates (the 2018 edition's deadline is 2017-11-30).
FIRST_START = date(2011, 1, 1)
LAST_START = date(2017, 11, 15)


@dataclass(frozen=True, slots=True)
class Member:
    """A collectivité taking part in the campaign."""

    code: str
    name: str
    kind: str
    category: Category
    population: int
    epci_type: str = ""


@dataclass(frozen=True, slots=True)
class Service:
    """A service of the grille, as a dossier declares it."""

    code: str
    label: str
    description: str


def member_of(ref: CollectiviteRef, village_max_population: int = DEFAULT_VILLAGE_MAX_POPULATION) -> Member:
    return Member(
        code=ref.code,
        name=ref.name,
        kind=ref.kind,
        category=category_of(ref, village_max_population),
        population=ref.population,
        epci_type=ref.epci_type,
    )


def allocate(counts: Mapping[str, int], n: int) -> dict[str, int]:
    """Split `n` over the keys in proportion to `counts` (largest remainder): the parts sum to `n`.

    A key with a count never gets more than its count; every key with a
    count gets at least one as long as `n` allows it.
    """
    total = sum(counts.values())
    if n >= total:
        return dict(counts)
    if n <= 0:
        return {key: 0 for key in counts}
    exact = {key: n * count / total for key, count in counts.items()}
    parts = {key: int(value) for key, value in exact.items()}
    order = sorted(counts, key=lambda key: (-(exact[key] - parts[key]), key))
    for key in order[: n - sum(parts.values())]:
        parts[key] += 1
    # A quick run still has every category: one taken from the largest part for each left out.
    for key in sorted((k for k in counts if counts[k] and not parts[k]), key=lambda k: -counts[k]):
        largest = max(parts, key=lambda k: parts[k])
        if parts[largest] <= 1:
            break
        parts[largest] -= 1
        parts[key] += 1
    return parts


def spread_pick(items: Sequence[T], k: int) -> list[T]:
    """`k` items evenly spaced over `items` (systematic sampling): keeps the shape of a sorted list."""
    if k >= len(items):
        return list(items)
    if k <= 0:
        return []
    step = len(items) / k
    return [items[int((i + 0.5) * step)] for i in range(k)]


def campaign_members(
    reference: Iterable[CollectiviteRef],
    n: int | None = None,
    *,
    seed: int = 2018,
    village_max_population: int = DEFAULT_VILLAGE_MAX_POPULATION,
) -> list[Member]:
    """Every collectivité (`n` None), or `n` of them with the category mix and size spread kept.

    Deterministic for a given reference and seed; returned in a shuffled (seeded)
    order, so that villages, villes and territoires arrive interleaved.
    """
    members = [member_of(ref, village_max_population) for ref in reference]
    by_category: dict[str, list[Member]] = {category: [] for category in CATEGORIES}
    for member in members:
        by_category[member.category].append(member)
    for group in by_category.values():
        group.sort(key=lambda m: (m.population, m.code))
    quotas = allocate({c: len(g) for c, g in by_category.items()}, len(members) if n is None else n)
    chosen = [m for category, group in by_category.items() for m in spread_pick(group, quotas[category])]
    chosen.sort(key=lambda m: m.code)
    random.Random(seed).shuffle(chosen)
    return chosen


def action_range(member: Member) -> tuple[int, int]:
    """How many actions a collectivité of this size declares (inclusive bounds)."""
    pop = member.population
    if member.category == "village":
        return (1, 2) if pop < 500 else (1, 3) if pop < 1500 else (2, 4)
    if member.category == "ville":
        return (3, 6) if pop < 20_000 else (4, 10) if pop < 100_000 else (6, 20)
    return (6, 10) if pop < 50_000 else (8, 15) if pop < 200_000 else (10, 20)


def services_by_category(grille: Mapping[str, Any]) -> dict[str, list[Service]]:
    """The grille's services that apply to each category (all of them when `applies_to` is absent)."""
    catalog: dict[str, list[Service]] = {category: [] for category in CATEGORIES}
    for raw in grille["services"]:
        service = Service(raw["code"], raw["label"], raw.get("description", ""))
        for category in raw.get("applies_to") or CATEGORIES:
            catalog[category].append(service)
    return catalog


def slug(name: str) -> str:
    """`Saint-Étienne-du-Bois` → `saint-etienne-du-bois` (for web addresses)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:50] or "collectivite"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


_MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)

_TITLES = (
    "{label}",
    "{label}",
    "{label} : nouvelle étape",
    "{label} à {name}",
    "Lancement : {lower}",
    "{label}, un an après",
)

_OPENERS = {
    "village": (
        "Depuis {month} {year}, la mairie de {name} propose ce service à ses {population} habitants.",
        "Le conseil municipal de {name} a voté ce projet en {month} {year}, avec l’appui de l’intercommunalité.",
        "Mis en place en {year} par la secrétaire de mairie et deux élus de {name}.",
    ),
    "ville": (
        "Depuis {month} {year}, la ville de {name} déploie ce service dans tous ses quartiers.",
        "Projet porté par la direction du numérique de {name}, lancé en {month} {year}.",
        "La ville de {name} ({population} habitants) a ouvert ce service en {year}.",
    ),
    "territoire": (
        "Depuis {month} {year}, {name} porte ce projet pour l’ensemble de ses communes membres.",
        "Service mutualisé par {name} en {year}, au bénéfice des mairies et des habitants du territoire.",
        "Lancé en {month} {year} par {name} avec les communes volontaires.",
    ),
}

_CLOSERS = (
    "Plus de {count} usagers s’en sont servis la première année.",
    "Un agent accompagne en mairie les personnes qui en ont besoin.",
    "Le bilan a été présenté en réunion publique et publié sur le site internet.",
    "Un questionnaire en ligne recueille l’avis des usagers pour l’améliorer.",
    "Le service est accessible aux personnes en situation de handicap.",
    "",
)

_NARRATIVES = {
    "village": (
        "Petite commune rurale, {name} mise sur le numérique pour garder ses services au plus près des habitants.",
        "À {name}, le numérique sert d’abord à simplifier la vie des habitants et des associations.",
    ),
    "ville": (
        "La ville de {name} inscrit le numérique dans son projet de mandat : des services simples, ouverts et accessibles à tous.",
        "{name} développe un numérique de proximité, pensé avec les habitants et les agents.",
    ),
    "territoire": (
        "{name} mutualise ses outils numériques pour que chaque commune membre, même la plus petite, en profite.",
        "Le projet de territoire de {name} fait du numérique un levier d’égalité entre ses communes.",
    ),
}


def _random_day(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, (last - first).days))


def make_action(rng: random.Random, member: Member, services: Sequence[Service]) -> dict[str, Any]:
    """One action declaring 1 to 3 of `services`, with a French title and description."""
    declared = rng.sample(list(services), min(len(services), rng.choices((1, 2, 3), weights=(6, 3, 1))[0]))
    main = declared[0]
    started = _random_day(rng, FIRST_START, LAST_START)
    words = {
        "name": member.name,
        "population": f"{member.population:,}".replace(",", "\u202f"),
        "month": _MONTHS[started.month - 1],
        "year": started.year,
        "label": main.label,
        "lower": _lower_first(main.label),
        "count": rng.choice((50, 120, 300, 800, 2000)) * (1 if member.category == "village" else 10),
    }
    sentences = [
        rng.choice(_OPENERS[member.category]).format(**words),
        main.description,
        *(s.description for s in declared[1:2]),
        rng.choice(_CLOSERS).format(**words),
    ]
    action: dict[str, Any] = {
        "title": rng.choice(_TITLES).format(**words)[:300],
        "description": " ".join(s for s in sentences if s),
        "services": [s.code for s in declared],
        "started_on": started.isoformat(),
    }
    if rng.random() < 0.3:
        action["url"] = f"https://www.{slug(member.name)}.fr/{slug(main.label)[:40]}"
    if rng.random() < 0.1:
        action["ended_on"] = (started + timedelta(days=rng.randint(180, 900))).isoformat()
    return action


def make_dossier(rng: random.Random, member: Member, catalog: Mapping[str, Sequence[Service]]) -> dict[str, Any]:
    """The body of `POST /v1/editions/{edition}/submissions` for `member`."""
    low, high = action_range(member)
    actions = [make_action(rng, member, catalog[member.category]) for _ in range(rng.randint(low, high))]
    return {"narrative": rng.choice(_NARRATIVES[member.category]).format(name=member.name), "actions": actions}

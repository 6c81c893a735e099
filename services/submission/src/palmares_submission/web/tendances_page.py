"""The comité's page of the tendances de la grille (espace jury): the report's figures as the page shows them (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from palmares_contracts import Grille
from palmares_label import french

from palmares_submission import charts, tendances
from palmares_submission.web.display import french_number, plural

MIN_DOSSIERS = 2
MAX_MIN_DOSSIERS = 1000
# The categories as the page counts them: « deux villages, une ville » (True: a feminine noun).
CATEGORY_WORDS = {"village": ("village", False), "ville": ("ville", True), "territoire": ("territoire", False)}


@dataclass(frozen=True, slots=True)
class Options:
    """The report's settings, from the page's URL (kept in its form)."""

    min_dossiers: int = MIN_DOSSIERS
    text_only: bool = False


@dataclass(frozen=True, slots=True)
class OptionError:
    field: str
    message: str


def options(params: Mapping[str, str]) -> tuple[Options, OptionError | None]:
    """The settings of the URL (`dossiers`, `mots`); a bad `dossiers` falls back to the default, with its error."""
    text_only = params.get("mots", "") in ("1", "on", "oui")
    raw = (params.get("dossiers") or "").strip()
    if not raw:
        return Options(text_only=text_only), None
    if raw.isdecimal() and len(raw) <= 4 and 1 <= int(raw) <= MAX_MIN_DOSSIERS:
        return Options(int(raw), text_only), None
    message = (
        f"Indiquez un nombre de dossiers entre 1 et {french_number(MAX_MIN_DOSSIERS)}, par exemple {MIN_DOSSIERS}."
    )
    return Options(text_only=text_only), OptionError("dossiers", message)


def categories_text(categories: Mapping[str, int]) -> str:
    """« deux villages, une ville », the most frequent first."""
    ordered = sorted(categories.items(), key=lambda kv: (-kv[1], kv[0]))
    words = ((n, *CATEGORY_WORDS.get(c, (c, False))) for c, n in ordered)
    return ", ".join(f"{french.in_words(n, feminine)} {plural(n, word)}" for n, word, feminine in words)


def undeclared_by_enjeu(grille: Grille, found: tendances.Tendances) -> list[tuple[str, list[tuple[str, str]]]]:
    """The services nobody declared, under their enjeu (the grille's order)."""
    undeclared = {code for code, _ in found.undeclared_services}
    return [
        (e.label, services)
        for e in grille.enjeux
        if (services := [(s.code, s.label) for s in grille.services if s.enjeu == e.code and s.code in undeclared])
    ]


def context(
    grille: Grille,
    found: tendances.Tendances,
    chosen: Options,
    error: OptionError | None = None,
    *,
    next_grille: Grille | None = None,
    citations: Mapping[tuple[str, ...], list[tuple[str, str]]] | None = None,
) -> dict[str, Any]:
    """What the template `jury/tendances.html.j2` shows; `citations`: the next grille's added services per theme."""
    cited = citations or {}
    return {
        "edition": found.edition,
        "grille_version": grille.version,
        "next_grille": next_grille,
        "cited": sum(1 for t in found.themes if cited.get(t.key)),
        "undeclared": undeclared_by_enjeu(grille, found),
        "found": found,
        "options": chosen,
        "error": error,
        "chart": charts.bars(
            [(french.sentence(t.label), t.dossiers) for t in found.themes], unit="dossiers", decimals=0
        ),
        "grouped": sum(len(t.actions) for t in found.themes),
        "themes": [
            (f"theme-{i}", t, french.sentence(t.label), categories_text(t.categories), cited.get(t.key, []))
            for i, t in enumerate(found.themes, 1)
        ],
    }

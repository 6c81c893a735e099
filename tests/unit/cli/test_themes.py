"""deploy/demo/themes.json: every theme of the demo campaign maps to service codes of grille-2017."""

from __future__ import annotations

import json
from pathlib import Path

from palmares_contracts import GrilleBody

REPO = Path(__file__).resolve().parents[3]
CAMPAIGN = REPO / "deploy" / "demo" / "campaign-2017.json"
THEMES = REPO / "deploy" / "demo" / "themes.json"
GRILLE = REPO / "deploy" / "grilles" / "grille-2017.json"


def _load(path: Path) -> dict:  # type: ignore[type-arg]
    with path.open(encoding="utf-8") as fh:
        data: dict = json.load(fh)  # type: ignore[type-arg]
    return data


def test_every_campaign_theme_maps_to_codes_of_grille_2017() -> None:
    grille = GrilleBody.model_validate(_load(GRILLE))
    codes = {s.code for s in grille.services}
    mapping: dict[str, list[str]] = _load(THEMES)["themes"]
    used = {
        theme
        for entry in _load(CAMPAIGN)["collectivites"]
        for action in entry["dossier"]["actions"]
        for theme in action["themes"]
    }
    unmapped = sorted(t for t in used if not mapping.get(t))
    assert not unmapped, f"themes without service codes: {unmapped}"
    unknown = {t: [c for c in mapping[t] if c not in codes] for t in used}
    assert not {t: c for t, c in unknown.items() if c}, "codes not in grille-2017.json"
    # Each used theme has at least one code that actually exists (the requirement), and nothing dangles.
    assert all(any(c in codes for c in mapping[t]) for t in used)
    assert sorted(set(mapping) - used) == [], "mapping entries no campaign action uses"


def test_mapping_has_no_duplicate_codes_per_theme() -> None:
    for theme, codes in _load(THEMES)["themes"].items():
        assert len(codes) == len(set(codes)), theme

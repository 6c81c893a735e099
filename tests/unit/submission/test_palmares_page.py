"""The palmarès as CSV and as a French page (rendering only; the browser test sees it served)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from palmares_submission import palmares
from palmares_submission.schemas import PalmaresEntry, PalmaresView


def view() -> PalmaresView:
    def entry(code: str, name: str, category: str, arobases: int, **kw: object) -> PalmaresEntry:
        fields: dict[str, object] = {"pre_notation": 2, "mentions": [], **kw}
        return PalmaresEntry(collectivite_code=code, name=name, category=category, arobases=arobases, **fields)

    return PalmaresView(
        edition=2022,
        published_at=datetime(2022, 2, 1, 18, tzinfo=UTC),
        ceremony={"place": "Lille", "date": "2022-02-01"},
        villages=[entry("22179", "Fréhel", "village", 3, mentions=["Réseaux sociaux"])],
        villes=[entry("49007", "Angers & <Co>", "ville", 5, distinctions=["Territoire d'excellence numérique"])],
        territoires=[],
    )


def test_html_page_in_french_with_everything_escaped() -> None:
    html = palmares.to_html(view())
    assert '<html lang="fr">' in html
    assert "<title>Palmarès 2022 — Territoires, Villes et Villages Internet</title>" in html
    assert "Villes labellisées en 2022" in html and "Villages labellisés en 2022" in html
    assert "Angers &amp; &lt;Co&gt;" in html and "<Co>" not in html
    assert "cérémonie à Lille, le 01/02/2022" in html
    assert 'aria-label="5 arobases sur 5"' in html
    assert "Territoire d&#39;excellence numérique" in html
    assert "Aucune collectivité dans cette catégorie." in html


def test_csv_has_one_row_per_collectivite() -> None:
    rows = list(csv.DictReader(io.StringIO(palmares.to_csv(view()))))
    assert [(r["code"], r["categorie"], r["arobases"], r["distinctions"]) for r in rows] == [
        ("22179", "village", "3", ""),
        ("49007", "ville", "5", "Territoire d'excellence numérique"),
    ]
    assert rows[0]["collectivite"] == "Fréhel" and rows[0]["mentions"] == "Réseaux sociaux"

"""The observatoire's figures on small fixed data whose answers are known by hand."""

from __future__ import annotations

import math

import pytest
from palmares_submission import charts, observatoire
from palmares_submission.observatoire import Cell, CellKey


def test_gini_and_theil_of_known_distributions() -> None:
    assert observatoire.gini([1, 1, 1, 1]) == 0.0
    assert observatoire.gini([0, 0, 1]) == pytest.approx(2 / 3, abs=1e-4)  # (n − 1) / n: one holds everything
    assert observatoire.gini([1, 2, 3]) == pytest.approx(2 / 9, abs=1e-4)  # Σ|xi − xj| / (2 n² mean) = 8 / 36
    assert observatoire.gini([]) == observatoire.gini([0, 0]) == 0.0
    assert observatoire.theil([2, 2]) == 0.0
    assert observatoire.theil([0, 0, 1]) == pytest.approx(math.log(3), abs=1e-4)  # ln n
    # [1, 3]: mean 2; (0.5 ln 0.5 + 1.5 ln 1.5) / 2
    assert observatoire.theil([1, 3]) == pytest.approx((0.5 * math.log(0.5) + 1.5 * math.log(1.5)) / 2, abs=1e-4)


# Two départements of two régions: Maine-et-Loire (49, Pays de la Loire, 52) and La Réunion (974, 04).
REFERENCE = {
    CellKey("49", "0-500", "commune"): Cell(collectivites=10, inhabitants=3_000),
    CellKey("49", "100000-", "commune"): Cell(collectivites=1, inhabitants=150_000),
    CellKey("49", "20000-50000", "CC"): Cell(collectivites=2, inhabitants=60_000),
    CellKey("974", "100000-", "commune"): Cell(collectivites=1, inhabitants=140_000),
}
OBSERVED = {
    # 3 villages took part, 2 labelled (2 and 4 @), living 700 inhabitants
    CellKey("49", "0-500", "commune"): Cell(participants=3, labelled=2, labelled_inhabitants=700, arobases_sum=6),
    # the CC took part, labelled 3 @
    CellKey("49", "20000-50000", "CC"): Cell(participants=1, labelled=1, labelled_inhabitants=30_000, arobases_sum=3),
    # Saint-Denis took part, not labelled
    CellKey("974", "100000-", "commune"): Cell(participants=1),
}


def test_breakdown_by_departement() -> None:
    rows, total = observatoire.breakdown("departement", REFERENCE, OBSERVED)
    by_key = {r.key: r for r in rows}
    maine = by_key["49"]
    assert maine.label == "Maine-et-Loire (49)"
    assert (maine.collectivites, maine.participants, maine.labelled) == (13, 4, 3)
    assert maine.participation_per_100 == pytest.approx(100 * 4 / 13, abs=1e-3)
    assert maine.labelled_per_100 == pytest.approx(100 * 3 / 13, abs=1e-3)
    # Inhabitants are the communes' (153 000); the labelled communes hold 700 of them.
    assert maine.inhabitants == 153_000 and maine.population_share == pytest.approx(700 / 153_000, abs=1e-4)
    assert maine.labelled_per_100k_inhabitants == pytest.approx(100_000 * 3 / 153_000, abs=1e-3)
    assert maine.mean_arobases == 3.0  # (2 + 4 + 3) / 3
    reunion = by_key["974"]
    assert (reunion.participants, reunion.labelled, reunion.mean_arobases, reunion.population_share) == (
        1,
        0,
        None,
        0.0,
    )
    assert (total.collectivites, total.participants, total.labelled, total.inhabitants) == (14, 5, 3, 293_000)


def test_breakdown_by_kind_territory_and_band() -> None:
    rows, _ = observatoire.breakdown("kind", REFERENCE, OBSERVED)
    cc = {r.key: r for r in rows}["CC"]
    # A row of EPCI only: its inhabitants are the EPCI's.
    assert (cc.label, cc.collectivites, cc.inhabitants, cc.population_share) == (
        "Communautés de communes",
        2,
        60_000,
        0.5,
    )
    rows, _ = observatoire.breakdown("territoire", REFERENCE, OBSERVED)
    assert [(r.key, r.participants) for r in rows] == [("metropole", 4), ("outre-mer", 1)]
    rows, _ = observatoire.breakdown("population", REFERENCE, OBSERVED)
    assert [r.key for r in rows] == ["0-500", "20000-50000", "100000-"]  # in the bands' order
    rows, _ = observatoire.breakdown("region", REFERENCE, OBSERVED)
    assert [r.label for r in rows] == ["La Réunion", "Pays de la Loire"]


def test_adoption_and_its_inequality_across_departements() -> None:
    participants = {"49": 4, "974": 1, "25": 0}
    adopters = {("49", "open_data"): 2, ("974", "open_data"): 1, ("49", "cantine"): 4}
    found = {
        a.code: a
        for a in observatoire.adoption(
            [("open_data", "Open data"), ("cantine", "Cantine"), ("rien", "Rien")], participants, adopters
        )
    }
    # open data: rates 0.5 (49) and 1.0 (974); the département without a participant says nothing
    assert (found["open_data"].adopters, found["open_data"].rate, found["open_data"].departements) == (3, 0.6, 2)
    assert found["open_data"].gini == pytest.approx(observatoire.gini([0.5, 1.0]))
    # cantine: rates 1.0 and 0.0: as unequal as two départements can be
    assert found["cantine"].gini == 0.5 and found["cantine"].lowest == ["974", "49"]
    assert found["rien"].adopters == 0 and found["rien"].gini == 0.0
    assert [a.code for a in observatoire.adoption([("open_data", ""), ("cantine", "")], participants, adopters)] == [
        "cantine",
        "open_data",
    ]


def test_bar_chart_geometry() -> None:
    chart = charts.bars([("A", 2.0), ("B", 1.0), ("C", 0.0)], unit="u")
    assert [b.width for b in chart.bars] == [charts.BAR_AREA, charts.BAR_AREA / 2, 0]
    assert [b.y for b in chart.bars] == [0, charts.ROW_HEIGHT, 2 * charts.ROW_HEIGHT]
    assert chart.bars[1].text == "1" and charts.bars([("x", 1.25)], unit="u").bars[0].text == "1,2"
    assert all(b.width == 0 for b in charts.bars([("x", 0.0)], unit="u").bars)


def test_bar_labels_fit_beside_the_bars_without_a_cut_word() -> None:
    assert charts.short_label("Déploiement du très haut débit (fibre optique, montée en débit)") == (
        "Déploiement du très haut débit"
    )
    assert charts.short_label("Réservation et paiement en ligne de la cantine et de l’accueil périscolaire") == (
        "Réservation et paiement en ligne…"
    )
    assert charts.short_label("Collecte des déchets : calendrier") == "Collecte des déchets\u00a0: calendrier"
    assert charts.short_label("A" * 60) == "A" * 44 + "…"
    bar = charts.bars([("Site (mobile)", 1.0)], unit="u").bars[0]
    assert (bar.label, bar.short) == ("Site (mobile)", "Site (mobile)")

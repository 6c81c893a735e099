"""Coverage of the essential services and of the enjeux, on small fixed data whose answers are known by hand."""

from __future__ import annotations

import math

import pytest
from palmares_submission import observatoire_coverage as oc
from palmares_submission.observatoire import CellKey

VILLAGES_49 = CellKey("49", "0-500", "commune")
ANGERS = CellKey("49", "100000-", "commune")
SAINT_DENIS = CellKey("974", "100000-", "commune")

COUNTS = oc.Counts(
    participants={(VILLAGES_49, "village"): 4, (ANGERS, "ville"): 1, (SAINT_DENIS, "ville"): 2},
    services={
        (VILLAGES_49, "village", "site"): 2,
        (ANGERS, "ville", "site"): 1,
        (VILLAGES_49, "village", "zones_blanches"): 1,
        (ANGERS, "ville", "zones_blanches"): 1,  # declared where it does not apply: not counted
    },
    enjeux={
        (VILLAGES_49, "village", "identite"): 3,
        (ANGERS, "ville", "identite"): 1,
        (SAINT_DENIS, "ville", "identite"): 1,
    },
)
ESSENTIELS = [
    oc.Item("site", "Site internet"),
    oc.Item("zones_blanches", "Zones blanches", frozenset({"village", "territoire"})),  # not a ville's business
]
ENJEUX = [oc.Item("identite", "Identité")]
DEPARTEMENTS = [("25", "Doubs (25)"), ("49", "Maine-et-Loire (49)"), ("974", "La Réunion (974)")]


def test_coverage_by_departement_counts_an_essential_only_where_it_applies() -> None:
    report = oc.coverage("departement", DEPARTEMENTS, COUNTS, ESSENTIELS, ENJEUX)
    doubs, maine, reunion = report.rows
    assert [r.key for r in report.rows] == ["25", "49", "974"]  # the breakdown's order, the empty group too
    assert (doubs.participants, doubs.essentiels_rate, doubs.essentiels[0].rate) == (0, None, None)
    # 49: site 3 of 5; zones blanches 1 of the 4 villages (Angers, a ville, does not count)
    assert [(c.covered, c.applicable, c.rate) for c in maine.essentiels] == [(3, 5, 0.6), (1, 4, 0.25)]
    assert (maine.essentiels_covered, maine.essentiels_applicable) == (4, 9)
    assert maine.essentiels_rate == pytest.approx(4 / 9, abs=1e-4)
    assert [(c.covered, c.applicable, c.rate) for c in maine.enjeux] == [(4, 5, 0.8)]
    # 974: two villes, no site; zones blanches applies to nobody there
    assert [(c.covered, c.applicable, c.rate) for c in reunion.essentiels] == [(0, 2, 0.0), (0, 0, None)]
    assert reunion.essentiels_rate == 0.0 and reunion.enjeux[0].rate == 0.5
    total = report.total
    assert (total.participants, total.essentiels_covered, total.essentiels_applicable) == (7, 4, 11)
    assert total.essentiels_rate == pytest.approx(4 / 11, abs=1e-4)


def test_least_available_essentials_first_with_where_they_are_lowest() -> None:
    report = oc.coverage("departement", DEPARTEMENTS, COUNTS, ESSENTIELS, ENJEUX)
    zones, site = report.essentiels
    assert (zones.code, zones.covered, zones.applicable, zones.rate) == ("zones_blanches", 1, 4, 0.25)
    assert (site.code, site.rate) == ("site", pytest.approx(3 / 7, abs=1e-4))
    assert [(p.key, p.rate, p.applicable) for p in site.lowest] == [("974", 0.0, 2), ("49", 0.6, 5)]
    assert [p.key for p in zones.lowest] == ["49"]  # 974 has no dossier it applies to
    # across départements: site 0.6 and 0.0, as unequal as two can be; zones blanches in one département only
    assert (site.gini, site.theil) == (0.5, pytest.approx(math.log(2), abs=1e-4))
    assert (zones.gini, zones.theil) == (0.0, 0.0)


def test_inequality_of_the_essentials_coverage_across_departements() -> None:
    inequality = oc.coverage("region", [], COUNTS, ESSENTIELS, ENJEUX).inequality
    # 49: 4 / 9; 974: 0: Gini (n − 1) / n = 0.5, Theil ln 2
    assert inequality.departements == 2
    assert inequality.gini == 0.5 and inequality.theil == pytest.approx(math.log(2), abs=1e-4)
    assert [p.key for p in inequality.lowest] == ["974", "49"] and inequality.highest[0].key == "49"
    assert inequality.highest[0].label == "Maine-et-Loire (49)"


def test_coverage_by_population_band_and_territory() -> None:
    report = oc.coverage(
        "population", [("0-500", "moins de 500"), ("100000-", "plus de 100 000")], COUNTS, ESSENTIELS, ENJEUX
    )
    small, large = report.rows
    assert [c.rate for c in small.essentiels] == [0.5, 0.25] and small.essentiels_rate == 0.375  # 3 of 8
    assert [c.rate for c in large.essentiels] == [pytest.approx(1 / 3, abs=1e-4), None]
    assert large.essentiels_rate == pytest.approx(1 / 3, abs=1e-4)
    territories = oc.coverage("territoire", [("metropole", ""), ("outre-mer", "")], COUNTS, ESSENTIELS, ENJEUX)
    assert [r.participants for r in territories.rows] == [5, 2]


def test_a_grille_without_essentials() -> None:
    report = oc.coverage("departement", DEPARTEMENTS, COUNTS, [], ENJEUX)
    assert report.essentiels == [] and report.total.essentiels_rate is None
    assert (report.inequality.departements, report.inequality.gini) == (0, 0.0)
    assert report.total.enjeux[0].covered == 5

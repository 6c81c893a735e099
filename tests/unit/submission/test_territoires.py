"""Population bands, kinds and outre-mer of the catalogue and the observatoire."""

from __future__ import annotations

import pytest
from palmares_submission import territoires


@pytest.mark.parametrize(
    ("population", "band"),
    [
        (0, "0-500"),
        (499, "0-500"),
        (500, "500-1500"),
        (1499, "500-1500"),
        (1500, "1500-3500"),
        (3500, "3500-10000"),
        (9999, "3500-10000"),
        (10_000, "10000-20000"),
        (20_000, "20000-50000"),
        (50_000, "50000-100000"),
        (99_999, "50000-100000"),
        (100_000, "100000-"),
        (2_000_000, "100000-"),
    ],
)
def test_bands_include_their_lower_bound(population: int, band: str) -> None:
    assert territoires.band_of(population).code == band


def test_band_labels_are_french() -> None:
    assert [b.label for b in territoires.BANDS][:2] == [
        "moins de 500\u00a0habitants",
        "500 à 1\u00a0500\u00a0habitants",
    ]
    assert territoires.band_label("100000-") == "plus de 100\u00a0000\u00a0habitants"


def test_kinds_and_outre_mer() -> None:
    assert territoires.kind_of("commune", "") == "commune"
    assert territoires.kind_of("epci", "METRO") == territoires.kind_of("epci", "MET69") == "metropole"
    assert territoires.kind_of("epci", "CA") == "CA"
    assert [territoires.territory_of(d) for d in ("974", "976", "2A", "75", "988")] == [
        "outre-mer",
        "outre-mer",
        "metropole",
        "metropole",
        "outre-mer",
    ]

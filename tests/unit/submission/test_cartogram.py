"""The tile-grid map of France: every département once, no two in one cell, a colour scale known by hand."""

from __future__ import annotations

from palmares_submission import cartogram, refdata


def test_every_departement_has_exactly_one_tile_and_no_two_share_a_cell() -> None:
    layout = cartogram.layout()
    assert set(layout) == set(refdata.load_departements())  # the 109 of the reference data, overseas included
    assert len(set(layout.values())) == len(layout)
    assert len(refdata.load_departements()) == 109


def test_overseas_sit_in_their_own_row_below_a_gap() -> None:
    layout = cartogram.layout()
    metropole_rows = {row for code, (_, row) in layout.items() if not code.startswith(("97", "98"))}
    assert max(metropole_rows) < cartogram.OUTRE_MER_ROW - 1
    assert {layout[c][1] for c in cartogram.OUTRE_MER} == {cartogram.OUTRE_MER_ROW}


def test_the_grid_resembles_france() -> None:
    at = cartogram.layout()
    assert at["59"][1] == 0 and at["29"][0] == 0  # the Nord on top, the Finistère on the left
    assert at["67"][0] > at["75"][0] > at["29"][0]  # Strasbourg east of Paris, east of Brest
    assert at["13"][1] > at["69"][1] > at["75"][1]  # Marseille south of Lyon, south of Paris
    assert {at["2A"][0], at["2B"][0]} == {max(c for c, _ in at.values())}  # Corsica at the far east


def test_colour_bins_of_equal_width_from_zero() -> None:
    scale = cartogram.bins([0.0, 1.0, 2.5, 10.0])
    assert [(b.low, b.high) for b in scale] == [(0, 2), (2, 4), (4, 6), (6, 8), (8, 10)]
    assert scale[0].label == "de 0 à 2" and scale[1].label == "plus de 2 à 4"
    assert [cartogram.bin_of(v, scale) for v in (0.0, 2.0, 2.01, 7.9, 10.0)] == [0, 0, 1, 3, 4]
    assert [b.colour for b in scale] == list(cartogram.COLOURS)
    nothing = cartogram.bins([0.0, 0.0])
    assert len(nothing) == 1 and cartogram.bin_of(0.0, nothing) == 0
    assert cartogram.bins([0.5], n=2, unit="%")[1].label == "plus de 0,25 à 0,5\u202f%"
    assert cartogram.bins([0.0], unit="pour 100")[0].label == "0\u00a0pour 100"


def test_tile_map_of_values() -> None:
    names = {code: d.name for code, d in refdata.load_departements().items()}
    found = cartogram.tile_map({"49": 10.0, "974": 0.0, "75": 4.0}, names, unit="%")
    tiles = {t.code: t for t in found.tiles}
    assert len(tiles) == 109
    assert (tiles["49"].colour, tiles["49"].ink, tiles["49"].text) == ("#08306b", "#ffffff", "10\u202f%")
    assert tiles["974"].colour == cartogram.COLOURS[0] and tiles["75"].colour == cartogram.COLOURS[1]
    assert (tiles["01"].value, tiles["01"].colour, tiles["01"].text) == (None, "#ffffff", "pas de participante")
    assert tiles["29"].x == 0 and tiles["974"].y == cartogram.OUTRE_MER_ROW * cartogram.TILE
    assert tiles["986"].name == "Wallis-et-Futuna"  # as French writes it (the package: « Wallis et Futuna »)

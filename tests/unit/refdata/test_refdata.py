"""Reference data of collectivités: shipped file, loader, categories, build script."""

from __future__ import annotations

import dataclasses
import gzip
import importlib.util
import re
import sys
import time
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest
from palmares_submission import refdata
from palmares_submission.refdata import (
    CollectiviteRef,
    category_of,
    load_departements,
    load_reference,
    lookup,
)

REPO = Path(__file__).resolve().parents[3]
BUILD_SCRIPT = REPO / "services" / "submission" / "scripts" / "build_refdata.py"

# Exact figures of @etalab/decoupage-administratif@6.0.0 (millésime 2026): the file
# is pinned, so any change here means the data was regenerated on purpose.
EXPECTED_COMMUNES = 34_963  # 34,969 'commune-actuelle' minus 6 without legal population
EXPECTED_EPCI = 1_255
INSEE_CODE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
SIREN = re.compile(r"^\d{9}$")


def _ref(population: int, kind: str = "commune") -> CollectiviteRef:
    return CollectiviteRef(
        code="99999",
        kind=kind,  # type: ignore[arg-type]
        name="Test",
        departement="01",
        region="84",
        population=population,
        epci_type="" if kind == "commune" else "CC",
    )


def test_counts_match_the_pinned_millesime() -> None:
    kinds = Counter(ref.kind for ref in load_reference().values())
    assert kinds == {"commune": EXPECTED_COMMUNES, "epci": EXPECTED_EPCI}


def test_codes_have_the_right_shape_and_match_their_keys() -> None:
    for code, ref in load_reference().items():
        assert code == ref.code
        pattern = INSEE_CODE if ref.kind == "commune" else SIREN
        assert pattern.match(code), ref


def test_epci_types_and_populations() -> None:
    epcis = [ref for ref in load_reference().values() if ref.kind == "epci"]
    assert Counter(ref.epci_type for ref in epcis) == {
        "CC": 989,
        "CA": 230,
        "METRO": 21,
        "CU": 14,
        "MET69": 1,
    }
    assert all(ref.population > 0 for ref in epcis)
    assert all(ref.epci_type == "" for ref in load_reference().values() if ref.kind == "commune")


@pytest.mark.parametrize(
    ("code", "name", "departement", "region", "low", "high"),
    [
        ("25056", "Besançon", "25", "27", 110_000, 130_000),
        ("49007", "Angers", "49", "52", 150_000, 170_000),
        # Commune nouvelle (with Le Fossé); the 2017 article said "3500 habitants".
        ("76276", "Forges-les-Eaux", "76", "28", 3_600, 3_700),
        ("55073", "Bras-sur-Meuse", "55", "44", 500, 800),
        ("2A004", "Ajaccio", "2A", "94", 60_000, 90_000),
    ],
)
def test_known_communes(code: str, name: str, departement: str, region: str, low: int, high: int) -> None:
    ref = lookup(code)
    assert ref is not None
    assert (ref.kind, ref.name, ref.departement, ref.region) == (
        "commune",
        name,
        departement,
        region,
    )
    assert low <= ref.population <= high


def test_known_epci() -> None:
    parthenay = lookup("200041333")
    assert parthenay is not None
    assert (parthenay.kind, parthenay.name, parthenay.epci_type) == (
        "epci",
        "CC de Parthenay-Gâtine",
        "CC",
    )
    assert parthenay.departement == "79"
    # Spans six départements; attributed to the one holding most of its population.
    grand_paris = lookup("200054781")
    assert grand_paris is not None and grand_paris.departement == "75"
    assert grand_paris.epci_type == "METRO"


def test_lookup_normalises_and_rejects_unknown_codes() -> None:
    assert lookup(" 25056 ") == lookup("25056")
    assert lookup("2a004") == lookup("2A004")
    for unknown in ("00000", "1001", "", "999999999", "76277"):  # 76277: Le Fossé, now délégée
        assert lookup(unknown) is None


def test_reference_is_read_only_and_cached() -> None:
    table = load_reference()
    assert load_reference() is table
    with pytest.raises(TypeError):
        table["X"] = table["25056"]  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        table["25056"].population = 0  # type: ignore[misc]


def test_first_load_is_fast() -> None:
    load_reference.cache_clear()
    try:
        start = time.perf_counter()
        table = load_reference()
        elapsed = time.perf_counter() - start
    finally:
        load_reference.cache_clear()
    assert len(table) == EXPECTED_COMMUNES + EXPECTED_EPCI
    assert elapsed < 1.0, f"load_reference took {elapsed:.3f}s"  # ~0.1 s measured


def test_departements_cover_every_collectivite() -> None:
    deps = load_departements()
    assert deps["25"].name == "Doubs"
    assert deps["971"].region_name == "Guadeloupe"
    for ref in load_reference().values():
        assert deps[ref.departement].region == ref.region, ref


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("25056", "ville"),  # Besançon
        ("55073", "village"),  # Bras-sur-Meuse
        ("76276", "ville"),  # Forges-les-Eaux: 3,642 ≥ 3,500 (a "village" in the 2017 article)
        ("200041333", "territoire"),  # CC de Parthenay-Gâtine
        ("200054781", "territoire"),  # Métropole du Grand Paris
    ],
)
def test_category_of_known(code: str, expected: str) -> None:
    ref = lookup(code)
    assert ref is not None
    assert category_of(ref) == expected


def test_category_threshold_is_exclusive_and_configurable() -> None:
    assert refdata.DEFAULT_VILLAGE_MAX_POPULATION == 3500
    assert category_of(_ref(3_499)) == "village"
    assert category_of(_ref(3_500)) == "ville"
    assert category_of(_ref(0)) == "village"
    assert category_of(_ref(3_500), village_max_population=4_000) == "village"
    assert category_of(_ref(100, kind="epci")) == "territoire"


# ----------------------------------------------------------------- build script


def _load_build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_refdata", BUILD_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # @dataclass resolves annotations through sys.modules[cls.__module__].
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_build_rows_filters_and_attributes_departements() -> None:
    build = _load_build_script()
    communes = [
        {
            "code": "01002",
            "nom": "B",
            "type": "commune-actuelle",
            "departement": "01",
            "region": "84",
            "population": 50,
        },
        {
            "code": "01001",
            "nom": "A",
            "type": "commune-actuelle",
            "departement": "01",
            "region": "84",
            "population": 10,
        },
        {
            "code": "71001",
            "nom": "C",
            "type": "commune-actuelle",
            "departement": "71",
            "region": "27",
            "population": 90,
        },
        {
            "code": "01003",
            "nom": "D",
            "type": "commune-deleguee",
            "departement": "01",
            "region": "84",
        },
        {
            "code": "98412",
            "nom": "Kerguelen",
            "type": "commune-actuelle",
            "departement": "984",
            "region": "984",
        },
    ]
    epcis = [
        {
            "code": "200000001",
            "nom": "CC Test",
            "type": "CC",
            "populationMunicipale": 150,
            "membres": [
                {"code": "01001", "populationMunicipale": 10},
                {"code": "01002", "populationMunicipale": 50},
                {"code": "71001", "populationMunicipale": 90},
            ],
        },
        {  # no total given: summed from members
            "code": "200000002",
            "nom": "CA Test",
            "type": "CA",
            "membres": [{"code": "01001", "populationMunicipale": 10}],
        },
    ]
    departements = [{"code": "01", "region": "84"}, {"code": "71", "region": "27"}]
    rows = build.build_rows(communes, epcis, departements)
    assert [r.code for r in rows] == ["01001", "01002", "71001", "200000001", "200000002"]
    cc = rows[3]
    assert (cc.kind, cc.departement, cc.region, cc.population, cc.epci_type) == (
        "epci",
        "71",
        "27",
        150,
        "CC",
    )
    assert (rows[4].population, rows[4].departement) == (10, "01")


def test_gzip_output_is_deterministic() -> None:
    build = _load_build_script()
    payload = build._gzip_deterministic(b"code,kind\n")
    assert payload == build._gzip_deterministic(b"code,kind\n")
    # RFC 1952 header: byte 3 = flags (FNAME is 0x08), bytes 4-7 = mtime.
    assert payload[3] & 0x08 == 0
    assert payload[4:8] == b"\x00\x00\x00\x00"
    assert gzip.decompress(payload) == b"code,kind\n"


def test_shipped_gzip_carries_no_date_or_name() -> None:
    shipped = Path(refdata.__file__).with_name("collectivites.csv.gz").read_bytes()
    assert shipped[3] & 0x08 == 0 and shipped[4:8] == b"\x00\x00\x00\x00"


def test_shipped_file_has_the_build_scripts_header() -> None:
    build = _load_build_script()
    shipped = Path(refdata.__file__).with_name("collectivites.csv.gz").read_bytes()
    assert gzip.decompress(shipped).split(b"\n", 1)[0].decode() == ",".join(build.COLLECTIVITES_HEADER)

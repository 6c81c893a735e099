"""Reference data of collectivités: shipped file, loader, categories, build script."""

from __future__ import annotations

import dataclasses
import gzip
import importlib.util
import re
import sys
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
    lookup_for_edition,
    lookup_latest,
    millesime_for,
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


def test_first_load_reads_every_collectivite() -> None:
    # How long the load takes is a benchmark's business (timed unit tests fail on a loaded machine).
    load_reference.cache_clear()
    try:
        table = load_reference()
    finally:
        load_reference.cache_clear()
    assert len(table) == EXPECTED_COMMUNES + EXPECTED_EPCI


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
    shipped = Path(refdata.__file__).with_name("collectivites-2026.csv.gz").read_bytes()
    assert shipped[3] & 0x08 == 0 and shipped[4:8] == b"\x00\x00\x00\x00"


def test_shipped_file_has_the_build_scripts_header() -> None:
    build = _load_build_script()
    shipped = Path(refdata.__file__).with_name("collectivites-2026.csv.gz").read_bytes()
    assert gzip.decompress(shipped).split(b"\n", 1)[0].decode() == ",".join(build.COLLECTIVITES_HEADER)


# ------------------------------------------------------------- millésime 2016 (edition 2017)

# Exact figures of the 2016 millésime: INSEE's populations légales 2013 (communes at
# 1 January 2015, Mayotte not included) and DGCL's EPCI at 1 January 2016.
EXPECTED_COMMUNES_2016 = 36_641
EXPECTED_EPCI_2016 = 2_063


def test_millesimes_shipped_and_chosen_by_edition() -> None:
    assert refdata.MILLESIMES == (2016, 2026)
    assert refdata.CURRENT_MILLESIME == 2026
    # The deadline of edition E falls in E − 1: the millésime in force then.
    assert millesime_for(2017) == 2016
    assert millesime_for(2018) == 2016
    assert millesime_for(2026) == 2016
    assert millesime_for(2027) == 2026
    assert millesime_for(2010) == 2016  # older than every millésime: the oldest
    with pytest.raises(ValueError, match="millésime 2015"):
        load_reference(2015)


def test_counts_of_the_2016_millesime() -> None:
    table = load_reference(2016)
    assert Counter(ref.kind for ref in table.values()) == {
        "commune": EXPECTED_COMMUNES_2016,
        "epci": EXPECTED_EPCI_2016,
    }
    assert {ref.millesime for ref in table.values()} == {2016}
    deps = load_departements()
    for code, ref in table.items():
        assert code == ref.code
        assert (INSEE_CODE if ref.kind == "commune" else SIREN).match(code), ref
        assert deps[ref.departement].region == ref.region, ref


def test_forges_les_eaux_is_a_village_in_2017() -> None:
    # Populations légales 2013, in force at the 2017 edition's deadline: 3,492 (the article:
    # « 3500 habitants »); Le Fossé (497) merged into it on 1 January 2016 and is listed apart.
    forges = lookup_for_edition("76276", 2017)
    assert forges is not None
    assert (forges.name, forges.population, forges.millesime) == ("Forges-les-Eaux", 3_492, 2016)
    assert category_of(forges) == "village"
    le_fosse = lookup("76277", 2016)
    assert le_fosse is not None and le_fosse.population == 497
    # Today's: the commune nouvelle, a ville.
    today = lookup_for_edition("76276", 2027)
    assert today is not None and (today.millesime, category_of(today)) == (2026, "ville")


def test_epci_perimeters_of_2016() -> None:
    # The CC du Grand Autunois Morvan of 2016 (43 communes) is not the one created by the
    # 1 January 2017 merger (200070530, 55 communes).
    autunois = lookup("200040285", 2016)
    assert autunois is not None
    assert (autunois.kind, autunois.name, autunois.population, autunois.departement) == (
        "epci",
        "CC du Grand Autunois Morvan",
        31_179,
        "71",
    )
    assert lookup("200040285") is None
    assert lookup("200070530", 2016) is None
    parthenay = lookup_for_edition("200041333", 2017)
    assert parthenay is not None and (parthenay.population, parthenay.millesime) == (37_715, 2016)


def test_lookup_latest_and_the_fallback_of_an_edition() -> None:
    # Known today: today's row.
    besancon = lookup_latest("25056")
    assert besancon is not None and besancon.millesime == 2026
    # Gone since (merged or dissolved): the last millésime that knows it.
    autunois_2016 = lookup_latest("200040285")
    assert autunois_2016 is not None and autunois_2016.millesime == 2016
    # Unknown to the edition's millésime (created later): the newest that knows it.
    autunois_2017 = lookup_for_edition("200070530", 2017)
    assert autunois_2017 is not None and autunois_2017.millesime == 2026
    assert lookup_latest("00000") is None
    assert lookup_for_edition("00000", 2017) is None


def test_build_rows_2016() -> None:
    build = _load_build_script()
    populations = [
        {"DEPCOM": "07071", "LIBMIN": "Coucouron", "PMUN13": "800"},
        {"DEPCOM": "07105", "LIBMIN": "Issanlas", "PMUN13": "100"},
        {"DEPCOM": "43001", "LIBMIN": "Aiguilhe", "PMUN13": "1500"},
        {"DEPCOM": "97101", "LIBMIN": "Les Abymes", "PMUN13": "57960"},
    ]
    members = [
        # The DGCL file drops the leading zero of départements 01–09.
        {"siren": "200000594", "nom": "CC Test", "nature": "CC", "pmun": "2400", "insee": "7071", "pmun_com": "800"},
        {"siren": "200000594", "nom": "CC Test", "nature": "CC", "pmun": "2400", "insee": "7105", "pmun_com": "100"},
        {"siren": "200000594", "nom": "CC Test", "nature": "CC", "pmun": "2400", "insee": "43001", "pmun_com": "1500"},
    ]
    rows = build.build_rows_2016(populations, members, {"07": "84", "43": "84", "971": "01"})
    assert [(r.code, r.departement, r.population) for r in rows] == [
        ("07071", "07", 800),
        ("07105", "07", 100),
        ("43001", "43", 1500),
        ("97101", "971", 57960),
        ("200000594", "43", 2400),  # 43 holds 1,500 of 2,400
    ]
    assert rows[-1].epci_type == "CC" and rows[-1].kind == "epci"


def test_build_departements_writes_names_as_french_typography_does() -> None:
    build = _load_build_script()
    rows = build.build_departements(
        [
            {"code": "986", "nom": "Wallis et Futuna", "region": "986"},
            {"code": "49", "nom": "Maine-et-Loire", "region": "52"},
        ],
        [{"code": "986", "nom": "Wallis et Futuna"}, {"code": "52", "nom": "Pays de la Loire"}],
    )
    assert rows == [
        ("49", "Maine-et-Loire", "52", "Pays de la Loire"),
        ("986", "Wallis-et-Futuna", "986", "Wallis-et-Futuna"),
    ]
    assert load_departements()["986"].name == "Wallis-et-Futuna"  # the shipped table

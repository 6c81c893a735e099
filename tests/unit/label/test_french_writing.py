"""How the label writes French: names with elision and contraction, EPCI names, numbers, dates."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from palmares_label import french
from palmares_label.french import NBSP, NNBSP


@pytest.mark.parametrize(
    ("name", "de", "a"),
    [
        ("Le Mans", "du Mans", "au Mans"),
        ("Le Havre", "du Havre", "au Havre"),
        ("Les Abymes", "des Abymes", "aux Abymes"),
        ("Agen", "d’Agen", "à Agen"),
        ("Épernay", "d’Épernay", "à Épernay"),
        ("Ivry-sur-Seine", "d’Ivry-sur-Seine", "à Ivry-sur-Seine"),
        ("Œting", "d’Œting", "à Œting"),
        ("Yvetot", "d’Yvetot", "à Yvetot"),
        ("Hyères", "d’Hyères", "à Hyères"),
        ("Haguenau", "de Haguenau", "à Haguenau"),
        ("Hautmont", "de Hautmont", "à Hautmont"),
        ("Besançon", "de Besançon", "à Besançon"),
        # A place name's La and L’ keep their capital and do not contract.
        ("La Rochelle", "de La Rochelle", "à La Rochelle"),
        ("L'Haÿ-les-Roses", "de L’Haÿ-les-Roses", "à L’Haÿ-les-Roses"),
        ("Saint-Germain-en-Laye", "de Saint-Germain-en-Laye", "à Saint-Germain-en-Laye"),
        ("Lesparre-Médoc", "de Lesparre-Médoc", "à Lesparre-Médoc"),  # "Les" only as a whole word
        ("Lamballe-Armor", "de Lamballe-Armor", "à Lamballe-Armor"),
    ],
)
def test_place_names_elide_and_contract(name: str, de: str, a: str) -> None:
    designation = french.place(name)
    assert designation.de == de
    assert designation.a == a
    assert "de Le " not in designation.de and "à Le " not in designation.a


def test_place_names_keep_their_spelling_with_a_typographic_apostrophe() -> None:
    assert french.place("Le Mans").bare == "Le Mans"
    assert french.place("L'Abergement-Clémenciat").bare == "L’Abergement-Clémenciat"


def test_a_common_name_has_its_article_in_lower_case() -> None:
    assert french.common("La Riviéra du Levant").de == "de la Riviéra du Levant"
    assert french.common("Le Grand Dole").de == "du Grand Dole"


@pytest.mark.parametrize(
    ("name", "epci_type", "full"),
    [
        ("CC de Parthenay-Gâtine", "CC", "la communauté de communes de Parthenay-Gâtine"),
        ("CC du Grand Autunois Morvan", "CC", "la communauté de communes du Grand Autunois Morvan"),
        ("CA La Riviéra du Levant", "CA", "la communauté d’agglomération de la Riviéra du Levant"),
        ("CU d'Arras", "CU", "la communauté urbaine d’Arras"),
        ("CU Le Creusot Montceau-les-Mines", "CU", "la communauté urbaine du Creusot Montceau-les-Mines"),
        ("CU Le Mans Métropole", "CU", "la communauté urbaine Le Mans Métropole"),
        ("CA Caux Seine Agglo", "CA", "la communauté d’agglomération Caux Seine Agglo"),
        ("CC Faucigny - Glières", "CC", "la communauté de communes Faucigny - Glières"),
        ("CA Agglomération d'Agen", "CA", "l’Agglomération d’Agen"),
        ("Métropole de Lyon", "MET69", "la Métropole de Lyon"),
        ("Eurométropole de Strasbourg", "METRO", "l’Eurométropole de Strasbourg"),
        ("Dijon Métropole", "METRO", "Dijon Métropole"),
        # The DGCL's names of 2016: a quoted brand, sometimes with a lower-case initial.
        ('CA "la Riviéra du Levant"', "CA", "la communauté d’agglomération de la Riviéra du Levant"),
        ('CA "terre de Provence"', "CA", "la communauté d’agglomération Terre de Provence"),
        ("CC les Châteaux", "CC", "la communauté de communes des Châteaux"),
        # Without the type (an event of an older producer), the abbreviation tells it.
        ("CC de Parthenay-Gâtine", None, "la communauté de communes de Parthenay-Gâtine"),
    ],
)
def test_epci_full_official_name(name: str, epci_type: str | None, full: str) -> None:
    assert french.epci(name, epci_type).bare == full


def test_epci_names_in_sentences() -> None:
    parthenay = french.collectivite("CC de Parthenay-Gâtine", "epci", "CC")
    assert parthenay.de == "de la communauté de communes de Parthenay-Gâtine"
    assert parthenay.a == "à la communauté de communes de Parthenay-Gâtine"
    assert parthenay.start == "La communauté de communes de Parthenay-Gâtine"
    assert parthenay.entry == "Communauté de communes de Parthenay-Gâtine"
    assert french.collectivite("CA Agglomération d'Agen", "epci", "CA").entry == "Agglomération d’Agen"
    assert french.collectivite("Le Mans", "commune").entry == "Le Mans"
    assert french.collectivite("Eurométropole de Strasbourg", "epci", "METRO").de == "de l’Eurométropole de Strasbourg"
    assert french.collectivite("Dijon Métropole", "epci", "METRO").de == "de Dijon Métropole"


def test_described_by_category() -> None:
    assert french.described("Le Mans", "commune", "ville").bare == "la ville du Mans"
    assert french.described("Fréhel", "commune", "village").bare == "le village de Fréhel"
    assert french.described("Agen", "commune", "ville").de == "de la ville d’Agen"
    assert french.described("Ars-sur-Formans", "commune", "village").de == "du village d’Ars-sur-Formans"
    epci = french.described("CC de Parthenay-Gâtine", "epci", "territoire", "CC")
    assert epci.bare == "la communauté de communes de Parthenay-Gâtine"


def test_salutation_by_kind() -> None:
    assert french.salutation("commune") == "Madame, Monsieur le Maire,"
    assert french.salutation("epci") == "Madame, Monsieur le Président,"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.2, "1,2"),
        (18.75, "18,75"),
        (12.0, "12"),
        (0, "0"),
        (3500, f"3{NNBSP}500"),
        (36926, f"36{NNBSP}926"),
        (1234567.5, f"1{NNBSP}234{NNBSP}567,5"),
        (-2.5, "-2,5"),
    ],
)
def test_numbers(value: float, text: str) -> None:
    assert french.number(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.2, f"1,2{NBSP}point"),
        (1, f"1{NBSP}point"),
        (0, f"0{NBSP}point"),
        (1.99, f"1,99{NBSP}point"),
        (2, f"2{NBSP}points"),
        (18.8, f"18,8{NBSP}points"),
    ],
)
def test_plurals_begin_at_two(value: float, text: str) -> None:
    assert french.count(value, "point") == text
    assert "(s)" not in french.count(value, "point")


def test_small_counts_in_letters() -> None:
    assert french.arobases(1) == "une arobase"
    assert french.arobases(5) == "cinq arobases"
    assert french.count_in_words(1, "point") == "un point"
    assert french.count_in_words(0, "mention") == "zéro mention"
    assert french.count_in_words(12, "action") == "12 actions"


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_a_count_is_singular_below_two_and_plural_from_two(value: float) -> None:
    noun = french.count(value, "arobase").split(NBSP)[1]
    assert noun == ("arobases" if round(value, 2) >= 2 else "arobase")


def test_dates_and_times_in_paris() -> None:
    assert french.long_date("2017-02-01") == "1er février 2017"
    assert french.long_date(date(2018, 12, 25)) == "25 décembre 2018"
    # 13:03 UTC is 14:03 in Paris in winter, 15:03 in summer.
    assert french.date_at_time(datetime(2017, 2, 1, 13, 3, tzinfo=UTC)) == f"1er février 2017 à 14{NBSP}h{NBSP}03"
    assert french.time_of_day(datetime(2017, 7, 14, 13, 3, tzinfo=UTC)) == f"15{NBSP}h{NBSP}03"
    # Late on 31 December in UTC is already the new year in Paris.
    assert french.long_date(datetime(2016, 12, 31, 23, 30, tzinfo=UTC)) == "1er janvier 2017"
    with pytest.raises(ValueError, match="time zone"):
        french.date_at_time(datetime(2017, 2, 1, 13, 3))


def test_typeset_a_sentence() -> None:
    assert french.typeset("La campagne n'est pas ouverte : aucune grille ; « Bearer » manquant !") == (
        f"La campagne n’est pas ouverte{NBSP}: aucune grille{NNBSP}; «{NBSP}Bearer{NBSP}» manquant{NNBSP}!"
    )
    assert french.typeset("à 14:03, voir https://example.org/a?b") == "à 14:03, voir https://example.org/a?b"


def test_typography() -> None:
    assert french.quoted("Ouverture des données") == f"«{NBSP}Ouverture des données{NBSP}»"
    assert french.typographic("L'équipe d'Agen") == "L’équipe d’Agen"
    assert french.sentence("la communauté") == "La communauté"

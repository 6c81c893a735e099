"""The palmarès as a French page and as files (rendering only; the browser test sees it served)."""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import replace
from datetime import UTC, datetime
from uuid import uuid4

import openpyxl
import pytest
from odf import teletype
from odf.opendocument import load as load_ods
from odf.table import Table, TableCell, TableRow
from palmares_submission import collation, palmares, palmares_exports, refdata, store
from palmares_submission.schemas import PalmaresEntry, PalmaresView


def entry(code: str, name: str, category: str, arobases: int, **kw: object) -> PalmaresEntry:
    fields: dict[str, object] = {
        "pre_notation": 2,
        "mentions": [],
        "departement": "22",
        "departement_name": "Côtes-d’Armor",
        "region": "Bretagne",
        **kw,
    }
    return PalmaresEntry(collectivite_code=code, name=name, category=category, arobases=arobases, **fields)


def view() -> PalmaresView:
    return PalmaresView(
        edition=2022,
        published_at=datetime(2022, 2, 1, 18, tzinfo=UTC),
        ceremony={"place": "Le Mans", "date": "2022-02-01"},
        villages=[entry("22179", "Fréhel", "village", 3, mentions=["Réseaux sociaux"])],
        villes=[
            entry(
                "49007",
                "Angers & <Co>",
                "ville",
                5,
                distinctions=["Territoire d’excellence numérique"],
                departement="49",
                departement_name="Maine-et-Loire",
                region="Pays de la Loire",
            ),
            entry("51230", '=HYPERLINK("http://evil.example")', "ville", 4),
        ],
        territoires=[],
        attribution=refdata.attribution(),
    )


def test_html_page_in_french_with_everything_escaped() -> None:
    html = palmares.to_html(view())
    assert '<html lang="fr">' in html
    assert "<title>Palmarès 2022 — Territoires, Villes et Villages Internet</title>" in html
    assert "Villes labellisées en 2022" in html and "Villages labellisés en 2022" in html
    assert "Angers &amp; &lt;Co&gt;" in html and "<Co>" not in html
    assert "Publié le 1er février 2022 — cérémonie le 1er février 2022 au Mans." in html
    assert "01/02/2022" not in html
    assert 'aria-label="5 arobases sur 5"' in html
    assert "Territoire d’excellence numérique" in html
    assert "Aucune collectivité dans cette catégorie." in html
    assert "<td>Maine-et-Loire (49)</td>" in html and "<td>Pays de la Loire</td>" in html


def test_the_page_links_to_every_export_and_credits_the_reference_data() -> None:
    html = palmares.to_html(view())
    for fmt in ("csv", "xlsx", "ods"):
        assert f'href="/v1/editions/2022/palmares?format={fmt}"' in html
    assert "Découpage administratif français" in html and "Licence Ouverte 2.0" in html
    assert "INSEE, populations légales 2013" in refdata.attribution(2016)
    assert f'href="{refdata.LICENCE_URL}"' in html


def csv_table(data: bytes) -> tuple[list[dict[str, str]], str]:
    text = data.decode("utf-8-sig")
    table, _, source = text.partition("\r\n\r\n")
    return list(csv.DictReader(io.StringIO(table), delimiter=";")), source


def test_csv_that_french_excel_opens() -> None:
    data = palmares_exports.to_csv(view())
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM, or Excel breaks the accents"
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    assert data.decode("utf-8-sig").splitlines()[0].split(";")[:4] == ["Édition", "Catégorie", "Code", "Collectivité"]
    rows, source = csv_table(data)
    assert [(r["Code"], r["Catégorie"], r["Arobases"], r["Distinctions"]) for r in rows] == [
        ("22179", "Village", "3", ""),
        ("49007", "Ville", "5", "Territoire d’excellence numérique"),
        ("51230", "Ville", "4", ""),
    ]
    assert rows[0]["Collectivité"] == "Fréhel" and rows[0]["Mentions"] == "Réseaux sociaux"
    assert rows[1]["Département"] == "Maine-et-Loire" and rows[1]["Région"] == "Pays de la Loire"
    assert "Licence Ouverte 2.0" in source and refdata.LICENCE_URL in source


def test_no_export_holds_a_formula() -> None:
    rows, _ = csv_table(palmares_exports.to_csv(view()))
    assert rows[2]["Collectivité"] == '\'=HYPERLINK("http://evil.example")'
    sheet = openpyxl.load_workbook(io.BytesIO(palmares_exports.to_xlsx(view()))).worksheets[0]
    cell = sheet.cell(row=4, column=4)
    assert cell.value == '=HYPERLINK("http://evil.example")' and cell.data_type == "s"
    with zipfile.ZipFile(io.BytesIO(palmares_exports.to_xlsx(view()))) as xlsx:
        assert "<f>" not in xlsx.read("xl/worksheets/sheet1.xml").decode()
    with zipfile.ZipFile(io.BytesIO(palmares_exports.to_ods(view()))) as ods:
        assert "table:formula" not in ods.read("content.xml").decode()


def test_xlsx_has_typed_cells_and_a_source_sheet() -> None:
    book = openpyxl.load_workbook(io.BytesIO(palmares_exports.to_xlsx(view())))
    assert book.sheetnames == ["Palmarès 2022", "Source"]
    table = [list(r) for r in book["Palmarès 2022"].iter_rows(values_only=True)]
    assert table[0] == list(palmares_exports.HEADERS)
    assert table[1] == [
        2022,
        "Village",
        "22179",
        "Fréhel",
        "22",
        "Côtes-d’Armor",
        "Bretagne",
        3,
        2,
        "Réseaux sociaux",
        None,
    ]
    assert "Licence Ouverte 2.0" in str(book["Source"]["A1"].value)
    assert palmares_exports.to_xlsx(view()) == palmares_exports.to_xlsx(view()), "the same palmarès, the same file"


def test_the_xlsx_is_dated_by_the_publication_not_by_the_clock() -> None:
    """Dated by the clock, two exports a second apart differed (the test above failed on a loaded machine)."""
    palmares = view()
    published = palmares.published_at.astimezone(UTC).replace(tzinfo=None)
    data = palmares_exports.to_xlsx(palmares)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert {m.date_time for m in archive.infolist()} == {published.timetuple()[:6]}
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.properties.created == book.properties.modified == published


def test_ods_has_the_table_and_a_source_sheet() -> None:
    doc = load_ods(io.BytesIO(palmares_exports.to_ods(view())))
    tables = doc.spreadsheet.getElementsByType(Table)
    assert [t.getAttribute("name") for t in tables] == ["Palmarès 2022", "Source"]
    rows = tables[0].getElementsByType(TableRow)
    cells = [[teletype.extractText(c) for c in row.getElementsByType(TableCell)] for row in rows]
    assert cells[0] == list(palmares_exports.HEADERS)
    assert cells[2][:4] == ["2022", "Ville", "49007", "Angers & <Co>"]
    arobases = rows[2].getElementsByType(TableCell)[7]
    assert arobases.getAttribute("valuetype") == "float" and arobases.getAttribute("value") == "5"
    assert "Licence Ouverte 2.0" in teletype.extractText(tables[1])


def test_the_files_are_well_formed_whatever_a_mention_holds() -> None:
    """What XML cannot hold is dropped, the rest escaped: the files are written and open, whatever is stored."""
    palmares = view()
    palmares.villages[0].mentions = ["Réseaux\x0bsociaux", "Données ]]> & <ouvertes>", "Ré\ufffeunions"]
    sheet = openpyxl.load_workbook(io.BytesIO(palmares_exports.to_xlsx(palmares))).worksheets[0]
    assert sheet.cell(row=2, column=10).value == "Réseauxsociaux | Données ]]> & <ouvertes> | Réunions"
    doc = load_ods(io.BytesIO(palmares_exports.to_ods(palmares)))
    row = doc.spreadsheet.getElementsByType(Table)[0].getElementsByType(TableRow)[1]
    assert teletype.extractText(row.getElementsByType(TableCell)[9]) == (
        "Réseauxsociaux | Données ]]> & <ouvertes> | Réunions"
    )
    with zipfile.ZipFile(io.BytesIO(palmares_exports.to_ods(palmares))) as ods:
        assert ods.namelist()[0] == "mimetype" and ods.getinfo("mimetype").compress_type == zipfile.ZIP_STORED
        assert ods.read("mimetype") == b"application/vnd.oasis.opendocument.spreadsheet"
        assert {m.date_time for m in ods.infolist()} == {(2022, 2, 1, 18, 0, 0)}, "dated by the publication"


@pytest.mark.parametrize(
    ("names", "category", "ordered"),
    [
        pytest.param(
            ["Vannes", "Épernay", "Eybens", "Île-d’Yeu", "Issy-les-Moulineaux", "Agen", "Ivry-sur-Seine", "Évry"],
            "ville",
            ["Agen", "Épernay", "Évry", "Eybens", "Île-d’Yeu", "Issy-les-Moulineaux", "Ivry-sur-Seine", "Vannes"],
            id="accented initials among their letter",
        ),
        pytest.param(
            [
                "CC de Parthenay-Gâtine",
                "CA La Riviéra du Levant",
                "CU d'Arras",
                "Métropole de Lyon",
                "CC Berry Grand Sud",
            ],
            "territoire",
            [
                "CU d'Arras",
                "CC Berry Grand Sud",
                "Métropole de Lyon",
                "CC de Parthenay-Gâtine",
                "CA La Riviéra du Levant",
            ],
            id="epci under their distinctive name",
        ),
    ],
)
def test_french_alphabetical_order(names: list[str], category: str, ordered: list[str]) -> None:
    entries = [entry(f"2000000{i:02d}", n, category, 5) for i, n in enumerate(names)]
    assert [e.name for e in sorted(entries, key=palmares.order)] == ordered


def test_more_arobases_first_whatever_the_name() -> None:
    assert (
        sorted([entry("1", "Agen", "ville", 3), entry("2", "Vannes", "ville", 5)], key=palmares.order)[0].name
        == "Vannes"
    )


def test_official_name_of_an_epci() -> None:
    assert palmares.official_name("200041333", "CC de Parthenay-Gâtine", "epci", 2017) == (
        "Communauté de communes de Parthenay-Gâtine"
    )
    assert palmares.official_name("72181", "Le Mans", "commune", 2017) == "Le Mans"


def test_an_entry_has_the_dossiers_final_arobases_and_mentions() -> None:
    """The jury's arobases and the mentions it granted, else the pré-notation and the detected mentions."""
    row = store.PalmaresRow(
        submission_id=uuid4(),
        code="22179",
        name="Fréhel",
        kind="commune",
        category="village",
        departement="22",
        pre_notation=2,
        jury_arobases=None,
        mentions='[{"code": "teletravail", "label": "Télétravail"}]',
        jury_mentions=None,
    )
    proposed = palmares.entry_of(2022, row)
    assert proposed is not None
    assert (proposed.arobases, proposed.pre_notation, proposed.mentions) == (2, 2, ["Télétravail"])

    decided = palmares.entry_of(
        2022,
        replace(row, jury_arobases=4, jury_mentions='[{"code": "democratie_locale", "label": "Démocratie locale"}]'),
    )
    assert decided is not None
    assert (decided.arobases, decided.pre_notation, decided.mentions) == (4, 2, ["Démocratie locale"])

    assert palmares.entry_of(2022, replace(row, pre_notation=None, mentions=None)) is None, "not evaluated yet"


def test_the_name_keys_sort_as_the_collation_keys_do() -> None:
    names = [
        "Ay",
        "Ayen",
        "Aÿ-Champagne",
        "Épernay",
        "Eperlecques",
        "Île-d'Yeu",
        "Ilhet",
        "Le Mans",
        "Lège-Cap-Ferret",
        "Saint-Étienne",
        "Saint-Éloy-les-Mines",
        "Sainte-Anne",
        "Vannes",
        "Œuilly",
        "Oeuilly",
        "L'Haÿ-les-Roses",
    ]
    by_bytes = sorted(names, key=lambda n: palmares.name_key(n, "ville"))
    assert by_bytes == sorted(names, key=collation.sort_key)
    assert by_bytes != sorted(names), "not the order of code points (« Épernay » after « Vannes »)"
    # A territoire under its distinctive name: « CC du Bocage » among the B.
    assert palmares.name_key("CC du Bocage", "territoire") == palmares.name_key("Bocage", "ville")

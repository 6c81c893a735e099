"""The palmarès as files for spreadsheets (pure): CSV that French Excel opens, XLSX and ODS.

One table, one row per labelled collectivité with its département and région,
and the attribution of the reference data that the Licence Ouverte asks for: a
second sheet « Source » in XLSX and ODS, the last line of the CSV (after an
empty line, so that the table above stays a table).

No cell is ever a formula (CSV injection, OWASP): XLSX and ODS cells are typed
text or numbers; a CSV cannot type its cells, so a text that a spreadsheet
would read as a formula gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from odf.opendocument import OpenDocumentSpreadsheet  # type: ignore[import-untyped]
from odf.style import Style, TableColumnProperties, TextProperties  # type: ignore[import-untyped]
from odf.table import Table, TableCell, TableColumn, TableRow  # type: ignore[import-untyped]
from odf.text import P  # type: ignore[import-untyped]
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from palmares_submission import refdata
from palmares_submission.schemas import PalmaresView
from palmares_submission.spreadsheet import safe_text

Cell = str | int

HEADERS = (
    "Édition",
    "Catégorie",
    "Code",
    "Collectivité",
    "Code du département",
    "Département",
    "Région",
    "Arobases",
    "Pré-notation",
    "Mentions",
    "Distinctions",
)
_WIDTHS = (8, 11, 11, 48, 10, 24, 28, 9, 12, 40, 30)
_CATEGORIES = {"village": "Village", "ville": "Ville", "territoire": "Territoire"}
_GROUPS = ("villages", "villes", "territoires")


def rows(palmares: PalmaresView) -> list[tuple[Cell, ...]]:
    """The table: one row per labelled collectivité, Villages, then Villes, then Territoires."""
    return [
        (
            palmares.edition,
            _CATEGORIES[e.category.value],
            e.collectivite_code,
            e.official_name or e.name,
            e.departement,
            e.departement_name,
            e.region,
            e.arobases,
            e.pre_notation if e.pre_notation is not None else "",
            " | ".join(e.mentions),
            " | ".join(e.distinctions),
        )
        for key in _GROUPS
        for e in getattr(palmares, key)
    ]


def source_lines(palmares: PalmaresView) -> tuple[str, str]:
    """The attribution of the reference data, and where its licence is."""
    return (palmares.attribution or refdata.attribution(refdata.millesime_for(palmares.edition)), refdata.LICENCE_URL)


# --- CSV ------------------------------------------------------------------------------------------


def to_csv(palmares: PalmaresView) -> bytes:
    """CSV as French Excel reads it: `;` between cells, UTF-8 with a BOM, CRLF line ends."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADERS)
    for row in rows(palmares):
        writer.writerow(safe_text(value) for value in row)
    writer.writerow(())
    writer.writerow(("Source\u00a0: " + " — ".join(source_lines(palmares)),))
    # utf-8-sig writes the BOM by which Excel recognises UTF-8 (without it, accents break).
    return out.getvalue().encode("utf-8-sig")


# --- XLSX -----------------------------------------------------------------------------------------


def to_xlsx(palmares: PalmaresView) -> bytes:
    """An Excel workbook: the table (typed cells, header frozen) and a « Source » sheet."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = f"Palmarès {palmares.edition}"
    _xlsx_rows(sheet, [HEADERS, *rows(palmares)])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for column, width in enumerate(_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    source = book.create_sheet("Source")
    _xlsx_rows(source, [(line,) for line in source_lines(palmares)])
    source.column_dimensions["A"].width = 120
    # Fixed dates: the same palmarès gives the same file. `Workbook.save` would date the document and
    # its zip members to the second it runs (two saves a second apart differ): write them dated by
    # the publication instead.
    published = _naive_utc(palmares.published_at)
    book.properties.created = book.properties.modified = published
    written = io.BytesIO()
    ExcelWriter(book, ZipFile(written, "w", ZIP_DEFLATED, allowZip64=True)).save()
    return _dated(written.getvalue(), published)


def _dated(archive: bytes, when: datetime) -> bytes:
    """The same zip archive, every member dated `when` (zip dates have no zone: UTC here)."""
    out = io.BytesIO()
    with ZipFile(io.BytesIO(archive)) as source, ZipFile(out, "w", ZIP_DEFLATED) as dated:
        for member in source.infolist():
            info = ZipInfo(member.filename, date_time=when.timetuple()[:6])
            info.compress_type = ZIP_DEFLATED
            info.external_attr = member.external_attr
            dated.writestr(info, source.read(member))
    return out.getvalue()


def _xlsx_rows(sheet: Worksheet, table: Sequence[Sequence[Cell]]) -> None:
    for r, row in enumerate(table, start=1):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text, never a formula, whatever it starts with


def _naive_utc(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(tzinfo=None)  # the workbook's dates are UTC without a zone


# --- ODS ------------------------------------------------------------------------------------------


def to_ods(palmares: PalmaresView) -> bytes:
    """An OpenDocument spreadsheet (LibreOffice): the table and a « Source » sheet, typed cells."""
    doc = OpenDocumentSpreadsheet()
    bold = Style(name="entete", family="table-cell")
    bold.addElement(TextProperties(fontweight="bold"))
    doc.automaticstyles.addElement(bold)
    columns = []
    for i, width in enumerate(_WIDTHS):
        style = Style(name=f"col{i}", family="table-column")
        style.addElement(TableColumnProperties(columnwidth=f"{width * 0.21:.2f}cm"))
        doc.automaticstyles.addElement(style)
        columns.append(style)
    table = Table(name=f"Palmarès {palmares.edition}")
    for style in columns:
        table.addElement(TableColumn(stylename=style))
    _ods_row(table, HEADERS, bold)
    for row in rows(palmares):
        _ods_row(table, row)
    doc.spreadsheet.addElement(table)
    source = Table(name="Source")
    for line in source_lines(palmares):
        _ods_row(source, (line,))
    doc.spreadsheet.addElement(source)
    out = io.BytesIO()
    doc.write(out)
    return out.getvalue()


def _ods_row(table: Table, values: Sequence[Cell], style: Style | None = None) -> None:
    row = TableRow()
    for value in values:
        attributes = {"stylename": style} if style is not None else {}
        if isinstance(value, int):
            cell = TableCell(valuetype="float", value=value, **attributes)
        else:
            cell = TableCell(valuetype="string", **attributes)
        cell.addElement(P(text=str(value)))
        row.addElement(cell)
    table.addElement(row)


@dataclass(frozen=True, slots=True)
class Format:
    media_type: str
    extension: str
    render: Callable[[PalmaresView], bytes]


FORMATS = {
    "csv": Format("text/csv; charset=utf-8", "csv", to_csv),
    "xlsx": Format("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", to_xlsx),
    "ods": Format("application/vnd.oasis.opendocument.spreadsheet", "ods", to_ods),
}

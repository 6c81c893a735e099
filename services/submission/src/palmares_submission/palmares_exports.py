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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol
from xml.sax.saxutils import escape, quoteattr
from zipfile import ZIP_DEFLATED, ZIP_STORED, ZipFile, ZipInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell as XlsxCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.writer.excel import ExcelWriter

from palmares_submission import refdata
from palmares_submission.schemas import PalmaresEntry, PalmaresView
from palmares_submission.spreadsheet import safe_text, xml_text

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


@dataclass(frozen=True, slots=True)
class Head:
    """What a file says besides its rows."""

    edition: int
    published_at: datetime
    attribution: str = ""


def row(edition: int, e: PalmaresEntry) -> tuple[Cell, ...]:
    """A labelled collectivité's row of the table."""
    return (
        edition,
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


def source_lines(head: Head) -> tuple[str, str]:
    """The attribution of the reference data, and where its licence is."""
    return (head.attribution or refdata.attribution(refdata.millesime_for(head.edition)), refdata.LICENCE_URL)


class Writer(Protocol):
    """A file written a row at a time (`add`, in the palmarès's order), then closed (`finish`): what it holds
    while written is the file (compressed for XLSX and ODS), not the rows it was given."""

    def add(self, entry: PalmaresEntry) -> None: ...

    def finish(self) -> bytes: ...


# --- CSV ------------------------------------------------------------------------------------------


class CsvWriter:
    """CSV as French Excel reads it: `;` between cells, UTF-8 with a BOM, CRLF line ends."""

    def __init__(self, head: Head) -> None:
        self.head = head
        self.out = io.StringIO()
        self.writer = csv.writer(self.out, delimiter=";", lineterminator="\r\n")
        self.writer.writerow(HEADERS)

    def add(self, entry: PalmaresEntry) -> None:
        self.writer.writerow(safe_text(value) for value in row(self.head.edition, entry))

    def finish(self) -> bytes:
        self.writer.writerow(())
        self.writer.writerow(("Source\u00a0: " + " — ".join(source_lines(self.head)),))
        # utf-8-sig writes the BOM by which Excel recognises UTF-8 (without it, accents break).
        return self.out.getvalue().encode("utf-8-sig")


# --- XLSX -----------------------------------------------------------------------------------------


class XlsxWriter:
    """An Excel workbook: the table (typed cells, header frozen) and a « Source » sheet.

    openpyxl's write-only mode: each row goes to the sheet's file as it is added (a workbook held whole
    took about 150 MB at 36,000 rows)."""

    def __init__(self, head: Head) -> None:
        self.head = head
        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet(f"Palmarès {head.edition}")
        # Before the first row: a write-only sheet writes its columns and panes with it.
        self.sheet.freeze_panes = "A2"
        for column, width in enumerate(_WIDTHS, start=1):
            self.sheet.column_dimensions[get_column_letter(column)].width = width
        self.sheet.append([_xlsx_cell(self.sheet, value, bold=True) for value in HEADERS])

    def add(self, entry: PalmaresEntry) -> None:
        self.sheet.append([_xlsx_cell(self.sheet, value) for value in row(self.head.edition, entry)])

    def finish(self) -> bytes:
        source = self.book.create_sheet("Source")
        source.column_dimensions["A"].width = 120
        for line in source_lines(self.head):
            source.append([_xlsx_cell(source, line)])
        # Fixed dates: the same palmarès gives the same file. `Workbook.save` would date the document and
        # its zip members to the second it runs (two saves a second apart differ): write them dated by
        # the publication instead.
        published = _naive_utc(self.head.published_at)
        self.book.properties.created = self.book.properties.modified = published
        written = io.BytesIO()
        ExcelWriter(self.book, ZipFile(written, "w", ZIP_DEFLATED, allowZip64=True)).save()
        return _dated(written.getvalue(), published)


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: Cell, bold: bool = False) -> XlsxCell:
    cell = WriteOnlyCell(sheet, value=xml_text(value) if isinstance(value, str) else value)
    if isinstance(value, str):
        cell.data_type = "s"  # text, never a formula, whatever it starts with
    if bold:
        cell.font = Font(bold=True)
    return cell


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


def _naive_utc(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(tzinfo=None)  # the workbook's dates are UTC without a zone


# --- ODS ------------------------------------------------------------------------------------------

# Written here rather than with odfpy: odfpy builds the whole document as a DOM before writing it (about
# 700 MB of Python memory for the 36,000 rows of a national palmarès, and a minute and a half), and has no
# streaming writer. An OpenDocument spreadsheet is a zip of a few XML files; its table is written here a
# row at a time into the compressed `content.xml`. The tests read the files back with odfpy.
_ODS = "application/vnd.oasis.opendocument.spreadsheet"
_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'office:version="1.2"'
)
_PROLOGUE = "<?xml version='1.0' encoding='UTF-8'?>\n"


class OdsWriter:
    """An OpenDocument spreadsheet (LibreOffice): the table and a « Source » sheet, typed cells."""

    def __init__(self, head: Head) -> None:
        self.head = head
        self.when = _naive_utc(head.published_at).timetuple()[:6]
        self.out = io.BytesIO()
        self.zip = ZipFile(self.out, "w", ZIP_DEFLATED)
        # The mimetype first and stored uncompressed: how a reader recognises the document.
        self.zip.writestr(self._member("mimetype", ZIP_STORED), _ODS)
        self.content = self.zip.open(self._member("content.xml"), "w")
        styles = '<style:style style:name="entete" style:family="table-cell">'
        styles += '<style:text-properties fo:font-weight="bold"/></style:style>'
        styles += "".join(
            f'<style:style style:name="col{i}" style:family="table-column">'
            f'<style:table-column-properties style:column-width="{width * 0.21:.2f}cm"/></style:style>'
            for i, width in enumerate(_WIDTHS)
        )
        self._write(
            f"{_PROLOGUE}<office:document-content {_NS}><office:automatic-styles>{styles}</office:automatic-styles>"
            f"<office:body><office:spreadsheet><table:table table:name={quoteattr(f'Palmarès {head.edition}')}>"
            + "".join(f'<table:table-column table:style-name="col{i}"/>' for i in range(len(_WIDTHS)))
            + _ods_row(HEADERS, "entete")
        )

    def add(self, entry: PalmaresEntry) -> None:
        self._write(_ods_row(row(self.head.edition, entry)))

    def finish(self) -> bytes:
        source = "".join(_ods_row((line,)) for line in source_lines(self.head))
        self._write(
            f'</table:table><table:table table:name="Source">{source}</table:table>'
            "</office:spreadsheet></office:body></office:document-content>"
        )
        self.content.close()
        created = _naive_utc(self.head.published_at).isoformat()
        self.zip.writestr(
            self._member("meta.xml"),
            f"{_PROLOGUE}<office:document-meta {_NS}><office:meta><meta:generator>Palmarès</meta:generator>"
            f"<dc:title>Palmarès {self.head.edition}</dc:title><meta:creation-date>{created}</meta:creation-date>"
            "</office:meta></office:document-meta>",
        )
        self.zip.writestr(
            self._member("styles.xml"),
            f"{_PROLOGUE}<office:document-styles {_NS}><office:styles/></office:document-styles>",
        )
        entries = "".join(
            f'<manifest:file-entry manifest:full-path="{name}" manifest:media-type="text/xml"/>'
            for name in ("content.xml", "meta.xml", "styles.xml")
        )
        self.zip.writestr(
            self._member("META-INF/manifest.xml"),
            f"{_PROLOGUE}<manifest:manifest "
            'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
            f'<manifest:file-entry manifest:full-path="/" manifest:version="1.2" manifest:media-type="{_ODS}"/>'
            f"{entries}</manifest:manifest>",
        )
        self.zip.close()
        return self.out.getvalue()

    def _member(self, name: str, compression: int = ZIP_DEFLATED) -> ZipInfo:
        info = ZipInfo(name, date_time=self.when)  # dated by the publication: the same palmarès, the same file
        info.compress_type = compression
        return info

    def _write(self, xml: str) -> None:
        self.content.write(xml.encode())


def _ods_row(values: Iterable[Cell], style: str | None = None) -> str:
    styled = f' table:style-name="{style}"' if style else ""
    cells = []
    for value in values:
        if isinstance(value, int):
            cells.append(
                f'<table:table-cell{styled} office:value-type="float" office:value="{value}">'
                f"<text:p>{value}</text:p></table:table-cell>"
            )
        else:
            text = escape(xml_text(value))
            cells.append(
                f'<table:table-cell{styled} office:value-type="string"><text:p>{text}</text:p></table:table-cell>'
            )
    return f"<table:table-row>{''.join(cells)}</table:table-row>"


# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Format:
    media_type: str
    extension: str
    writer: Callable[[Head], Writer]

    def render(self, palmares: PalmaresView) -> bytes:
        """The file of a view already in memory (`palmares.export` writes it from the database)."""
        written = self.writer(Head(palmares.edition, palmares.published_at, palmares.attribution))
        for key in _GROUPS:
            for entry in getattr(palmares, key):
                written.add(entry)
        return written.finish()


FORMATS = {
    "csv": Format("text/csv; charset=utf-8", "csv", CsvWriter),
    "xlsx": Format("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx", XlsxWriter),
    "ods": Format(_ODS, "ods", OdsWriter),
}
to_csv = FORMATS["csv"].render
to_xlsx = FORMATS["xlsx"].render
to_ods = FORMATS["ods"].render

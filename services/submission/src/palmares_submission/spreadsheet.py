"""Tables as files a spreadsheet opens: CSV for French Excel, and XLSX (openpyxl).

French Excel reads a CSV as ANSI with `,` as the decimal separator unless the
file starts with a UTF-8 byte order mark and separates columns with `;`.
No cell is ever a formula (CSV injection): a CSV text cell starting with a
formula sign gets a leading `'`; XLSX cells are typed text or numbers.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

Cell = str | int | float | None

# A cell starting with one of these is a formula to a spreadsheet (CSV injection, OWASP).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 cannot hold, even escaped. An XLSX or ODS cell's text drops them: the API refuses them
# in what it stores (`text`), but a file must not fail on a row written some other way (openpyxl raises).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text: str) -> str:
    """`text` without the characters an XML file (XLSX, ODS) cannot hold."""
    return _NOT_XML.sub("", text)


def safe_text(value: Cell) -> Cell:
    """A text cell that a spreadsheet shows as text, never runs as a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _french(value: Cell) -> Cell:
    return str(value).replace(".", ",") if isinstance(value, float) else value


def csv_for_excel(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """UTF-8 with BOM, `;` between columns, CRLF, French decimals."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_french(safe_text(v)) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx(title: str, header: Sequence[str], rows: Iterable[Sequence[Cell]], generated_at: datetime) -> bytes:
    """One sheet, a bold frozen header with filters; numbers stay numbers."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]  # Excel's limit for a sheet name
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c, value=xml_text(value) if isinstance(value, str) else value)
            if isinstance(value, str):
                cell.data_type = "s"  # text, never a formula, whatever it starts with
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    for index, column in enumerate(sheet.iter_cols(), start=1):
        widest = max(len(str(c.value or "")) for c in column)
        sheet.column_dimensions[get_column_letter(index)].width = min(60, max(10, widest + 2))
    book.properties.created = generated_at.replace(tzinfo=None)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

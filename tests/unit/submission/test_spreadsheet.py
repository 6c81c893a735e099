"""The tables the espace jury downloads (`spreadsheet`): text a spreadsheet never runs, and an XLSX written
whatever a stored text holds."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import openpyxl
from palmares_submission import spreadsheet


def test_an_xlsx_cell_drops_what_xml_cannot_hold() -> None:
    # A vertical tab (Word's line break) and a NUL: openpyxl refuses both.
    data = spreadsheet.xlsx(
        "Dossiers 2022",
        ("Code", "Mentions", "Score"),
        [("49007", "Réseaux\x0bsociaux, Données\x00ouvertes", 12.5), ("72181", "=1+1", 3)],
        datetime(2022, 2, 1, tzinfo=UTC),
    )
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    assert [c.value for c in sheet[2]] == ["49007", "Réseauxsociaux, Donnéesouvertes", 12.5]
    assert sheet.cell(row=3, column=2).value == "=1+1" and sheet.cell(row=3, column=2).data_type == "s"


def test_xml_text_keeps_tabs_line_breaks_and_french() -> None:
    assert spreadsheet.xml_text("Île-d’Yeu\t«\u00a0ok\u00a0»\r\n") == "Île-d’Yeu\t«\u00a0ok\u00a0»\r\n"
    assert spreadsheet.xml_text("a\x01b\x1fc\ufffed") == "abcd"

"""The public palmarès: JSON, CSV, and the French web page as a visitor sees it in a real browser."""

from __future__ import annotations

import asyncio
import csv
import io
import shutil
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest
from odf import teletype
from odf.opendocument import load as load_ods

from tests.factories import grille_body
from tests.integration.browser import browse
from tests.integration.harness import Api, Codes, Stack, dossier

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


class Rows(HTMLParser):
    """The text of each palmarès row (`tr[data-code]`), and of every heading."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, str] = {}
        self.headings: list[str] = []
        self.title = ""
        self._row: str | None = None
        self._heading = False
        self._in_title = False
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr" and dict(attrs).get("data-code"):
            self._row, self._text = dict(attrs)["data-code"], []
        if tag in ("h1", "h2"):
            self._heading, self._text = True, []
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self._row:
            self.rows[self._row] = " ".join("".join(self._text).split())
            self._row = None
        if tag in ("h1", "h2") and self._heading:
            self.headings.append(" ".join("".join(self._text).split()))
            self._heading = False
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._row or self._heading:
            self._text.append(data)
        if self._in_title:
            self.title += data


async def test_palmares_page_in_a_browser_json_and_csv(
    stack: Stack, api: Api, codes: Codes, edition: int, tmp_path: Path
) -> None:
    g = grille_body(edition)
    g["mentions"][1]["label"] = "Réseaux <b>sociaux</b> & co"  # operator text: shown, never interpreted
    await api.publish_grille(g)
    entries = {}
    for kind in ("village", "ville", "territoire"):
        code = codes.take(kind)
        contact = f"page-{edition}-{code}@collectivites.example"
        narrative = "Nous publions nos données ouvertes et animons notre page Facebook."
        r = await api.submit(await api.register(code, contact), edition, dossier(contact, narrative=narrative))
        entries[code] = r.json()["submission_id"]
    views = {code: await api.wait_status(sid, "notified") for code, sid in entries.items()}
    assert (await api.client.get(f"/palmares/{edition}")).status_code == 404
    assert (await api.publish_palmares(edition)).status_code == 202

    as_json = (await api.client.get(f"/v1/editions/{edition}/palmares")).json()
    assert [len(as_json[k]) for k in ("villages", "villes", "territoires")] == [1, 1, 1]
    # Visitors at once share the page's builds (coalesce.Coalescer): each still gets the whole page.
    at_once = await asyncio.gather(*(api.client.get(f"/palmares/{edition}") for _ in range(6)))
    assert {r.status_code for r in at_once} == {200}
    assert len({r.content for r in at_once}) == 1 and b"Territoires" in at_once[0].content
    expected = {c: v["arobases"] for c, v in views.items()}
    response = await api.client.get(f"/v1/editions/{edition}/palmares", headers={"Accept": "text/csv"})
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM French Excel needs to read UTF-8
    table = response.content.decode("utf-8-sig").split("\r\n\r\n")[0]  # the attribution follows the table
    rows = list(csv.DictReader(io.StringIO(table), delimiter=";"))
    assert {r["Code"]: int(r["Arobases"]) for r in rows} == expected
    assert all(r["Département"] and r["Région"] for r in rows)

    xlsx = await api.client.get(f"/v1/editions/{edition}/palmares?format=xlsx")
    assert xlsx.headers["content-disposition"] == f'attachment; filename="palmares-{edition}.xlsx"'
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content)).worksheets[0]
    assert {r[2]: r[7] for r in sheet.iter_rows(min_row=2, values_only=True)} == expected
    ods = await api.client.get(
        f"/v1/editions/{edition}/palmares", headers={"Accept": "application/vnd.oasis.opendocument.spreadsheet"}
    )
    assert ods.headers["content-type"] == "application/vnd.oasis.opendocument.spreadsheet"
    assert all(code in teletype.extractText(load_ods(io.BytesIO(ods.content)).spreadsheet) for code in expected)

    screenshot = tmp_path / "palmares.png"
    dom = await asyncio.to_thread(browse, f"{stack.api_url}/palmares/{edition}", screenshot)
    page = Rows()
    page.feed(dom)
    assert page.title == f"Palmarès {edition} — Territoires, Villes et Villages Internet"
    assert page.headings == [f"Palmarès {edition}", "Villages", "Villes", "Territoires", "Télécharger le palmarès"]
    # Escaped: the browser shows the markup as text (a parsed <b> would have left only "sociaux").
    assert "&lt;b&gt;sociaux&lt;/b&gt; &amp; co" in dom
    for code, view in views.items():
        text = page.rows[code]
        assert "@" * view["arobases"] in text
        assert "Gouvernement ouvert" in text and "Réseaux <b>sociaux</b> & co" in text
    assert screenshot.stat().st_size > 10_000
    saved = Path(stack.log_dir) / f"palmares-{edition}.png"
    shutil.copy(screenshot, saved)  # kept with the session's logs for a human look
    print(f"\nscreenshot of the palmarès page: {saved}")

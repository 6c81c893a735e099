"""The public palmarès (page and CSV) shows hostile names and mentions as text, never as markup or formulas."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from palmares_submission import palmares, palmares_exports, refdata
from palmares_submission.schemas import PalmaresEntry, PalmaresView

HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' onmouseover='alert(1)",
    "</td></tr></table><h1>faux palmarès</h1>",
    "{{ 7*7 }}{% if true %}jinja{% endif %}",
    "javascript:alert(1)",
    "<!-- commentaire -->",
]


def view(hostile: str) -> PalmaresView:
    def entry(category: str) -> PalmaresEntry:
        return PalmaresEntry(
            collectivite_code=hostile,
            name=hostile,
            category=category,
            arobases=4,
            pre_notation=3,
            mentions=[hostile, "Réseaux sociaux"],
            distinctions=[hostile],
        )

    return PalmaresView(
        edition=2022,
        published_at=datetime(2022, 2, 1, 18, tzinfo=UTC),
        ceremony={"place": hostile, "date": "2022-02-01"},
        villages=[],
        villes=[entry("ville")],
        territoires=[entry("territoire")],
    )


class Page(HTMLParser):
    """What a browser would build: the tags, their attributes, the text, the comments."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.comments: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_the_page_escapes_names_mentions_distinctions_codes_and_the_ceremony(hostile: str) -> None:
    page = Page(palmares.to_html(view(hostile)))
    clean = Page(palmares.to_html(view("Angers")))
    # The same elements as with a harmless name: the data added no tag, no attribute, no comment.
    assert [(tag, sorted(attrs)) for tag, attrs in page.tags] == [(tag, sorted(attrs)) for tag, attrs in clean.tags]
    assert page.comments == clean.comments == []
    assert not any(name.startswith("on") for _, attrs in page.tags for name in attrs)
    # Attribute values hold the data whole, inside their quotes.
    assert [a["data-code"] for t, a in page.tags if t == "tr" and "data-code" in a] == [hostile, hostile]
    # The text is shown as text: name, mentions, distinctions, place; Jinja did not evaluate it.
    text = "".join(page.text)
    # (The ceremony's place is a place name: written with typographic apostrophes.)
    typographic = hostile.replace("'", "’")
    assert text.count(hostile) + (text.count(typographic) if typographic != hostile else 0) >= 7
    for _, attrs in page.tags:
        if "href" in attrs:
            # Every link is the page's own: an anchor, the exports, the catalogue and observatoire of the
            # edition (a number), the licence.
            assert str(attrs["href"]).startswith(
                ("#", "/v1/editions/", "/actions?edition=", "/observatoire/", refdata.LICENCE_URL)
            ), attrs


@pytest.mark.parametrize("formula", ['=HYPERLINK("http://evil.example")', "+1+1", "-2+3", "@SUM(A1)", "\t=1"])
def test_the_csv_does_not_hand_formulas_to_a_spreadsheet(formula: str) -> None:
    table = palmares_exports.to_csv(view(formula)).decode("utf-8-sig").split("\r\n\r\n")[0]
    rows = list(csv.DictReader(io.StringIO(table), delimiter=";"))
    assert len(rows) == 2
    for row in rows:
        for column in ("Collectivité", "Mentions", "Distinctions", "Code"):
            assert not row[column].startswith(("=", "+", "-", "@", "\t", "\r")), (column, row[column])
        assert formula in row["Collectivité"]  # kept, behind a leading apostrophe

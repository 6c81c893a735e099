"""The comité's tendances page (espace jury): its settings from the URL, and the template on a known report."""

from __future__ import annotations

import json
import re
from pathlib import Path

from palmares_contracts import Grille
from palmares_submission import tendances
from palmares_submission.tendances import ActionText
from palmares_submission.web import tendances_page
from palmares_submission.web.context import templates

from tests.factories import WRITTEN_IN_2017_ADDED_IN_2018

GRILLE_2017 = Path(__file__).resolve().parents[3] / "deploy" / "grilles" / "grille-2017.json"
GRILLE_2018 = GRILLE_2017.with_name("grille-2018.json")


def test_settings_from_the_url() -> None:
    assert tendances_page.options({}) == (tendances_page.Options(2, False), None)
    assert tendances_page.options({"dossiers": "3", "mots": "1"}) == (tendances_page.Options(3, True), None)
    for bad in ("0", "1001", "deux", "-1", "99999"):
        chosen, error = tendances_page.options({"dossiers": bad})
        assert chosen == tendances_page.Options() and error is not None and error.field == "dossiers"


def test_categories_agree_in_gender_and_number() -> None:
    assert tendances_page.categories_text({"ville": 1, "village": 2}) == "deux villages, une ville"
    assert tendances_page.categories_text({"territoire": 1}) == "un territoire"


def test_the_page_shows_each_theme_with_its_actions_and_the_undeclared_services_by_enjeu() -> None:
    grille = Grille.model_validate({**json.loads(GRILLE_2017.read_text(encoding="utf-8")), "version": 1})
    texts = [t for written in WRITTEN_IN_2017_ADDED_IN_2018.values() for t in written]
    actions = [ActionText(f"d{i}", f"Commune {i}", "ville", title, text, ()) for i, (title, text) in enumerate(texts)]
    actions.append(ActionText("dx", "Lille", "ville", "Portail", "Données ouvertes.", ("open_data_portail",)))
    found = tendances.tendances(2017, grille, actions)
    html = templates.get_template("jury/tendances.html.j2").render(
        account=None, csrf="", **tendances_page.context(grille, found, tendances_page.Options())
    )
    cards = re.findall(r'<section class="carte theme".*?</section>', html, re.S)
    assert len(cards) == len(found.themes) == len(WRITTEN_IN_2017_ADDED_IN_2018)
    for card, theme in zip(cards, found.themes, strict=True):
        assert set(re.findall(r"<strong>(.*?)</strong>", card)) == {a.title for a in theme.examples}
    assert html.count('<rect class="barre"') == len(found.themes)
    undeclared = re.findall(r'<li data-service="(\w+)">', html)
    assert sorted(undeclared) == sorted(code for code, _ in found.undeclared_services)
    assert "open_data_portail" not in undeclared


def test_the_page_shows_the_services_of_the_next_grille_that_cite_a_theme() -> None:
    grille = Grille.model_validate({**json.loads(GRILLE_2017.read_text(encoding="utf-8")), "version": 1})
    following = Grille.model_validate({**json.loads(GRILLE_2018.read_text(encoding="utf-8")), "version": 2})
    texts = [(code, t) for code, written in WRITTEN_IN_2017_ADDED_IN_2018.items() for t in written]
    actions = [ActionText(f"d{i}", f"Commune {i}", "ville", a, b, ()) for i, (_, (a, b)) in enumerate(texts)]
    found = tendances.tendances(2017, grille, actions)
    html = templates.get_template("jury/tendances.html.j2").render(
        account=None,
        csrf="",
        **tendances_page.context(
            grille,
            found,
            tendances_page.Options(),
            next_grille=following,
            citations=tendances.citations(found, following),
        ),
    )
    assert "La grille 2018 (version 2) répond à trois thèmes par les services qu’elle ajoute." in html
    cards = re.findall(r'<section class="carte theme".*?</section>', html, re.S)
    for card, theme in zip(cards, found.themes, strict=True):
        (code,) = re.findall(r'<li data-cite="(\w+)">', card)
        assert {a.submission_id for a in theme.actions} == {
            f"d{i}" for i, (written, _) in enumerate(texts) if written == code
        }

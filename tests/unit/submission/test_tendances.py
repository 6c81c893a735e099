"""Tendances de la grille: a 2017 campaign whose free text describes services that grille 2018 added."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from palmares_contracts import ChangeKind, ChangelogEntry, Grille
from palmares_submission import tendances
from palmares_submission.tendances import ActionText
from pydantic import ValidationError

from tests.factories import WRITTEN_IN_2017_ADDED_IN_2018

GRILLES = Path(__file__).resolve().parents[3] / "deploy" / "grilles"


def _grille(name: str) -> Grille:
    raw = json.loads((GRILLES / name).read_text(encoding="utf-8"))
    return Grille.model_validate({**raw, "version": raw.get("version", 1)})


NEW_IN_2018 = WRITTEN_IN_2017_ADDED_IN_2018
# Actions grille 2017 already describes, by a declared service or by its words.
DESCRIBED = [
    ("Portail open data", "Publication des jeux de données de la commune.", ("open_data_portail",)),
    ("Paiement en ligne", "La cantine est payable en ligne avec TIPI.", ()),
]


def _campaign() -> list[ActionText]:
    actions = []
    n = 0
    for texts in NEW_IN_2018.values():
        for title, description in texts:
            n += 1
            actions.append(ActionText(f"d{n}", f"Commune {n}", "village" if n % 2 else "ville", title, description, ()))
    for title, description, services in DESCRIBED:
        n += 1
        actions.append(ActionText(f"d{n}", f"Commune {n}", "ville", title, description, services))
    return actions


def test_services_added_in_2018_come_out_as_themes_of_the_2017_campaign() -> None:
    g2017, g2018 = _grille("grille-2017.json"), _grille("grille-2018.json")
    found = tendances.tendances(2017, g2017, _campaign())
    assert found.dossiers == 9 and found.actions == 9
    assert found.undescribed == 7  # the two DESCRIBED actions are not in any theme
    by_service: dict[str, tendances.Theme] = {}
    services_2018 = tendances.service_keys(g2018)
    for theme in found.themes:
        # The grille that followed describes every action of the theme with one added service.
        described = {code for a in theme.actions for code in tendances.described_by(a.text, services_2018)}
        added = described & set(NEW_IN_2018)
        assert len(added) == 1, (theme.label, described)
        by_service[added.pop()] = theme
    assert set(by_service) == set(NEW_IN_2018)
    chatbot = by_service["chatbot_municipal"]
    assert chatbot.label == "chatbot" and chatbot.dossiers == 3 and chatbot.share_of_dossiers == round(3 / 9, 4)
    assert chatbot.categories == {"village": 2, "ville": 1}
    assert by_service["lutte_desinformation"].label == "désinformation"
    assert by_service["ecoconception_services"].key == ("ecoconception",)
    # Grille 2017 services that nobody declared (here, all but the open data portal).
    assert len(found.undeclared_services) == len(g2017.services) - 1
    assert "open_data_portail" not in {code for code, _ in found.undeclared_services}


def test_the_2017_tendances_feed_the_changelog_of_grille_2018() -> None:
    g2017, g2018 = _grille("grille-2017.json"), _grille("grille-2018.json")
    campaign = _campaign()
    found = tendances.tendances(2017, g2017, campaign)
    cited = tendances.cite_themes(found, g2018)
    assert [e.model_copy(update={"theme": None}) for e in cited] == list(g2018.changelog)  # only themes added
    themes = {t.label: t for t in found.themes}
    by_code = {e.service_code: e for e in cited if e.theme is not None}
    assert set(by_code) == set(NEW_IN_2018)
    for code, entry in by_code.items():
        assert entry.change is ChangeKind.ADDED
        # The cited theme holds exactly the dossiers whose text describes that service.
        written = {a.submission_id for a in campaign if (a.title, a.description) in NEW_IN_2018[code]}
        assert {a.submission_id for a in themes[entry.theme].actions} == written
    # The other services grille 2018 added answer no theme of 2017 (nobody wrote about them).
    others = [e for e in cited if e.change is ChangeKind.ADDED and e.service_code not in NEW_IN_2018]
    assert others and all(e.theme is None for e in others)
    # The contract carries the citation (JSON round trip), on an added service only.
    entry = next(iter(by_code.values()))
    assert ChangelogEntry.model_validate_json(entry.model_dump_json()).theme == entry.theme
    with pytest.raises(ValidationError):
        ChangelogEntry(change=ChangeKind.REWORDED, service_code="site_internet", theme="chatbot")
    # What the API and the comité's page show beside each theme: the same citations, keyed by theme.
    cited_by = tendances.citations(found, g2018)
    assert {code: t for t in found.themes for code, _ in cited_by.get(t.key, [])} == {
        code: themes[entry.theme] for code, entry in by_code.items() if entry.theme is not None
    }
    assert all(label == g2018.service(code).label for pairs in cited_by.values() for code, label in pairs)


def test_lemmas_fold_accents_and_plurals() -> None:
    assert tendances.lemma("Rumeurs") == "rumeur"
    assert tendances.lemma("chatbots") == "chatbot"
    assert [k for k, _ in tendances.words("Les fausses informations de la commune")] == ["faux", "information"]
    assert tendances.words("Les fausses informations")[0] == ("faux", "fausses")


def test_a_word_in_a_single_dossier_makes_no_theme() -> None:
    lone = [ActionText("a", "A", "ville", "Hackathon", "", ()), ActionText("b", "B", "ville", "Jardin partagé", "", ())]
    assert tendances.themes(lone, 2) == []


def test_text_only_ignores_the_declared_services() -> None:
    declared = [
        ActionText("a", "A", "ville", "Médiathèques en réseau", "", ("espace_public_numerique",)),
        ActionText("b", "B", "ville", "Prêt à la médiathèque", "", ("espace_public_numerique",)),
    ]
    g2017 = _grille("grille-2017.json")
    assert tendances.tendances(2017, g2017, declared).themes == []
    (theme,) = tendances.tendances(2017, g2017, declared, text_only=True).themes
    assert (theme.key, theme.dossiers) == (("mediatheque",), 2)


def test_the_index_of_the_services_keys_finds_what_reading_every_key_finds() -> None:
    services = tendances.service_keys(_grille("grille-2018.json"))
    keys = tendances.index(services)
    texts = [f"{title}. {text}" for written in NEW_IN_2018.values() for title, text in written]
    texts += [f"{title}. {text}" for title, text, _ in DESCRIBED]
    texts.append("Les factures se paient avec TIPI ; un agent conversationnel (chatbot) répond aux usagers.")
    for text in texts:
        present = {k for k, _ in tendances.words(text)}
        every_key = [s.code for s in services if any(set(k) <= present for k in s.keys)]
        assert tendances.described_by(text, services, keys) == tendances.described_by(text, services) == every_key
    assert {"paiement_en_ligne", "chatbot_municipal"} <= set(tendances.described_by(texts[-1], services, keys))

"""The demo's dossier transformation: themes → services, extra fields stripped; its token file."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from palmares_cli.demo import (
    ACTION_FIELDS,
    UnknownServices,
    UnknownThemes,
    load_themes,
    load_tokens,
    prepare,
    same_grille,
    save_tokens,
    services_for,
    submission_body,
)
from palmares_cli.errors import OperationFailed
from palmares_contracts import Grille, GrilleBody
from palmares_submission import tendances
from palmares_submission.refdata import category_of, lookup_for_edition
from palmares_submission.tendances import ActionText

REPO = Path(__file__).resolve().parents[3]

ENTRY: dict[str, Any] = {
    "code": "25056",
    "name": "Besançon",
    "kind": "commune",
    "contact_email": "numerique@mairie-besancon.example",
    "expected": {"arobases_in_article": 5, "mentions_in_article": []},
    "comment": "resolved by name",
    "dossier": {
        "narrative": "La Ville de Besançon…",
        "actions": [
            {
                "title": "Guichet unique",
                "description": "Démarches et paiement.",
                "services": [],
                "themes": ["démarches en ligne", "paiement en ligne"],
                "url": "https://mairie-besancon.example/demarches",
                "started_on": "2014-03-01",
                "ended_on": None,
            },
            {
                "title": "Portail famille",
                "description": "Inscriptions.",
                "services": ["paiement_en_ligne"],
                "themes": ["portail famille", "paiement en ligne"],
                "url": "https://mairie-besancon.example/famille",
                "started_on": "2015-06-15",
                "ended_on": "2016-06-30",
                "note": "anything else the file may carry",
            },
        ],
    },
}

MAPPING = {
    "démarches en ligne": ["demarches_en_ligne", "etat_civil_en_ligne"],
    "paiement en ligne": ["paiement_en_ligne"],
    "portail famille": ["inscriptions_scolaires_en_ligne", "paiement_en_ligne"],
}


def test_body_keeps_only_the_api_fields() -> None:
    body = submission_body(ENTRY, MAPPING)
    assert set(body) == {"actions", "narrative", "contact_email"}
    assert body["contact_email"] == "numerique@mairie-besancon.example"
    for action in body["actions"]:
        assert set(action) <= set(ACTION_FIELDS)
        assert "themes" not in action and "note" not in action
    assert body["actions"][1]["ended_on"] == "2016-06-30"


def test_services_come_from_the_themes_in_order_without_repeats() -> None:
    body = submission_body(ENTRY, MAPPING)
    assert body["actions"][0]["services"] == ["demarches_en_ligne", "etat_civil_en_ligne", "paiement_en_ligne"]
    # Declared services stay first; the themes' codes follow, without repeating them.
    assert body["actions"][1]["services"] == ["paiement_en_ligne", "inscriptions_scolaires_en_ligne"]
    assert services_for(["portail famille", "paiement en ligne", "inconnu"], MAPPING) == [
        "inscriptions_scolaires_en_ligne",
        "paiement_en_ligne",
    ]


def test_the_input_is_not_modified() -> None:
    before = json.dumps(ENTRY, sort_keys=True)
    submission_body(ENTRY, MAPPING)
    assert json.dumps(ENTRY, sort_keys=True) == before


def test_unknown_themes_are_all_listed_before_anything_is_sent() -> None:
    campaign = {"edition": 2017, "collectivites": [ENTRY]}
    with pytest.raises(UnknownThemes) as caught:
        prepare(campaign, {"paiement en ligne": ["paiement_en_ligne"], "portail famille": []})
    message = caught.value.message
    assert "2 theme(s)" in message and "démarches en ligne" in message and "portail famille" in message
    assert "25056 « Guichet unique »: démarches en ligne" in message
    assert isinstance(caught.value, OperationFailed)


def test_codes_missing_from_the_grille_are_an_error(tmp_path: Path) -> None:
    grille = GrilleBody.model_validate(json.loads((REPO / "deploy/grilles/grille-2017.json").read_text()))
    campaign = {"edition": 2017, "collectivites": [ENTRY]}
    with pytest.raises(UnknownServices, match="no_such_code"):
        prepare(campaign, {**MAPPING, "paiement en ligne": ["no_such_code"]}, grille=grille)


def test_idempotency_key_is_stable_and_follows_the_content() -> None:
    campaign = {"edition": 2017, "collectivites": [ENTRY]}
    (first,) = prepare(campaign, MAPPING)
    (again,) = prepare(campaign, MAPPING)
    (changed,) = prepare(campaign, {**MAPPING, "paiement en ligne": ["paiement_cantine"]})
    assert first.idempotency_key(2017) == again.idempotency_key(2017)
    assert first.idempotency_key(2017).startswith("demo-2017-25056-")
    assert changed.idempotency_key(2017) != first.idempotency_key(2017)
    assert first.article_arobases == 5


def test_the_real_campaign_loads_with_the_real_mapping() -> None:
    campaign = json.loads((REPO / "deploy/demo/campaign-2017.json").read_text(encoding="utf-8"))
    grille = GrilleBody.model_validate(json.loads((REPO / "deploy/grilles/grille-2017.json").read_text()))
    entries = prepare(campaign, load_themes(REPO / "deploy/demo/themes.json"), grille=grille)
    assert len(entries) == 22
    # Every action but those describing what grille 2017 has no service for (the tendances' material).
    assert sum(1 for e in entries for a in e.body["actions"] if not a["services"]) == 8
    assert all(set(a) <= set(ACTION_FIELDS) for e in entries for a in e.body["actions"])


def _grille(name: str) -> Grille:
    raw = json.loads((REPO / "deploy/grilles" / name).read_text(encoding="utf-8"))
    return Grille.model_validate({**raw, "version": 1})


def test_the_demo_campaign_brings_out_tendances_that_grille_2018_answers() -> None:
    """What the comité's tendances page shows after `make run`: the dossiers as the demo sends them, each with
    the category the submission service gives it."""
    campaign = json.loads((REPO / "deploy/demo/campaign-2017.json").read_text(encoding="utf-8"))
    entries = prepare(campaign, load_themes(REPO / "deploy/demo/themes.json"))
    actions = [
        ActionText(
            e.code,
            e.name,
            category_of(ref),
            a["title"],
            a.get("description", ""),
            tuple(a["services"]),
        )
        for e in entries
        if (ref := lookup_for_edition(e.code, 2017)) is not None
        for a in e.body["actions"]
    ]
    assert len({a.submission_id for a in actions}) == 22
    found = tendances.tendances(2017, _grille("grille-2017.json"), actions)
    assert [(t.label, t.dossiers) for t in found.themes] == [
        ("voie électronique", 3),
        ("données personnelles", 3),
        ("franceconnect", 2),
    ]
    assert found.undescribed == sum(len(t.actions) for t in found.themes) == 8
    cited = {e.service_code: e.theme for e in tendances.cite_themes(found, _grille("grille-2018.json")) if e.theme}
    assert cited == {
        "saisine_voie_electronique": "voie électronique",
        "rgpd_dpo": "données personnelles",
        "franceconnect": "franceconnect",
    }


def test_same_grille_ignores_the_version() -> None:
    data = json.loads((REPO / "deploy/grilles/grille-2017.json").read_text())
    local = GrilleBody.model_validate(data)
    assert same_grille(local, {**data, "version": 3})
    assert not same_grille(local, {**data, "version": 3, "title": "autre"})
    assert not same_grille(local, {"version": 1})


def test_tokens_file_is_private_and_rewritten_atomically(tmp_path: Path) -> None:
    path = tmp_path / ".run" / "demo-tokens.json"
    path.parent.mkdir()
    path.write_text("{}")
    os.chmod(path, 0o644)  # a file left by someone else: the rewrite must tighten it
    save_tokens(path, {"edition": 2017, "collectivites": {"25056": {"token": "pal_secret"}}})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_tokens(path)["collectivites"]["25056"]["token"] == "pal_secret"
    assert [p.name for p in path.parent.iterdir()] == ["demo-tokens.json"]
    assert load_tokens(tmp_path / "absent.json") == {}


def test_themes_file_shape_is_checked(tmp_path: Path) -> None:
    bad = tmp_path / "themes.json"
    bad.write_text(json.dumps({"themes": {"wifi public": "wifi_public"}}))
    with pytest.raises(OperationFailed, match="expected"):
        load_themes(bad)

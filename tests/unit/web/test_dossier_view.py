"""What the dossier page tells of the mentions: evidence in words, the mentions just missed, the services to declare."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from palmares_label.french import NBSP
from palmares_submission import store
from palmares_submission.service.status_view import build_status_view
from palmares_submission.web import dossier_view

from tools.french import samples

SUBMITTED = datetime(2016, 11, 2, 13, 3, tzinfo=UTC)


def _status(mentions_payload: dict[str, Any] | None) -> Any:
    sub = store.SubmissionRow(
        submission_id=uuid4(),
        revision=1,
        edition=2017,
        collectivite_code="72181",
        submitted_at=SUBMITTED,
        palmares_published_at=None,
    )
    results = {}
    if mentions_payload is not None:
        results["mentions"] = store.ResultRow("mentions", 1, 1, json.dumps(mentions_payload))
    return build_status_view(sub, results, None, [])


def test_the_status_view_carries_the_mentions_missed_and_the_services_to_declare() -> None:
    view = _status(samples.MENTIONS | {"missed": [{"code": "teletravail", "label": "Télétravail", "lacking": "x"}]})
    assert view.mentions_missed == [{"code": "teletravail", "label": "Télétravail", "lacking": "x"}]
    assert view.suggestions is not None and [s["service_code"] for s in view.suggestions] == [
        "mediatheque_numerique",
        "lettre_information",
    ]
    older = _status({"mentions": []})  # an event written before the suggestions: none, not unknown
    assert older.mentions_missed == [] and older.suggestions == []
    pending = _status(None)
    assert pending.mentions_missed is None and pending.suggestions is None


def test_a_mention_held_is_not_told_as_missed_and_advice_without_words_is_not_shown() -> None:
    view = samples.dossier_view().model_copy(
        update={
            "mentions_missed": [
                {"code": "reseaux_sociaux", "label": "Réseaux sociaux", "lacking": "granted by the jury"},
                {"code": "teletravail", "label": "Télétravail", "lacking": "seule une intention a été trouvée"},
            ],
            "suggestions": [*samples.MENTIONS["suggestions"], {"action_title": "A", "service_code": "b"}],
        }
    )
    assert dossier_view.missed_mentions(view) == [
        {"label": "Télétravail", "lacking": "seule une intention a été trouvée"}
    ]
    assert [s["service"] for s in dossier_view.services_to_declare(view)] == [
        "Médiathèque numérique",
        "Lettre d’information électronique",
    ]


def test_the_page_names_the_collectivite_and_tells_the_evidence_in_words() -> None:
    html = samples.dossier_page()
    assert "Dossier 2017 du Mans" in html and "de Le Mans" not in html
    assert f"termes relevés&nbsp;: «{NBSP}jeux de données{NBSP}», «{NBSP}Licence Ouverte{NBSP}»" in html
    assert "service déclaré&nbsp;: Portail de données ouvertes (open data)" in html
    assert "open_data_portail" not in html, "services by their label, never their code"
    assert "Mention manquée de peu" in html and "seule une intention a été trouvée" in html
    assert "Services à déclarer" in html and "semble relever du service" in html
    assert f"Il manque 1,7{NBSP}point pour atteindre 4&nbsp;@." in html


def test_the_dashboard_shows_labels_imported_from_the_history_and_counts_in_words() -> None:
    # 2016 and 2015 come from the label's history, with no dossier here: the page used to fail on them.
    html = samples.dashboard_page()
    assert html.count("édition antérieure à Palmarès") == 2
    assert "Labels du Mans par édition" in html and "de Le Mans" not in html
    assert "une collectivité labellisée six&nbsp;fois à 5&nbsp;@" in html
    assert "<strong>Deux</strong> labels à 5&nbsp;@ sur les six demandés — encore quatre." in html

"""How the CLI prints the tendances and the observatoire."""

from __future__ import annotations

from palmares_cli.cmd_public import observatoire_lines, tendances_lines


def test_tendances_lines() -> None:
    found = {
        "edition": 2017,
        "grille_version": 2,
        "dossiers": 9,
        "actions": 20,
        "undescribed": 7,
        "themes": [
            {
                "label": "chatbot",
                "actions": 3,
                "dossiers": 3,
                "share_of_dossiers": 1 / 3,
                "categories": {"ville": 1, "village": 2},
                "examples": [{"title": "Notre chatbot", "collectivite": "Lormont"}],
                "cited_by": [{"code": "chatbot_municipal", "label": "Agent conversationnel"}],
            }
        ],
        "undeclared_services": [{"code": "fibre", "label": "Fibre"}],
    }
    assert tendances_lines(found) == [
        "Tendances 2017 (grille version 2): 7 of 20 actions in 9 dossiers match no service.",
        "1. « chatbot »: 3 actions, 3 dossiers (33.3 %); village 2, ville 1",
        "     - Notre chatbot (Lormont)",
        "     cited by grille 2018's added service chatbot_municipal: Agent conversationnel",
        "Services declared by no dossier: 1",
        "  fibre: Fibre",
    ]


BRETAGNE = {
    "label": "Bretagne",
    "collectivites": 1262,
    "participants": 3,
    "labelled": 2,
    "labelled_per_100": 0.1585,
    "mean_arobases": 3.5,
}


def test_observatoire_lines() -> None:
    row = BRETAGNE
    total = {**row, "label": "Ensemble", "mean_arobases": None}
    lines = observatoire_lines(
        {
            "edition": 2017,
            "by": "region",
            "rows": [row],
            "total": total,
            "largest_inequality": {"label": "Open data", "gini": 0.75},
        }
    )
    assert lines[2].split() == ["Bretagne", "1262", "3", "2", "0.16", "3.5", "—"]  # no coverage: older servers
    assert lines[3].split()[-1] == "—"
    assert lines[-1] == "Largest inequality across départements: Open data (Gini 0.750)"


def test_observatoire_lines_with_the_essentials_coverage() -> None:
    row = {**BRETAGNE, "key": "53"}
    total = {**row, "key": "total", "label": "Ensemble"}
    place = {"key": "53", "label": "Bretagne", "rate": 0.25, "applicable": 4}
    coverage = {
        "rows": [{"key": "53", "essentiels_rate": 0.5}],
        "total": {"key": "total", "essentiels_rate": 0.375},
        "essentiels": [{"label": "Zones blanches", "covered": 1, "applicable": 4, "rate": 0.25, "lowest": [place]}],
        "inequality": {"departements": 2, "gini": 0.5, "theil": 0.6931},
    }
    lines = observatoire_lines({"edition": 2018, "by": "region", "rows": [row], "total": total, "coverage": coverage})
    assert lines[2].split()[-2:] == ["50.0", "%"] and lines[3].split()[-2:] == ["37.5", "%"]
    assert lines[4] == (
        "Essential services, least available first (share of the participants they apply to; coverage 37.5 %, "
        "across 2 départements Gini 0.500, Theil 0.693):"
    )
    assert lines[5].split() == ["Zones", "blanches", "1", "of", "4", "25.0", "%", "lowest:", "Bretagne", "25.0", "%"]

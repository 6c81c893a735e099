"""The French check's parts that need no Java: the texts it collects, the project's own rule, the allowlist."""

from __future__ import annotations

from palmares_label.french import NBSP
from palmares_stack.languagetool import segments

from tools.french import check, texts


def test_the_texts_cover_letters_pages_and_api_errors() -> None:
    collected = texts.all_texts()
    assert {"email receipt-village: text", "email rectificatif-ville: html", "page palmares"} <= set(collected)
    api = {k: v for k, v in collected.items() if k.startswith("api ")}
    # A message given to ApiError, its placeholder filled, typeset as the response shows it.
    assert f"La campagne 2017 n’est pas ouverte{NBSP}: aucune grille n’est publiée." in api.values()
    # A field's message, after a field's name; its count agreed.
    assert f"Titre de l’action{NBSP}: texte trop court (au moins un caractère)." in api.values()
    assert "Territoire d’excellence numérique" in collected["email award-epci-jury-distinction: text"]


def test_html_is_read_as_a_reader_sees_it() -> None:
    shown, attributes = texts.visible(
        '<html><head><style>p{}</style><title>T</title></head><body><p>Votre action&nbsp;: <a href="x">lien</a></p>'
        '<img alt="Panneau « Ville »"><ul><li>Un</li><li>Deux</li></ul></body></html>'
    )
    assert shown == f"T\n\nVotre action{NBSP}: lien\n\nUn\n\nDeux"
    assert attributes == ["Panneau « Ville »"]


def test_identifiers_and_addresses_are_not_read_as_french() -> None:
    parts = segments(
        "Référence 6b1f3a52-7c0e-4d8e-9a43-2f0b0c6d2a17, voir https://palmares.example/a (champ actions.0.title)."
    )
    # The space before an identifier goes with it: LanguageTool reads « Référence, voir (champ). ».
    assert [p for p in parts if "markup" in p] == [
        {"markup": " 6b1f3a52-7c0e-4d8e-9a43-2f0b0c6d2a17"},
        {"markup": " https://palmares.example/a"},
        {"markup": " actions.0.title"},
    ]
    assert "".join(p.get("text", p.get("markup", "")) for p in parts).startswith("Référence 6b1f")
    read = "".join(
        p.get("text", "")
        for p in segments("Si l’adresse mairie@exemple.fr est la vôtre, par exemple mairie@exemple.fr.")
    )
    assert read == "Si l’adresse est la vôtre, par exemple."


def test_plurals_in_brackets_are_refused() -> None:
    found = check.project_findings({"t": "Il manque 1,2 point(s) et 2 mention(s)."})
    assert [f.found for f in found] == ["t(s)", "n(s)"]
    assert check.project_findings({"t": "Il manque 1,2 point (voir la grille)."}) == []


def test_every_allowlist_entry_says_why() -> None:
    entries = check.load_allowlist()
    assert 0 < len(entries) <= 20, "the allowlist stays short"
    assert all(len(entry.why) > 30 for entry in entries)

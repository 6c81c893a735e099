"""The jury's decision form, as the espace jury checks it before any command (no server)."""

from __future__ import annotations

import pytest
from palmares_submission.web.jury import MAX_COMMENT, DecisionForm, _form_errors


@pytest.mark.parametrize(
    ("arobases", "comment", "errors"),
    [
        ("4", "Très beau dossier.\r\n\tÀ suivre.", {}),
        ("6", "", {"arobases": "Choisissez de 1 à 5 le nombre d’arobases que le jury attribue."}),
        ("3", "x" * (MAX_COMMENT + 1), {"comment": f"Le commentaire tient en {MAX_COMMENT} caractères au plus."}),
        ("3", "Beau\x00dossier", {"comment": "Le commentaire contient des caractères de contrôle : retirez-les."}),
        ("3", "Beau\u2028dossier", {"comment": "Le commentaire contient des caractères de contrôle : retirez-les."}),
    ],
    ids=["valid, line breaks kept", "arobases out of range", "too long", "NUL", "line separator"],
)
def test_the_decision_form_names_what_is_wrong(arobases: str, comment: str, errors: dict[str, str]) -> None:
    assert _form_errors(DecisionForm(arobases, comment, frozenset())) == errors

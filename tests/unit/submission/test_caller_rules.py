"""Rules the routes used to hold: who signs a jury decision, who manages a collectivité's token (no server)."""

from __future__ import annotations

import pytest
from palmares_submission.auth import Principal
from palmares_submission.domain.errors import Invalid
from palmares_submission.domain.jury import signer


def test_a_jury_member_signs_with_their_own_name() -> None:
    assert signer("Mme Martin", "quelqu’un d’autre") == "Mme Martin"


def test_an_operator_names_who_decides() -> None:
    assert signer(None, "Le jury national") == "Le jury national"


def test_a_decision_nobody_signs_is_refused_on_its_field() -> None:
    with pytest.raises(Invalid) as refused:
        signer(None, None)
    assert refused.value.field == "decided_by"
    assert refused.value.message == "Indiquez qui décide (decided_by)."


@pytest.mark.parametrize(
    ("caller", "manages"),
    [
        (Principal(operator=True), True),
        (Principal(operator=False, code="49007"), True),
        (Principal(operator=False, code="49099"), False),
        # A jury member reads every dossier but manages no collectivité's token.
        (Principal(operator=False, jury="Mme Martin"), False),
    ],
)
def test_who_manages_the_token_of_49007(caller: Principal, manages: bool) -> None:
    assert caller.may_manage("49007") is manages

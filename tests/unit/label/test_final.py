"""What a dossier finally gets (`palmares_label.final`): the jury's word over the proposals, when it spoke."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from palmares_contracts import Mention
from palmares_label.final import final_arobases, final_mentions

ARO = st.integers(min_value=1, max_value=5)

OPEN_DATA = Mention(code="gouvernement_ouvert", label="Gouvernement ouvert")
TELETRAVAIL = Mention(code="teletravail", label="Télétravail")
ADDED = Mention(code="democratie_locale", label="Démocratie locale")


@given(pre=st.none() | ARO, jury=st.none() | ARO)
def test_the_jury_arobases_once_it_decided_else_the_pre_notation(pre: int | None, jury: int | None) -> None:
    final = final_arobases(pre, jury)
    if jury is not None:
        assert final == jury
    else:
        assert final == pre


def test_a_jury_that_lowers_or_confirms_is_followed() -> None:
    assert final_arobases(4, 2) == 2
    assert final_arobases(4, 4) == 4
    assert final_arobases(None, 3) == 3  # decided before the pré-notation was read
    assert final_arobases(None, None) is None  # not evaluated yet


def test_a_decision_on_the_arobases_alone_keeps_the_detected_mentions() -> None:
    assert final_mentions([OPEN_DATA, TELETRAVAIL], None) == (OPEN_DATA, TELETRAVAIL)


def test_the_jury_confirms_removes_and_adds_mentions() -> None:
    # confirmed OPEN_DATA, removed TELETRAVAIL, added ADDED (no evidence)
    assert final_mentions([OPEN_DATA, TELETRAVAIL], [OPEN_DATA, ADDED]) == (OPEN_DATA, ADDED)


def test_a_jury_that_removed_every_mention_grants_none() -> None:
    assert final_mentions([OPEN_DATA], []) == ()


def test_no_result_yet_no_mention() -> None:
    assert final_mentions(None, None) == ()
    assert final_mentions(None, [ADDED]) == (ADDED,)


def test_the_rule_takes_mentions_in_any_form() -> None:
    stored = [OPEN_DATA.model_dump(mode="json")]
    assert final_mentions(stored, None) == (stored[0],)
    assert final_mentions([m.code for m in (OPEN_DATA, TELETRAVAIL)], ["teletravail"]) == ("teletravail",)

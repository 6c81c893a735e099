"""The campaign's calendar: when a dossier may be deposited or revised, and what holds the palmarès back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from palmares_submission.calendar import Reopening, palmares_blocked_message, refusal, to_review_again

CLOSES = datetime(2017, 11, 30, 17, 0, tzinfo=UTC)  # 18 h in Paris (winter time)
BEFORE = CLOSES - timedelta(seconds=1)
AFTER = CLOSES + timedelta(days=3)


def test_a_grille_without_closing_instant_keeps_the_campaign_open() -> None:
    assert refusal(2018, None, AFTER, None) is None


def test_before_the_closing_instant_dossiers_are_accepted() -> None:
    assert refusal(2018, CLOSES, BEFORE, None) is None


def test_at_and_after_the_closing_instant_the_refusal_gives_the_date_in_paris_time() -> None:
    for now in (CLOSES, AFTER):
        message = refusal(2018, CLOSES, now, None)
        assert message is not None
        assert message.startswith("La campagne 2018 est close depuis le 30 novembre 2017 à 18 h (heure de Paris)")


def test_summer_time_is_paris_time_too() -> None:
    message = refusal(2019, datetime(2018, 6, 30, 21, 59, tzinfo=UTC), AFTER.replace(year=2018, month=7), None)
    assert message is not None and "30 juin 2018 à 23 h 59" in message


def test_a_reopened_dossier_may_be_revised_until_its_term() -> None:
    until = AFTER + timedelta(days=1)
    reopened = Reopening(reopened_at=AFTER, until=until)
    assert refusal(2018, CLOSES, AFTER, reopened) is None
    assert refusal(2018, CLOSES, until - timedelta(seconds=1), reopened) is None
    assert refusal(2018, CLOSES, until, reopened) is not None  # the term is excluded


def test_a_dossier_reopened_without_term_stays_open_until_the_palmares() -> None:
    assert refusal(2018, CLOSES, AFTER + timedelta(days=365), Reopening(reopened_at=AFTER, until=None)) is None


def test_a_decision_on_an_older_revision_is_to_review_again() -> None:
    assert to_review_again(1, 2)
    assert not to_review_again(2, 2)
    assert to_review_again(None, 2)  # recorded before decisions named their revision
    assert not to_review_again(None, 0)


def test_the_palmares_waits_for_decisions_to_review_again() -> None:
    assert palmares_blocked_message(2018, 0) is None
    one = palmares_blocked_message(2018, 1)
    assert one is not None and "une décision du jury est «\u00a0à revoir\u00a0»" in one and "la confirmer" in one
    two = palmares_blocked_message(2018, 2)
    assert two is not None and "deux décisions du jury sont" in two and "les confirmer" in two

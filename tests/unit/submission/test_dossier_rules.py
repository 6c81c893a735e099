"""A dossier's rules without a server: revision numbering, checks against the grille, the category's revision."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from palmares_contracts import Category
from palmares_submission.domain import campaign, dossier
from palmares_submission.domain.dossier import Revision
from palmares_submission.domain.errors import Conflict, Invalid

from tests.factories import action, collectivite, grille, submission

AT = datetime(2017, 1, 10, 9, 30, tzinfo=UTC)


def test_a_first_submission_opens_a_new_dossier_at_revision_1() -> None:
    first, other = dossier.next_revision(None), dossier.next_revision(None)
    assert (first.revision, other.revision) == (1, 1)
    assert first.submission_id != other.submission_id


def test_a_revision_keeps_the_dossier_and_counts_on() -> None:
    current = dossier.next_revision(None)
    assert dossier.next_revision(Revision(current.submission_id, 3)) == Revision(current.submission_id, 4)


def test_every_service_of_the_dossier_is_the_grilles() -> None:
    dossier.check_services([action(), action(services=("etat_civil_en_ligne", "portail_open_data"))], grille())
    with pytest.raises(Invalid) as refused:
        dossier.check_services([action(), action(services=("portail_open_data", "teleportation"))], grille())
    assert refused.value.field == "actions.1.services.1"
    assert refused.value.message == "Service « teleportation » inconnu de la grille 2017 (version 1)."


@pytest.mark.parametrize(
    ("started_on", "ended_on", "field"),
    [
        (date(2017, 11, 30), None, None),  # on the deadline + 1 year: accepted
        (date(2017, 12, 1), None, "actions.0.started_on"),
        (date(2010, 1, 1), date(2026, 11, 30), None),  # deadline + 10 years
        (date(2010, 1, 1), date(2026, 12, 1), "actions.0.ended_on"),
    ],
)
def test_dates_are_plausible_against_the_dossier_deadline(started_on: date, ended_on: date | None, field: str) -> None:
    # Edition 2017: deadline 30 November 2016 by default.
    actions = [action(started_on=started_on, ended_on=ended_on)]
    if field is None:
        dossier.check_dates(actions, grille())
        return
    with pytest.raises(Invalid) as refused:
        dossier.check_dates(actions, grille())
    assert refused.value.field == field


def test_the_grilles_own_deadline_moves_the_date_checks() -> None:
    late = [action(started_on=date(2018, 3, 1))]
    with pytest.raises(Invalid, match="30/11/2017"):
        dossier.check_dates(late, grille())
    dossier.check_dates(late, grille(deadline=date(2017, 12, 31)))


def test_the_received_event_carries_the_revision_and_the_content() -> None:
    revision = Revision(dossier.next_revision(None).submission_id, 2)
    event = dossier.received(
        revision, edition=2017, collectivite=collectivite(), actions=[action()], narrative="Texte", at=AT
    )
    assert (event.submission_id, event.revision, event.edition, event.submitted_at) == (
        revision.submission_id,
        2,
        2017,
        AT,
    )
    assert event.actions == (action(),)


def test_a_new_category_makes_the_next_revision_with_the_same_content() -> None:
    current = submission(revision=2)
    moved = dossier.recategorized(current, collectivite(category=Category.TERRITOIRE), AT)
    assert moved is not None
    assert (moved.submission_id, moved.revision, moved.submitted_at) == (current.submission_id, 3, AT)
    assert moved.collectivite.category == Category.TERRITOIRE
    assert (moved.actions, moved.narrative) == (current.actions, current.narrative)
    assert moved.event_id != current.event_id


def test_the_same_category_makes_no_revision() -> None:
    assert dossier.recategorized(submission(), collectivite(), AT) is None


def test_a_campaign_takes_dossiers_from_its_grille_to_its_palmares() -> None:
    with pytest.raises(Conflict, match="aucune grille"):
        campaign.check_open_for_dossiers(2017, None)
    with pytest.raises(Conflict, match="close"):
        campaign.check_open_for_dossiers(2017, campaign.Edition(2017, 2, AT))
    assert campaign.check_open_for_dossiers(2017, campaign.Edition(2017, 2, None)).grille_version == 2


def test_grille_versions_count_from_1_until_the_palmares() -> None:
    assert campaign.check_grille_may_change(2017, None) == 1
    assert campaign.check_grille_may_change(2017, campaign.Edition(2017, 3, None)) == 4
    with pytest.raises(Conflict, match="ne peut plus changer"):
        campaign.check_grille_may_change(2017, campaign.Edition(2017, 3, AT))


def test_a_grille_is_published_under_its_own_edition() -> None:
    campaign.check_grille_edition(2017, 2017)
    with pytest.raises(Invalid) as refused:
        campaign.check_grille_edition(2018, 2017)
    assert refused.value.field == "edition"


def test_the_palmares_is_published_once_and_after_the_grille() -> None:
    with pytest.raises(Conflict, match="Aucune grille"):
        campaign.check_palmares_publishable(2017, None)
    with pytest.raises(Conflict, match="déjà publié"):
        campaign.check_palmares_publishable(2017, campaign.Edition(2017, 1, AT))
    assert campaign.check_palmares_publishable(2017, campaign.Edition(2017, 1, None)).grille_version == 1


def test_categories_and_reopenings_change_until_the_palmares() -> None:
    campaign.check_category_may_change(2017, None)
    campaign.check_category_may_change(2017, campaign.Edition(2017, 1, None))
    with pytest.raises(Conflict):
        campaign.check_category_may_change(2017, campaign.Edition(2017, 1, AT))
    with pytest.raises(Conflict, match="pas ouverte"):
        campaign.check_reopenable(2017, None)
    with pytest.raises(Conflict, match="ne se rouvrent plus"):
        campaign.check_reopenable(2017, campaign.Edition(2017, 1, AT))


def test_history_is_imported_for_editions_published_elsewhere_only() -> None:
    campaign.check_history_importable({2017}, [2015, 2016])
    with pytest.raises(Conflict) as refused:
        campaign.check_history_importable({2017}, [2016, 2017])
    assert refused.value.field == "entries.1.edition"

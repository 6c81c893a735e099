"""The pré-notation: formula, 2-year rule, applicability, explanation."""

from __future__ import annotations

from datetime import date

from palmares_contracts import Category
from palmares_scoring.domain import score_dossier

from tests.factories import action, grille


def test_score_is_the_weighted_share_of_applicable_services() -> None:
    g = grille()
    # Ville: every service applies, total weight 15; open data (3) + état civil (3) = 6 → 40 %.
    result = score_dossier(
        [action(services=("portail_open_data",)), action(services=("etat_civil_en_ligne",))], Category.VILLE, g
    )
    assert result.score == 40.0
    assert result.arobases == 3
    assert result.covered == {"portail_open_data", "etat_civil_en_ligne"}


def test_a_service_that_does_not_apply_neither_helps_nor_hurts() -> None:
    g = grille()
    # Village: gestion_flux_urbains does not apply; total weight 13.
    base = score_dossier([action(services=("portail_open_data",))], Category.VILLAGE, g)
    with_flux = score_dossier(
        [action(services=("portail_open_data",)), action(title="Capteurs", services=("gestion_flux_urbains",))],
        Category.VILLAGE,
        g,
    )
    assert base.score == with_flux.score == round(100 * 3 / 13, 1)
    assert with_flux.ignored_actions[0].title == "Capteurs"
    # French for the collectivité: the category's members and the services' labels, no codes.
    assert with_flux.ignored_actions[0].reason == (
        "services qui ne s’appliquent pas aux villages\u00a0: «\u00a0Gestion des flux urbains\u00a0»"
    )


def test_every_participant_gets_at_least_one_arobase() -> None:
    result = score_dossier([action(services=())], Category.VILLE, grille())
    assert result.score == 0
    assert result.arobases == 1
    assert result.ignored_actions[0].reason.startswith("aucun service")


def test_two_year_rule_at_the_deadline() -> None:
    g = grille()  # deadline 30/11/2016
    old = action(title="Ancien site", started_on=date(2012, 1, 1), ended_on=date(2016, 11, 29))
    ended_on_deadline = action(title="Fin à la date limite", started_on=date(2012, 1, 1), ended_on=date(2016, 11, 30))
    recent = action(title="Site récent", started_on=date(2014, 12, 1), ended_on=date(2015, 6, 30))
    running = action(title="Toujours actif", started_on=date(2010, 1, 1), ended_on=None)
    future = action(title="Après la date limite", started_on=date(2016, 12, 1))
    result = score_dossier([old, ended_on_deadline, recent, running, future], Category.VILLE, g)
    ignored = {i.title: i.reason for i in result.ignored_actions}
    assert set(ignored) == {"Ancien site", "Après la date limite"}
    assert ignored["Ancien site"] == (
        "action commencée le 01/01/2012, plus de deux ans avant la date limite du dossier (30/11/2016), "
        "et terminée le 29/11/2016, avant cette date"
    )
    assert ignored["Après la date limite"] == (
        "action commencée le 01/12/2016, après la date limite du dossier (30/11/2016)"
    )


def test_an_action_that_ended_recently_but_started_long_ago_does_not_count() -> None:
    # Regression: the rule counted any action that *ended* less than two years before the
    # deadline, so an action run from 2012 to 2015 still counted for the 2017 edition.
    result = score_dossier(
        [action(title="Site 2012–2015", started_on=date(2012, 1, 1), ended_on=date(2015, 12, 31))],
        Category.VILLE,
        grille(),
    )
    assert result.covered == frozenset()
    assert "plus de deux ans avant la date limite" in result.ignored_actions[0].reason


def test_unknown_service_codes_are_explained() -> None:
    result = score_dossier([action(title="Inconnu", services=("retire_en_2018",))], Category.VILLE, grille())
    assert result.ignored_actions[0].reason == (
        "services inconnus de la grille 2017 (version 1)\u00a0: «\u00a0retire_en_2018\u00a0»"
    )


def test_next_level_suggests_the_heaviest_missing_services() -> None:
    result = score_dossier([action(services=("portail_open_data",))], Category.VILLE, grille())
    # 3/15 = 20 % → 2 @; 3 @ needs 40: 20 points missing = 3 weight units of 15.
    assert result.arobases == 2
    assert result.next_level is not None
    assert result.next_level.target_arobases == 3
    assert result.next_level.points_missing == 20.0
    assert result.next_level.suggested_services == ("espace_public_numerique",)


def test_no_next_level_at_five_arobases() -> None:
    g = grille()
    everything = [action(title=s.code, services=(s.code,)) for s in g.services]
    result = score_dossier(everything, Category.VILLE, g)
    assert (result.score, result.arobases, result.next_level) == (100.0, 5, None)


def test_coverage_per_enjeu() -> None:
    result = score_dossier([action(services=("portail_open_data",))], Category.VILLE, grille())
    coverage = {e.code: e.coverage for e in result.enjeux}
    assert coverage == {"services_publics": 0.0, "democratie_locale": 0.6, "solidarites": 0.0}

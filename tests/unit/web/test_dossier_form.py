"""The dossier form without JavaScript (pure): fields ⇄ submission body, errors back to their field."""

from __future__ import annotations

from datetime import date

from palmares_contracts import Action, Collectivite, SubmissionReceived
from palmares_submission.web.dossier_form import ActionForm, DossierForm, field_id, services_for, validate
from starlette.datastructures import MultiDict

from tests.factories import grille


def test_a_posted_form_becomes_the_apis_submission_and_blank_blocks_are_left_out() -> None:
    form = DossierForm.parse(
        MultiDict(
            [
                ("actions", "3"),
                ("actions-0-title", " Portail citoyen "),
                ("actions-0-started_on", "2016-03-01"),
                ("actions-0-services", "portail_open_data"),
                ("actions-0-services", "espace_public_numerique"),
                ("actions-2-title", "Wifi public"),
                ("actions-2-started_on", "2016-05-01"),
                ("narrative", "Notre démarche."),
            ]
        )
    )
    request, errors = validate(form)
    assert errors == {} and request is not None
    assert [a.title for a in request.actions] == ["Portail citoyen", "Wifi public"]
    assert request.actions[0].services == ["portail_open_data", "espace_public_numerique"]
    assert request.actions[1].started_on == date(2016, 5, 1)
    # An error on the second action sent belongs to the third block of the form.
    assert field_id(form, "actions.1.started_on") == "actions-2-started_on"


def test_errors_are_french_beside_their_field_and_what_was_typed_stays() -> None:
    form = DossierForm.parse(
        MultiDict(
            [
                ("actions", "2"),
                ("actions-0-title", "Portail"),
                ("actions-0-started_on", ""),
                ("actions-1-title", "Site"),
                ("actions-1-started_on", "2016-01-01"),
                ("actions-1-ended_on", "2015-01-01"),
                ("actions-1-url", "ftp://exemple.fr"),
            ]
        )
    )
    request, errors = validate(form)
    assert request is None
    assert errors["actions-0-started_on"] == "Action 1, la date de début\u00a0: à renseigner."
    assert errors["actions-1-url"].startswith("Action 2, l’adresse web\u00a0: ")
    assert form.actions[1].url == "ftp://exemple.fr" and form.actions[0].title == "Portail"
    nothing, errors = validate(DossierForm())
    assert nothing is None and "au moins une action" in errors["actions-0-title"]


def test_adding_and_removing_an_action_keeps_the_others() -> None:
    added = DossierForm.parse(MultiDict([("actions", "1"), ("actions-0-title", "A"), ("ajouter", "1")]))
    assert [a.title for a in added.actions] == ["A", ""]
    removed = DossierForm.parse(
        MultiDict([("actions", "2"), ("actions-0-title", "A"), ("actions-1-title", "B"), ("retirer", "0")])
    )
    assert [a.title for a in removed.actions] == ["B"]


def test_revising_starts_from_the_current_revision() -> None:
    current = SubmissionReceived(
        submission_id="00000000-0000-4000-8000-000000000001",
        revision=2,
        edition=2018,
        collectivite=Collectivite(
            code="49007", kind="commune", name="Angers", population=150000, departement="49",
            contact_email="m@angers.example", category="ville",
        ),
        actions=(Action(title="Portail", services=("portail_open_data",), started_on=date(2016, 1, 2)),),
        narrative="Récit",
        submitted_at="2017-10-01T10:00:00+00:00",
    )  # fmt: skip
    form = DossierForm.of(current)
    assert form.actions == [ActionForm(title="Portail", started_on="2016-01-02", services=["portail_open_data"])]
    assert form.narrative == "Récit"


def test_the_picker_lists_the_services_of_the_collectivites_category_by_enjeu() -> None:
    g = grille(edition=2018)
    groups = services_for(g, "village")
    listed = {code for _, members in groups for code, _, _ in members}
    assert listed == {s.code for s in g.services if "village" in {c.value for c in s.applies_to}}
    assert all(members for _, members in groups)


def test_an_action_kept_out_of_the_catalogue() -> None:
    form = DossierForm.parse(
        MultiDict(
            [
                ("actions", "2"),
                ("actions-0-title", "Portail citoyen"),
                ("actions-0-started_on", "2016-03-01"),
                ("actions-1-title", "Brouillon"),
                ("actions-1-started_on", "2016-05-01"),
                ("actions-1-hors_catalogue", "1"),
            ]
        )
    )
    request, errors = validate(form)
    assert errors == {} and request is not None
    assert [a.catalogue for a in request.actions] == [True, False]  # published unless the box is ticked
    current = SubmissionReceived(
        submission_id="00000000-0000-4000-8000-000000000001",
        revision=1,
        edition=2018,
        collectivite=Collectivite(
            code="49007", kind="commune", name="Angers", population=150000, departement="49",
            contact_email="m@angers.example", category="ville",
        ),
        actions=tuple(Action(title=t, started_on=date(2016, 1, 2)) for t in ("Portail", "Brouillon")),
        submitted_at="2017-10-01T10:00:00+00:00",
    )  # fmt: skip
    assert [a.withheld for a in DossierForm.of(current, frozenset({1})).actions] == [False, True]

"""Sample events and grilles for tests (one place, so every test builds them the same way)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

from palmares_contracts import (
    Action,
    Category,
    Ceremony,
    Collectivite,
    CollectiviteKind,
    EnjeuCoverage,
    Event,
    Evidence,
    Grille,
    GrillePublished,
    IgnoredAction,
    JuryDecided,
    Mention,
    MentionsDetected,
    NextLevel,
    NotificationFailed,
    NotificationKind,
    NotificationSent,
    PalmaresPublished,
    ServiceSuggestion,
    SubmissionReceived,
    SubmissionScored,
)

SUBMITTED_AT = datetime(2016, 11, 20, 10, 30, tzinfo=UTC)

# What collectivités wrote in 2017, in their words, about services that grille 2018 then added
# (deploy/grilles/grille-2018.json, « added » entries): the tendances de la grille of 2017 find them.
WRITTEN_IN_2017_ADDED_IN_2018: dict[str, list[tuple[str, str]]] = {
    "chatbot_municipal": [
        ("Un chatbot sur le site de la mairie", "Le chatbot répond jour et nuit aux questions des familles."),
        ("Chatbot des déchets", "Un chatbot indique les jours de collecte."),
        ("Notre chatbot", "Expérimentation d’un chatbot avec les agents d’accueil."),
    ],
    "lutte_desinformation": [
        (
            "Contre la désinformation",
            "Lutte contre les rumeurs : une page « on vous répond » dément la désinformation.",
        ),
        ("Désinformation", "Atelier de lutte contre la désinformation et les rumeurs avec les collégiens."),
    ],
    "ecoconception_services": [
        ("Sobriété du site", "Écoconception du nouveau site : pages légères, moins de vidéos."),
        ("Écoconception", "Nos formulaires suivent une démarche d’écoconception."),
    ],
}


def grille(edition: int = 2017, version: int = 1, **overrides: Any) -> Grille:
    """A small, valid grille: 2 categories, 3 enjeux, 6 services, 2 mentions."""
    body: dict[str, Any] = {
        "edition": edition,
        "version": version,
        "title": f"Grille {edition}",
        "categories": [
            {"code": "democratie", "label": "Démocratie et services publics"},
            {"code": "vivre_ensemble", "label": "Vivre ensemble"},
        ],
        "enjeux": [
            {"code": "services_publics", "label": "Services publics", "category": "democratie"},
            {"code": "democratie_locale", "label": "Démocratie locale", "category": "democratie"},
            {"code": "solidarites", "label": "Solidarités", "category": "vivre_ensemble"},
        ],
        "services": [
            {
                "code": "etat_civil_en_ligne",
                "label": "État civil en ligne",
                "enjeu": "services_publics",
                "weight": 3,
                "essentiel": True,
            },
            {
                "code": "paiement_cantine",
                "label": "Paiement en ligne de la cantine",
                "enjeu": "services_publics",
                "weight": 2,
            },
            {"code": "portail_open_data", "label": "Portail open data", "enjeu": "democratie_locale", "weight": 3},
            {
                "code": "conseil_en_direct",
                "label": "Conseil municipal en direct",
                "enjeu": "democratie_locale",
                "weight": 2,
            },
            {
                "code": "espace_public_numerique",
                "label": "Espace public numérique",
                "enjeu": "solidarites",
                "weight": 3,
            },
            {
                "code": "gestion_flux_urbains",
                "label": "Gestion des flux urbains",
                "enjeu": "services_publics",
                "weight": 2,
                "applies_to": ["ville", "territoire"],
                "essentiel": True,
            },
        ],
        "thresholds": [
            {"arobases": 1, "min_score": 0},
            {"arobases": 2, "min_score": 20},
            {"arobases": 3, "min_score": 40},
            {"arobases": 4, "min_score": 60},
            {"arobases": 5, "min_score": 80},
        ],
        "mentions": [
            {
                "code": "gouvernement_ouvert",
                "label": "Gouvernement ouvert",
                "service_codes": ["portail_open_data"],
                "sufficient_services": ["portail_open_data"],
                "terms": ["données ouvertes", "open data", "data.gouv.fr"],
                "exclusions": ["ouvert le samedi"],
            },
            {
                "code": "reseaux_sociaux",
                "label": "Réseaux sociaux",
                "terms": ["facebook", "twitter", "réseau social local"],
                "exclusions": ["réseau d'eau", "réseau de chaleur"],
            },
        ],
    }
    body.update(overrides)
    return Grille.model_validate(body)


def grille_body(edition: int = 2017, **overrides: Any) -> dict[str, Any]:
    """What an operator PUTs to publish `grille(edition)`: its JSON without the version (the service assigns it)."""
    return grille(edition=edition, **overrides).model_dump(mode="json", exclude={"version"})


def collectivite(**overrides: Any) -> Collectivite:
    data: dict[str, Any] = {
        "code": "49007",
        "kind": CollectiviteKind.COMMUNE,
        "name": "Angers",
        "population": 159_022,
        "departement": "49",
        "contact_email": "numerique@mairie-angers.example",
        "category": Category.VILLE,
    }
    data.update(overrides)
    return Collectivite(**data)


def action(
    title: str = "Portail de données ouvertes", services: tuple[str, ...] = ("portail_open_data",), **kw: Any
) -> Action:
    data: dict[str, Any] = {
        "title": title,
        "description": "Publication des jeux de données de la ville.",
        "services": services,
        "started_on": date(2016, 1, 15),
    }
    data.update(kw)
    return Action(**data)


def submission(
    *, revision: int = 1, submission_id: UUID | None = None, actions: tuple[Action, ...] | None = None, **kw: Any
) -> SubmissionReceived:
    return SubmissionReceived(
        submission_id=submission_id or uuid4(),
        revision=revision,
        edition=kw.pop("edition", 2017),
        collectivite=kw.pop("collectivite", collectivite()),
        actions=actions or (action(),),
        narrative=kw.pop("narrative", "Notre ville publie ses données ouvertes."),
        submitted_at=SUBMITTED_AT,
        **kw,
    )


def results(
    dossier: SubmissionReceived, *, arobases: int = 2, mentions: tuple[Mention, ...] = (), grille_version: int = 1
) -> tuple[SubmissionScored, MentionsDetected]:
    """The score and the mentions of a dossier's revision (a ville's, in Angers by default)."""
    common: dict[str, Any] = {
        "submission_id": dossier.submission_id,
        "revision": dossier.revision,
        "edition": dossier.edition,
        "collectivite_code": dossier.collectivite.code,
        "grille_version": grille_version,
    }
    return (
        SubmissionScored(**common, score=20.0, arobases=arobases, category=Category.VILLE),
        MentionsDetected(**common, mentions=mentions),
    )


def one_of_each() -> list[Event]:
    """One event of every type of the registry."""
    sub = submission()
    g = grille()
    sid = sub.submission_id
    email = {
        "collectivite_code": "49007",
        "edition": 2017,
        "to": "numerique@mairie-angers.example",
        "message_id": "<x@y>",
    }
    return [
        GrillePublished(edition=2017, version=1, grille=g),
        sub,
        SubmissionScored(
            submission_id=sid,
            revision=1,
            edition=2017,
            collectivite_code="49007",
            grille_version=1,
            score=42.5,
            arobases=3,
            category=Category.VILLE,
            enjeux=(
                EnjeuCoverage(
                    code="services_publics", label="Services publics", coverage=0.5, services=("etat_civil_en_ligne",)
                ),
            ),
            next_level=NextLevel(target_arobases=4, points_missing=17.5, suggested_services=("paiement_cantine",)),
            ignored_actions=(IgnoredAction(title="Vieux site", reason="action terminée depuis plus de deux ans"),),
        ),
        MentionsDetected(
            submission_id=sid,
            revision=1,
            edition=2017,
            collectivite_code="49007",
            grille_version=1,
            mentions=(
                Mention(
                    code="gouvernement_ouvert",
                    label="Gouvernement ouvert",
                    evidence=(
                        Evidence(
                            action_title="Portail", snippet="données ouvertes", matched_terms=("données ouvertes",)
                        ),
                    ),
                ),
            ),
            suggestions=(
                ServiceSuggestion(
                    action_title="Portail",
                    service_code="conseil_en_direct",
                    service_label="Conseil municipal en direct",
                    matched_terms=("conseil municipal en direct",),
                    snippet="le conseil municipal en direct",
                    message="Votre action « Portail » semble relever du service « Conseil municipal en direct » : déclarez-le.",
                ),
            ),
        ),
        JuryDecided(
            submission_id=sid,
            edition=2017,
            collectivite_code="49007",
            arobases=4,
            comment="Très bon dossier",
            decided_by="Jury 2017",
        ),
        PalmaresPublished(
            edition=2017,
            published_at=datetime(2017, 2, 1, 18, tzinfo=UTC),
            ceremony=Ceremony(place="Lille", date=date(2017, 2, 1)),
        ),
        NotificationSent(
            notification_id=uuid4(), kind=NotificationKind.RECEIPT, **email, submission_id=sid, revision=1
        ),
        NotificationFailed(notification_id=uuid4(), kind=NotificationKind.AWARD, **email, reason="550 unknown user"),
    ]

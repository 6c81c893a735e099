"""Sample letters and pages, rendered by the services' own code on sample data (pure).

The samples cover what changes a text: each kind of collectivité (a village,
a ville whose name has an article, an EPCI), the jury or the pré-notation, a
mention told by a declared service or by the text, one or several, no
mention, the advice (the next arobase, one or several services to declare), a distinction, a second revision,
the rectificatif.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any, Protocol
from uuid import UUID

from palmares_contracts import Action, Category, Evidence, Grille
from palmares_label.french import typeset
from palmares_mentions.cues import Reason
from palmares_mentions.messages import Findings, Quote, lacking, suggestion
from palmares_notify import render
from palmares_notify.mime import Letter
from palmares_scoring.domain import action_ignored_because, inapplicable_services, unknown_services
from palmares_submission import (
    catalogue_api,
    observatoire,
    observatoire_api,
    observatoire_coverage,
    observatoire_store,
    palmares,
    public_pages,
    refdata,
    store,
    tendances,
    worklist,
)
from palmares_submission.distinctions import EXCELLENCE, EXCELLENCE_SINCE, excellence_progress
from palmares_submission.domain import accounts
from palmares_submission.schemas import Explanation, PalmaresEntry, PalmaresView, StatusView
from palmares_submission.web import collectivite, dossier_form, jury, mailer, page_store, tendances_page
from palmares_submission.web import dossier_view as shown
from palmares_submission.web.context import templates

from tools.repository import repository_root

SENDER = render.Sender()
SUBMITTED = datetime(2016, 11, 2, 13, 3, tzinfo=UTC)
PUBLISHED = datetime(2017, 2, 1, 17, 30, tzinfo=UTC)
CEREMONY = {"place": "Lille", "date": "2017-02-01"}

FREHEL = {"code": "22179", "kind": "commune", "name": "Fréhel", "category": "village"}
LE_MANS = {"code": "72181", "kind": "commune", "name": "Le Mans", "category": "ville"}
AGEN = {"code": "47001", "kind": "commune", "name": "Agen", "category": "ville"}
PARTHENAY = {
    "code": "200041333",
    "kind": "epci",
    "name": "CC de Parthenay-Gâtine",
    "category": "territoire",
    "epci_type": "CC",
}
RIVIERA = {
    "code": "200041507",
    "kind": "epci",
    "name": "CA La Riviéra du Levant",
    "category": "territoire",
    "epci_type": "CA",
}

SERVICE_LABELS = {
    "conseil_internet_citoyen": "Conseil local de l’internet citoyen",
    "open_data_portail": "Portail de données ouvertes",
    "teletravail_agents": "Télétravail des agents",
    "tiers_lieu_coworking": "Tiers-lieu et espace de coworking",
    "paiement_en_ligne": "Paiement en ligne des factures de la collectivité (TIPI, PayFiP)",
    "budget_participatif": "Budget participatif en ligne",
}
MENTIONS: dict[str, Any] = {
    "mentions": [
        {
            "code": "democratie_locale",
            "label": "Démocratie locale",
            "evidence": [
                {"action_title": "Conseil local de l’internet citoyen", "service_codes": ["conseil_internet_citoyen"]}
            ],
        },
        {
            "code": "gouvernement_ouvert",
            "label": "Gouvernement ouvert",
            "evidence": [
                {"action_title": "Données du budget en clair", "matched_terms": ["open data"]},
                {"action_title": "Ouverture des données publiques", "service_codes": ["open_data_portail"]},
            ],
        },
        {
            "code": "teletravail",
            "label": "Télétravail",
            "evidence": [
                {"action_title": "Espace de coworking de la gare", "matched_terms": ["coworking", "télétravail"]}
            ],
        },
        {
            "code": "reseaux_sociaux",
            "label": "Réseaux sociaux",
            "evidence": [{"action_title": None, "matched_terms": ["Facebook"]}],
        },
    ],
    "suggestions": [
        {
            "action_title": title,
            "service_code": code,
            "service_label": label,
            "matched_terms": terms,
            "message": suggestion(title, label, terms),
        }
        for title, code, label, terms in (
            ("Médiathèque en ligne", "mediatheque_numerique", "Médiathèque numérique", ["livres numériques"]),
            (
                "Vie de la commune",
                "lettre_information",
                "Lettre d’information électronique",
                ["newsletter", "lettre d’info"],
            ),
        )
    ],
}
ENJEUX = [
    {"code": "services_publics", "label": "Services publics", "coverage": 0.62},
    {"code": "democratie_locale", "label": "Démocratie locale", "coverage": 0.45},
    {"code": "emploi", "label": "Emploi", "coverage": 0.0},
]
NEXT_LEVEL = {
    "target_arobases": 4,
    "points_missing": 1.2,
    "suggested_services": ["paiement_en_ligne", "budget_participatif"],
}
SID = UUID("6b1f3a52-7c0e-4d8e-9a43-2f0b0c6d2a17")


def receipt(collectivite: dict[str, Any], revision: int, sender: render.Sender = SENDER) -> Letter:
    """The receipt of a dossier deposited on 2 November 2016 at 14:03 in Paris."""
    return render.render_receipt(
        notification=render.notification_id("receipt", SID, revision),
        to="numerique@mairie.example",
        collectivite=collectivite,
        edition=2017,
        submission_id=SID,
        revision=revision,
        actions=4,
        submitted_at=SUBMITTED,
        sender=sender,
        at=SUBMITTED,
    )


def award(collectivite: dict[str, Any], **kw: Any) -> Letter:
    """An award of the 2017 edition (ceremony in Lille on 1 February 2017); `kw` overrides any argument."""
    fields: dict[str, Any] = {
        "notification": render.notification_id("award", SID),
        "to": "numerique@mairie.example",
        "collectivite": collectivite,
        "edition": 2017,
        "submission_id": SID,
        "score": {"arobases": 3, "score": 38.8, "enjeux": ENJEUX, "next_level": NEXT_LEVEL},
        "mentions": MENTIONS,
        "jury": None,
        "ceremony": CEREMONY,
        "sender": SENDER,
        "at": PUBLISHED,
        "service_labels": SERVICE_LABELS,
    }
    return render.render_award(**{**fields, **kw})


class Raw(Protocol):
    """A letter as sent: notify's `mime.Letter`, or the espaces' `EmailMessage`."""

    def as_bytes(self) -> bytes: ...


def letters() -> dict[str, Raw]:
    """Every kind of letter, on sample data, by a name that says what it shows."""
    return {
        "receipt-village": receipt(FREHEL, 1),
        "receipt-ville-revision": receipt(LE_MANS, 2),
        "receipt-epci": receipt(PARTHENAY, 1),
        "award-ville-prenotation": award(LE_MANS),
        "award-village-jury-one-arobase": award(
            FREHEL,
            score={"arobases": 1, "score": 4.5, "enjeux": [], "next_level": None},
            mentions={"mentions": []},
            jury={"arobases": 1, "comment": "", "decided_by": "Jury"},
        ),
        "award-epci-jury-distinction": award(
            PARTHENAY,
            score={"arobases": 4, "score": 61.0, "enjeux": ENJEUX, "next_level": None},
            jury={
                "arobases": 5,
                "comment": "Une stratégie numérique exemplaire, construite avec les habitants.",
                "decided_by": "Jury",
            },
            distinctions=["Territoire d’excellence numérique"],
        ),
        "award-epci-article": award(
            RIVIERA,
            mentions={"mentions": MENTIONS["mentions"][1:2], "suggestions": MENTIONS["suggestions"][:1]},
        ),
        # The espaces' own emails (sent by the submission service, not by notify).
        "sign-in-link": mailer.message(
            sender=SENDER.address,
            to="numerique@mairie.example",
            subject="Votre lien de connexion — label Territoires, Villes et Villages Internet",
            template="lien-connexion",
            link="http://127.0.0.1:8000/espace/connexion/lien?token=exemple",
            minutes=15,
        ),
        "jury-invitation": mailer.message(
            sender=SENDER.address,
            to="jury@villes-internet.example",
            subject="Invitation au jury — label Territoires, Villes et Villages Internet",
            template="invitation-jury",
            name="Claire Martin",
            sign_in_url="http://127.0.0.1:8000/espace/connexion",
        ),
        "rectificatif-ville": award(
            AGEN,
            notification=render.notification_id("rectificatif", SID, "decision-2"),
            jury={"arobases": 5, "comment": "Dossier réexaminé après la cérémonie.", "decided_by": "Jury"},
            previous_arobases=3,
            previous_message_at=PUBLISHED,
            at=datetime(2017, 2, 6, 9, 15, tzinfo=UTC),
        ),
        "rectificatif-village-mentions": award(
            FREHEL,
            notification=render.notification_id("rectificatif", SID, "decision-3"),
            jury={
                "arobases": 3,
                "comment": "Une seule mention est retenue après réexamen.",
                "decided_by": "Jury",
                "mentions": MENTIONS["mentions"][:1],
            },
            previous_arobases=3,
            previous_message_at=PUBLISHED,
            at=datetime(2017, 2, 6, 9, 15, tzinfo=UTC),
        ),
    }


def _entry(code: str, category: str, arobases: int, **kw: Any) -> PalmaresEntry:
    ref = refdata.lookup_for_edition(code, 2017)
    assert ref is not None, code
    line = palmares.entry(
        2017,
        code=code,
        name=ref.name,
        kind=ref.kind,
        category=category,
        departement=ref.departement,
        arobases=arobases,
        pre_notation=kw.pop("pre_notation", arobases),
        mentions=kw.pop("mentions", []),
    )
    return line.model_copy(update=kw)


def palmares_view() -> PalmaresView:
    """A small palmarès of the 2017 edition, names and départements from the reference data."""
    return PalmaresView(
        edition=2017,
        published_at=PUBLISHED,
        ceremony=CEREMONY,
        villages=sorted(
            [_entry("22179", "village", 3, mentions=["Réseaux sociaux"]), _entry("76276", "village", 5)],
            key=palmares.order,
        ),
        villes=sorted(
            [
                _entry("51230", "ville", 5),
                _entry("72181", "ville", 4, mentions=["Démocratie locale", "Télétravail"]),
                _entry("47001", "ville", 5, distinctions=["Territoire d’excellence numérique"]),
            ],
            key=palmares.order,
        ),
        territoires=[_entry("200041333", "territoire", 5, mentions=["Gouvernement ouvert"])],
        attribution=refdata.attribution(refdata.millesime_for(2017)),
    )


def dossier_view() -> StatusView:
    """A ville's dossier of 2017, evaluated and notified, as its status view tells it."""
    deadline = date(2016, 11, 30)
    old = Action(title="T", services=("x",), started_on=date(2012, 9, 1), ended_on=date(2014, 6, 30))
    intention = Quote(Reason.INTENTION, None, "Nous envisageons un espace de coworking dans l’ancienne poste.")
    return StatusView(
        submission_id=SID,
        revision=2,
        edition=2017,
        collectivite_code="72181",
        status="notified",
        score=24.2,
        arobases=3,
        grille_version=1,
        explanation=Explanation(
            enjeux=[
                {"code": "services_publics", "coverage": 0.62, "services": ["demarches_en_ligne"]},
                {"code": "democratie_locale", "coverage": 0.45, "services": ["open_data_portail"]},
                {"code": "emploi", "coverage": 0.0, "services": []},
            ],
            next_level={"target_arobases": 4, "points_missing": 1.7, "suggested_services": ["chaine_video"]},
            ignored_actions=[{"title": "Ateliers seniors", "reason": action_ignored_because(old, deadline)}],
        ),
        mentions=[
            {
                "code": "gouvernement_ouvert",
                "label": "Gouvernement ouvert",
                "evidence": [
                    {
                        "action_title": "Ouverture des données publiques",
                        "snippet": "Les jeux de données de la ville sont publiés sous Licence Ouverte.",
                        "matched_terms": ["jeux de données", "Licence Ouverte"],
                        "service_codes": ["open_data_portail"],
                    }
                ],
            },
            {
                "code": "reseaux_sociaux",
                "label": "Réseaux sociaux",
                "evidence": [{"action_title": None, "snippet": "sa page Facebook", "matched_terms": ["Facebook"]}],
            },
        ],
        mentions_missed=[
            {
                "code": "teletravail",
                "label": "Télétravail",
                "lacking": lacking(1, Findings(quotes=[intention]), Category.VILLE),
            }
        ],
        suggestions=MENTIONS["suggestions"],
        submitted_at=SUBMITTED,
    )


def _grille_2017() -> Grille:
    return Grille.model_validate(
        {**json.loads((repository_root() / "deploy/grilles/grille-2017.json").read_text()), "version": 1}
    )


# Le Mans as the espace's pages read it from the register (LE_MANS above is its form in the emails).
LE_MANS_REGISTERED = store.CollectiviteRow(
    code="72181",
    kind="commune",
    name="Le Mans",
    population=143_252,
    departement="72",
    category="ville",
    contact_email="numerique@lemans.example",
)


def _dossier() -> collectivite.Dossier:
    view = dossier_view()
    return collectivite.Dossier(
        view=view,
        published=True,
        content=None,
        grille=_grille_2017(),
        collectivite=LE_MANS_REGISTERED,
        detected_mentions=list(view.mentions or []),
    )


def jury_review_page() -> str:
    """The jury's review page of a dossier, its decision form sent without arobases (the error beside it)."""
    dossier = _dossier()
    form = jury.DecisionForm(arobases="", comment="Très bon dossier.", mentions=frozenset({"gouvernement_ouvert"}))
    return templates.get_template("jury/dossier.html.j2").render(
        account=None,
        csrf="",
        **dossier.parts(),
        form=form,
        errors=jury._form_errors(form),
        detected={m["code"] for m in dossier.detected_mentions},
        grille_mentions=dossier.grille.mentions if dossier.grille else (),
        categories=worklist.CATEGORIES,
        to_review_again=False,
        decision_revision=None,
        banner=None,
    )


def jury_tendances_pages() -> dict[str, str]:
    """The comité's tendances: themes of actions the grille does not describe, and with a bad setting (its error)."""
    grille = _grille_2017()
    written = [
        ("Un agent conversationnel pour la mairie", "Le chatbot répond aux questions des familles.", "village"),
        ("Chatbot des déchets", "Un chatbot indique les jours de collecte.", "ville"),
        ("Contre la désinformation", "Lutte contre les rumeurs : une page dément la désinformation.", "territoire"),
        ("Désinformation", "Atelier de lutte contre la désinformation avec les collégiens.", "village"),
        ("Portail open data", "Publication des jeux de données.", "ville"),
    ]
    actions = [
        tendances.ActionText(f"d{i}", name, category, title, description, ())
        for i, ((title, description, category), name) in enumerate(
            zip(written, ["L'Abergement-Clémenciat", "Le Mans", "CA du Grand Angoulême", "Fréhel", "Agen"], strict=True)
        )
    ]
    found = tendances.tendances(2017, grille, actions)
    page = templates.get_template("jury/tendances.html.j2")
    chosen, error = tendances_page.options({"dossiers": "zéro", "mots": "1"})
    return {
        "jury-tendances": page.render(
            account=None, csrf="", **tendances_page.context(grille, found, tendances_page.Options())
        ),
        "jury-tendances-erreur": page.render(
            account=None, csrf="", **tendances_page.context(grille, found, chosen, error)
        ),
    }


def dossier_page() -> str:
    """The dossier page of the espace collectivité, opened from an email's link, on sample data."""
    dossier = _dossier()
    view = dossier.view
    return templates.get_template("collectivite/dossier.html.j2").render(
        account=None,
        csrf="",
        **dossier.parts(),
        status_label=shown.STATUS_LABELS[view.status],
        steps=shown.timeline(view, dossier.published),
        emails=[],
        jury=None,
        editable=False,
        read_only_link=True,
        banner=None,
    )


def sign_in_pages() -> dict[str, str]:
    """The espaces' pages of the sign-in and its mishaps, as a visitor without a session sees them."""
    pages: dict[str, tuple[str, dict[str, Any]]] = {
        "connexion": ("connexion.html.j2", {"email": "", "errors": {}, "closed": True}),
        "connexion-erreur": (
            "connexion.html.j2",
            {
                "email": "mairie@",
                "errors": {"email": "Saisissez une adresse électronique valide, par exemple mairie@exemple.fr."},
                "closed": False,
            },
        ),
        "connexion-confirmer": ("connexion-confirmer.html.j2", {"token": ""}),
        "lien-envoye": ("lien-envoye.html.j2", {"email": "numerique@mairie.example"}),
        "lien-invalide": ("lien-invalide.html.j2", {}),
        "trop-de-demandes": ("trop-de-demandes.html.j2", {}),
        "formulaire-expire": ("formulaire-expire.html.j2", {}),
        "introuvable": (
            "introuvable.html.j2",
            {
                "title": "Connexion nécessaire",
                "message": "Connectez-vous pour voir ce dossier, ou ouvrez le lien du dernier courriel du label.",
            },
        ),
    }
    return {
        name: templates.get_template(template).render(account=None, csrf="", **context)
        for name, (template, context) in pages.items()
    }


def dashboard_page() -> str:
    """The espace collectivité's dashboard: an open campaign with its dossier, past labels, the distinction's way."""
    le_mans = accounts.Collectivite(code="72181", name="Le Mans", category="ville", departement="72")
    past = page_store.DossierRow(SID, 2017, "72181", 2, SUBMITTED, PUBLISHED, 4, 5)
    current = page_store.DossierRow(SID, 2018, "72181", 1, SUBMITTED.replace(year=2017), None, 4, None)
    labels = {2017: 5, 2016: 5, 2015: 4}
    fives, needed = excellence_progress(labels)
    card = {
        "collectivite": le_mans,
        "open": [{"edition": 2018, "dossier": current, "deadline": datetime(2017, 11, 30, 22, 59, tzinfo=UTC)}],
        "past": [past],
        "labels": sorted(labels.items(), reverse=True),
        "excellence": {"fives": fives, "needed": needed, "held": [], "name": EXCELLENCE, "since": EXCELLENCE_SINCE},
    }
    return templates.get_template("collectivite/tableau-de-bord.html.j2").render(account=None, csrf="", cards=[card])


def form_pages() -> dict[str, str]:
    """The dossier form of the espace collectivité: empty, and sent with mistakes (the errors beside their fields)."""
    grille = _grille_2017()
    context: dict[str, Any] = {
        "collectivite": LE_MANS_REGISTERED,
        "collectivite_de": "du Mans",
        "edition": 2017,
        "closes_at": datetime(2016, 11, 30, 22, 59, tzinfo=UTC),
        "revising": False,
        "services": dossier_form.services_for(grille, "ville"),
        "category_label": "villes",
        "key": "k" * 22,
    }
    typed = dossier_form.DossierForm(
        actions=[
            dossier_form.ActionForm(title="Portail open data", started_on="2016-13-01", url="data.ville"),
            dossier_form.ActionForm(description="Ateliers numériques pour les seniors", ended_on="2015-06-30"),
        ]
    )
    _body, errors = dossier_form.validate(typed)
    assert errors, "the sample form has mistakes"
    form = templates.get_template("collectivite/formulaire.html.j2")
    return {
        "formulaire": form.render(account=None, csrf="", **context, form=dossier_form.DossierForm(), errors={}),
        "formulaire-erreurs": form.render(account=None, csrf="", **context, form=typed, errors=errors),
    }


def pages() -> dict[str, str]:
    """Every page the public or a collectivité sees, on sample data."""
    return {
        "palmares": palmares.to_html(palmares_view()),
        "palmares-not-published": palmares.not_published_html(2018),
        "dossier": dossier_page(),
        "tableau-de-bord": dashboard_page(),
        "jury-dossier": jury_review_page(),
        **jury_tendances_pages(),
        **form_pages(),
        **sign_in_pages(),
        "actions": actions_page(),
        "observatoire": observatoire_page(),
        "observatoire-absent": public_pages.render("observatoire-absent.html.j2", edition=2018),
    }


def actions_page() -> str:
    """The catalogue's page: a search with its results, and an unknown « comme la mienne » code."""
    item = catalogue_api.CatalogueAction(
        edition=2017,
        submission_id=SID,
        position=0,
        title="Médiathèques numériques",
        description="Prêt de liseuses et ateliers d’initiation dans les médiathèques des quartiers.",
        url="https://angers.example/mediatheques",
        services=[{"code": "espace_public_numerique", "label": "Espace public numérique"}],
        enjeux=[{"code": "solidarites", "label": "Solidarités"}],
        mentions=[{"code": "culture", "label": "Culture numérique"}],
        collectivite_code="49007",
        name="Angers",
        kind="commune",
        category="ville",
        departement="49",
        departement_name="Maine-et-Loire",
        region="52",
        region_name="Pays de la Loire",
        population=150_125,
        population_band="100000-",
        arobases=4,
        title_highlighted="<mark>Médiathèques</mark> numériques",
        excerpt_highlighted="ateliers d’initiation dans les <mark>médiathèques</mark> des quartiers",
    )
    form = dict.fromkeys(("edition", "enjeu", "service", "mention", "category", "population"), "")
    form |= {"q": "médiathèque", "departement": "", "region": "", "arobases": "", "comme": "00000"}
    choices = public_pages.Choices(
        editions=[2017],
        enjeux={"solidarites": "Solidarités"},
        services={"espace_public_numerique": "Espace public numérique"},
        mentions={"culture": "Culture numérique"},
        departements={"49": "Maine-et-Loire (49)"},
        regions={"52": "Pays de la Loire"},
    )
    errors = [{"field": "comme", "message": "Aucune collectivité n’a le code «\u00a000000\u00a0»."}]
    return catalogue_api.page_html(form, errors, "", [item, item], total=42, page=2, has_next=True, choices=choices)


def observatoire_page() -> str:
    """An edition's observatoire by région, on the reference data, grille 2017 and a few dossiers."""
    cell = observatoire.Cell
    angers = observatoire.CellKey("49", "100000-", "commune")
    villages = observatoire.CellKey("49", "0-500", "commune")
    saint_denis = observatoire.CellKey("974", "100000-", "commune")
    counts = observatoire_store.EditionCounts(
        cells={
            angers: cell(participants=2, labelled=2, labelled_inhabitants=150_125, arobases_sum=7),
            villages: cell(participants=1),
            saint_denis: cell(participants=1),
        },
        participants={"49": 3, "974": 1},
        adopters={("49", "open_data_portail"): 2, ("974", "paiement_cantine"): 1, ("49", "site_internet"): 3},
        coverage=observatoire_coverage.Counts(
            participants={(angers, "ville"): 2, (villages, "village"): 1, (saint_denis, "ville"): 1},
            services={(angers, "ville", "site_internet"): 2, (villages, "village", "couverture_mobile"): 1},
            enjeux={(angers, "ville", "identite"): 2, (saint_denis, "ville", "education"): 1},
        ),
    )
    report = observatoire_store.build(2017, "region", _grille_2017(), counts)
    return observatoire_api.page_html(observatoire_api.view_of(report))


def mention_messages() -> dict[str, str]:
    """What the mentions service tells a collectivité of a mention it missed, of each kind, and of a service to declare."""
    quote = Quote(Reason.NEGATION, "Communication", "Nous n’avons pas encore de compte Twitter.")
    kinds: dict[str, tuple[int, Findings]] = {
        "short": (
            2,
            Findings(
                text={0: Evidence(action_title="Télétravail")},
                quotes=[Quote(Reason.INTENTION, None, "Nous envisageons un télécentre.")],
            ),
        ),
        "intention": (
            1,
            Findings(
                quotes=[Quote(Reason.INTENTION, None, "Nous envisageons un espace de coworking dans l’ancienne poste.")]
            ),
        ),
        "negation": (1, Findings(quotes=[quote, Quote(Reason.NEGATION, "Site", "Aucune page Facebook.")])),
        "both": (
            1,
            Findings(quotes=[quote, Quote(Reason.INTENTION, None, "Nous souhaitons ouvrir une page Instagram.")]),
        ),
        "topic": (
            1,
            Findings(
                quotes=[Quote(Reason.TOPIC, "Fracture numérique", "La ville a commandé une étude sur l’illectronisme.")]
            ),
        ),
        "outdated": (
            1,
            Findings(
                outdated=[
                    (
                        "Ateliers seniors",
                        "action commencée le 01/09/2012, plus de deux ans avant la date limite du dossier (30/11/2016), et terminée le 30/06/2014, avant cette date",
                    )
                ]
            ),
        ),
        "title": (1, Findings(titles=["Open data"])),
        "hint": (
            1,
            Findings(hints=[("Budget en ligne", "Budget expliqué en ligne (infographies, données budgétaires)")]),
        ),
        "inapplicable": (1, Findings(inapplicable=["Ouverture des données par défaut (portail open data)"])),
    }
    # A miss is shown after the mention it concerns, as the end of a sentence.
    texts = {
        f"mention missed {name}": typeset(
            f"La mention « Télétravail » n’est pas obtenue : {lacking(needed, findings, Category.VILLAGE)}."
        )
        for name, (needed, findings) in kinds.items()
    }
    texts["mention suggestion"] = MENTIONS["suggestions"][1]["message"]
    return texts


def ignored_action_reasons() -> dict[str, str]:
    """Why the pré-notation ignores an action, of each kind, as the dossier page shows it (« Titre : raison »)."""
    deadline = date(2016, 11, 30)
    reasons = {
        "late": action_ignored_because(Action(title="T", services=("x",), started_on=date(2016, 12, 1)), deadline),
        "old": action_ignored_because(
            Action(title="T", services=("x",), started_on=date(2012, 9, 1), ended_on=date(2014, 6, 30)), deadline
        ),
        "no service": action_ignored_because(Action(title="T", started_on=date(2016, 1, 4)), deadline),
        "unknown": unknown_services(2017, 1, ["visio_guichet", "chatbot_municipal"]),
        "inapplicable": inapplicable_services(
            ["Portail de données ouvertes (open data)", "Système d’information géographique mutualisé"],
            Category.VILLAGE,
        ),
    }
    return {f"ignored action {name}": f"Ateliers numériques\u00a0: {reason}." for name, reason in reasons.items()}

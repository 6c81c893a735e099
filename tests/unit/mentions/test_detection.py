"""Detection on the real rules of the grilles: homonyms, misspellings, evidence, misses, services, editions."""

from __future__ import annotations

from datetime import date

import pytest
from palmares_contracts import Category, GrilleBody
from palmares_mentions.domain import Detection, detect
from palmares_mentions.matcher import compile_rules

from tests.unit.mentions.conftest import act, found, plain


@pytest.mark.parametrize(
    "text",
    [
        "Rénovation du réseau d’eau potable et du réseau de chaleur bois.",
        "Les perturbations du réseau routier et du réseau de bus sont publiées en ligne.",
        "Les cinq bibliothèques du réseau de bibliothèques partagent un catalogue.",
        "Le centre social et le service de logement social ont un nouveau site.",
        "Intervention au collège sur les dangers des réseaux sociaux.",
    ],
)
def test_networks_that_are_not_social_networks(grille_2018: GrilleBody, text: str) -> None:
    mentions, _ = found(grille_2018, act("Action", text))
    assert "reseaux_sociaux" not in mentions


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("La mairie est ouverte le samedi matin et le marché couvert est ouvert au public.", "gouvernement_ouvert"),
        ("Le jardin partagé, ouvert à tous, publie la protection des données personnelles.", "gouvernement_ouvert"),
        ("Un diagnostic réalisé à partir des données publiques de l’Insee.", "gouvernement_ouvert"),
        ("La médiathèque est accessible en voiture et aux personnes à mobilité réduite.", "accessibilite"),
        (
            "La salle polyvalente, accessible aux personnes en situation de handicap, se réserve en ligne.",
            "accessibilite",
        ),
        ("Un site accessible sur smartphone, tablette et ordinateur, 24h/24.", "accessibilite"),
        ("Les transcriptions des actes de décès sont dématérialisées.", "accessibilite"),
        ("Grâce à la coopération intercommunale, 18 communes partagent un SIG.", "cooperation_internationale"),
        ("Des jumelles sont prêtées pour observer les oiseaux de l’étang.", "cooperation_internationale"),
        ("Mutuelle communale avec tiers payant ; formation à distance des agents.", "teletravail"),
        ("Un tiers des actifs rejoignent le même lieu de travail en covoiturage.", "teletravail"),
        ("La commune a signé avec la gendarmerie un protocole de participation citoyenne.", "democratie_locale"),
        ("Consultation en ligne du PLU et du cadastre.", "democratie_locale"),
        ("Permanences de médiation familiale ; le médiateur de l’eau est saisi en ligne.", "mediation_numerique"),
        ("Vingt abris bus numériques affichent les horaires.", "mediation_numerique"),
        ("Pour réduire la fracture numérique territoriale, un pylône 4G a été installé.", "solidarite_numerique"),
        ("La programmation culturelle et l’école de musique sont en ligne.", "numerique_educatif"),
    ],
)
def test_homonyms_are_not_evidence(grille_2018: GrilleBody, text: str, code: str) -> None:
    mentions, _ = found(grille_2018, act("Action", text))
    assert code not in mentions


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("La mairie est présente sur facebok et sur twiter.", "reseaux_sociaux"),
        ("Retrouvez-nous sur notre compte Instagramm.", "reseaux_sociaux"),
        ("Des salariés en téletravail fréquentent l’espace.", "teletravail"),
        ("Un espace co working de huit postes a ouvert en 2016.", "teletravail"),
        ("Un espace de cowoking a ouvert au-dessus de l’office de tourisme.", "teletravail"),
        ("Le comité de jumellage publie un blog bilingue.", "cooperation_internationale"),
        ("Deux médiateurs numeriques tiennent des permanences.", "mediation_numerique"),
        ("Deux tableaux numériques intéractifs équipent l’école.", "numerique_educatif"),
    ],
)
def test_misspellings_and_split_words(grille_2018: GrilleBody, text: str, code: str) -> None:
    mentions, _ = found(grille_2018, act("Action", text))
    assert code in mentions


def test_a_real_word_is_not_corrected_into_a_term(grille_2018: GrilleBody) -> None:
    # « factures » is one edit from « fracture »: corrections only reach one-word terms.
    mentions, _ = found(grille_2018, act("Paiement", "Les factures numériques sont payables en ligne."))
    assert "solidarite_numerique" not in mentions


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Depuis 2016, 14 agents télétravaillent un jour par semaine.", "teletravail"),
        ("Les réseaux sociaux de la ville relaient les alertes.", "reseaux_sociaux"),
        ("Nous publions nos données ouvertes chaque trimestre.", "gouvernement_ouvert"),
        ("Deux médiatrices numériques accueillent les habitants.", "mediation_numerique"),
        (
            "Les associations de notre commune et de Neckargemünd (Allemagne) échangent leurs programmes.",
            "cooperation_internationale",
        ),
    ],
)
def test_inflected_forms(grille_2018: GrilleBody, text: str, code: str) -> None:
    mentions, _ = found(grille_2018, act("Action", text))
    assert code in mentions


def test_evidence_quotes_the_original_text_with_accents_case_and_ligatures(grille_2018: GrilleBody) -> None:
    action = act(
        "Vœux du maire en vidéo",
        "Les vœux, les reportages et les tutoriels sont publiés sur notre chaîne YouTube (180 vidéos).",
    )
    mentions, _ = found(grille_2018, action)
    evidence = mentions["reseaux_sociaux"].evidence[0]
    assert evidence.action_title == "Vœux du maire en vidéo"
    assert evidence.matched_terms == ("YouTube",)
    assert "vœux" in evidence.snippet and "chaîne YouTube (180 vidéos)" in evidence.snippet


def test_narrative_evidence_has_no_action_title(grille_2018: GrilleBody) -> None:
    mentions, _ = found(
        grille_2018, act("Site", "Site de la commune."), narrative="Nos données ouvertes sont en ligne."
    )
    assert mentions["gouvernement_ouvert"].evidence[0].action_title is None


def test_contextual_terms_need_their_context_in_the_sentence(grille_2018: GrilleBody) -> None:
    digital = act("Un site pour tous", "Le site a été repensé avec des personnes en situation de handicap visuel.")
    mentions, _ = found(grille_2018, digital)
    assert {"situation de handicap", "site"} <= set(mentions["accessibilite"].evidence[0].matched_terms)
    physical = act("Salle", "La salle est accessible aux personnes en situation de handicap.")
    assert "accessibilite" not in found(grille_2018, physical)[0]


def test_a_sufficient_declared_service_is_evidence_and_never_negated(grille_2018: GrilleBody) -> None:
    action = act("Télétravail", "Le télétravail n’est pas encore généralisé.", services=("teletravail_agents",))
    mentions, missed = found(grille_2018, action)
    assert [e.service_codes for e in mentions["teletravail"].evidence] == [("teletravail_agents",)]
    assert "teletravail" not in missed


def test_a_mention_found_only_as_an_intention_is_missed_with_a_quote(grille_2018: GrilleBody) -> None:
    narrative = "La commune attire de jeunes actifs. Nous envisageons un espace de coworking dans l’ancienne poste."
    mentions, missed = found(grille_2018, act("Wifi", "Wifi gratuit."), narrative=narrative)
    assert "teletravail" not in mentions
    assert plain(missed["teletravail"].lacking) == (
        "seule une intention a été trouvée : « Nous envisageons un espace de coworking dans l’ancienne poste. » "
        "(récit du dossier)"
    )


def test_a_mention_found_only_negated_is_missed_with_a_quote(grille_2018: GrilleBody) -> None:
    twitter_only = act("Communication", "Nous n’avons pas encore de compte Twitter, faute de temps.")
    mentions, missed = found(grille_2018, twitter_only)
    assert "reseaux_sociaux" not in mentions
    assert plain(missed["reseaux_sociaux"].lacking).startswith(
        "le dossier indique ne pas (ou plus) le faire : « Nous n’avons pas encore de compte Twitter, faute de temps. »"
    )
    assert plain(missed["reseaux_sociaux"].lacking).endswith("(action « Communication »)")


def strict(grille: GrilleBody, code: str, min_evidence: int) -> GrilleBody:
    rules = tuple(r.model_copy(update={"min_evidence": min_evidence}) if r.code == code else r for r in grille.mentions)
    return grille.model_copy(update={"mentions": rules})


def test_a_mention_short_of_evidence_says_how_many_pieces_lack(grille_2018: GrilleBody) -> None:
    mentions, missed = found(
        strict(grille_2018, "teletravail", 2),
        act("Télétravail", "Depuis 2016, 14 agents télétravaillent."),
        act("Tiers-lieu", "Nous envisageons un tiers-lieu."),
    )
    assert "teletravail" not in mentions
    assert plain(missed["teletravail"].lacking).startswith(
        "un seul élément probant sur deux requis ; une intention ne compte pas : « Nous envisageons un tiers-lieu. »"
    )


def test_homonyms_produce_no_miss(grille_2018: GrilleBody) -> None:
    _, missed = found(grille_2018, act("Réseau de chaleur", "Le réseau de chaleur dessert 30 bâtiments."))
    assert missed == {}


def test_a_title_follows_its_description(grille_2018: GrilleBody) -> None:
    # The title names the topic; the description says it is not done.
    mentions, missed = found(grille_2018, act("Télétravail", "Le télétravail n'a pas été retenu par la direction."))
    assert "teletravail" not in mentions and "teletravail" in missed
    # A title alone stands when the description does not mention the topic again.
    mentions, _ = found(grille_2018, act("Page Facebook de la mairie", "640 abonnés, soit la moitié des foyers."))
    assert "reseaux_sociaux" in mentions


def test_mentions_follow_the_edition(grille_2017: GrilleBody, grille_2018: GrilleBody) -> None:
    epn = act("Espace public numérique", "Ateliers d’initiation et accès libre aux ordinateurs.")
    assert set(found(grille_2017, epn)[0]) == {"solidarite_numerique"}  # 2017: mediation is solidarity
    assert set(found(grille_2018, epn)[0]) == {"mediation_numerique"}  # 2018: its own mention
    participatory = act("Budget participatif", "Les habitants votent en ligne pour leurs projets.")
    assert found(grille_2017, participatory)[0] == {}  # no démocratie locale mention in 2017
    assert set(found(grille_2018, participatory)[0]) == {"democratie_locale"}


def test_negation_reaches_its_clause_only(grille_2018: GrilleBody) -> None:
    narrative = "Nous n'avons pas de compte Twitter, mais notre page Facebook est suivie par 2 300 personnes."
    mentions, _ = found(grille_2018, act("Site", "Site."), narrative=narrative)
    assert mentions["reseaux_sociaux"].evidence[0].matched_terms == ("page Facebook",)


def test_rules_are_compiled_once_per_grille(grille_2018: GrilleBody) -> None:
    assert compile_rules(grille_2018.mentions) is compile_rules(grille_2018.mentions)
    assert compile_rules(tuple(grille_2018.mentions)) is compile_rules(grille_2018.mentions)  # an equal copy too


def test_empty_dossier_text(grille_2018: GrilleBody) -> None:
    assert detect([act("Site internet")], "", grille_2018, Category.VILLE) == Detection((), (), ())


def test_a_restrictive_relative_shares_the_negation_of_its_main_clause(grille_2018: GrilleBody) -> None:
    mentions, missed = found(grille_2018, act("Agents", "Nous n'avons pas d'agent qui télétravaille."))
    assert "teletravail" not in mentions and "teletravail" in missed
    # A relative describing the people helped negates nothing of the help.
    helped = act(
        "Permanence",
        "Une secrétaire aide les habitants qui n’ont pas d’ordinateur à faire leurs démarches en ligne.",
    )
    assert "solidarite_numerique" in found(grille_2018, helped)[0]


def test_a_miss_quotes_each_clause_once(grille_2018: GrilleBody) -> None:
    _, missed = found(grille_2018, act("X", "Nous n’avons pas de page Facebook et publions sur Twitter."))
    assert "autre" not in plain(missed["reseaux_sociaux"].lacking)
    _, missed = found(grille_2018, act("X", "Pas de page Facebook."), act("Y", "Aucun compte Twitter."))
    assert plain(missed["reseaux_sociaux"].lacking).endswith(", et un autre passage")


# ------------------------------------------------------------------ a jury's reading: currency, category, hints


def test_an_action_that_no_longer_counts_is_no_evidence(grille_2017: GrilleBody) -> None:
    # 2017: deadline 30/11/2016; an action run from 2012 to 2014 is not « de moins de deux ans ».
    old = act(
        "Télétravail",
        "Douze agents télétravaillent un jour par semaine.",
        ("teletravail_agents",),
        started_on=date(2012, 1, 1),
        ended_on=date(2014, 6, 30),
    )
    mentions, missed = found(grille_2017, old)
    assert "teletravail" not in mentions
    assert plain(missed["teletravail"].lacking).startswith(
        "seule une action qui ne compte pas en témoigne : « Télétravail » ("
    )
    assert "plus de deux ans avant la date limite" in plain(missed["teletravail"].lacking)
    # Still running at the deadline, or started less than two years before it: it counts.
    for running in (
        act("Télétravail", "Douze agents télétravaillent.", started_on=date(2012, 1, 1)),
        act("Télétravail", "Douze agents télétravaillent.", started_on=date(2015, 1, 1), ended_on=date(2015, 6, 30)),
    ):
        assert "teletravail" in found(grille_2017, running)[0]
    after = act("Télétravail", "Douze agents télétravaillent.", started_on=date(2016, 12, 1))
    assert "teletravail" not in found(grille_2017, after)[0]


def test_a_declared_service_alone_is_a_hint_unless_the_grille_says_it_suffices(grille_2018: GrilleBody) -> None:
    rule = next(r for r in grille_2018.mentions if r.code == "gouvernement_ouvert")
    assert "budget_explique" in rule.service_codes and "budget_explique" not in rule.sufficient_services
    mentions, missed = found(grille_2018, act("Budget", "Trois graphiques sur le site.", ("budget_explique",)))
    assert "gouvernement_ouvert" not in mentions
    assert plain(missed["gouvernement_ouvert"].lacking) == (
        "le service « Budget expliqué en ligne (infographies, données budgétaires) » est déclaré pour l’action "
        "« Budget », mais le texte de l’action ne décrit pas la pratique"
    )
    mentions, _ = found(grille_2018, act("Portail", "Mise à jour.", ("open_data_portail",)))
    assert [e.service_codes for e in mentions["gouvernement_ouvert"].evidence] == [("open_data_portail",)]


def test_a_hint_stands_as_the_context_of_contextual_terms(grille_2018: GrilleBody) -> None:
    # « à domicile » counts next to a context (agents, travaillent…), or in an action that declares a
    # service of télétravail (made a mere hint here, so that the service alone would prove nothing).
    hints_only = grille_2018.model_copy(
        update={
            "mentions": tuple(
                r.model_copy(update={"sufficient_services": ()}) if r.code == "teletravail" else r
                for r in grille_2018.mentions
            )
        }
    )
    text = "Le vendredi, les gestionnaires de paie restent à domicile."
    assert "teletravail" not in found(hints_only, act("Paie", text))[0]
    mentions, _ = found(hints_only, act("Paie", text, ("teletravail_agents",)))
    assert mentions["teletravail"].evidence[0].matched_terms == ("à domicile",)
    assert "teletravail" not in found(hints_only, act("Paie", "Bulletins de paie.", ("teletravail_agents",)))[0]


def test_a_service_that_does_not_apply_to_the_category_proves_nothing(grille_2018: GrilleBody) -> None:
    portal = act("Portail", "Mise à jour.", ("open_data_portail",))  # villes and territoires only
    assert "gouvernement_ouvert" in found(grille_2018, portal, category=Category.VILLE)[0]
    mentions, missed = found(grille_2018, portal, category=Category.VILLAGE)
    assert "gouvernement_ouvert" not in mentions
    assert plain(missed["gouvernement_ouvert"].lacking).endswith("mais il ne s’applique pas aux villages")


def test_min_evidence_counts_distinct_actions_and_the_narrative(grille_2018: GrilleBody) -> None:
    two = strict(grille_2018, "reseaux_sociaux", 2)
    one_action = act("Page Facebook", "Notre page Facebook et notre compte Twitter.", ("page_facebook",))
    mentions, missed = found(two, one_action)
    assert "reseaux_sociaux" not in mentions, "one action is one source, however many services and terms it has"
    assert plain(missed["reseaux_sociaux"].lacking).startswith("un seul élément probant sur deux requis")
    mentions, _ = found(two, one_action, narrative="Les habitants nous suivent sur Instagram.")
    assert [e.action_title for e in mentions["reseaux_sociaux"].evidence] == ["Page Facebook", None]
    evidence = mentions["reseaux_sociaux"].evidence[0]
    assert evidence.service_codes == ("page_facebook",) and "Facebook" in evidence.matched_terms[0]


# ------------------------------------------------------------------ services suggested from the text


def test_a_described_service_that_is_not_declared_is_suggested_with_the_matched_words(
    grille_2018: GrilleBody,
) -> None:
    described = act("Communication", "La mairie publie ses actualités sur sa page Facebook depuis 2015.")
    suggestions = detect([described], "", grille_2018, Category.VILLE).suggestions
    assert [(s.action_title, s.service_code) for s in suggestions] == [("Communication", "page_facebook")]
    assert suggestions[0].service_label == "Page Facebook de la collectivité"
    assert suggestions[0].matched_terms and "page Facebook" in suggestions[0].snippet


def test_no_suggestion_for_a_declared_negated_outdated_or_inapplicable_service(grille_2018: GrilleBody) -> None:
    text = "La mairie publie ses actualités sur sa page Facebook."

    def suggested(*actions: object, category: Category = Category.VILLE, narrative: str = "") -> list[str]:
        return [s.service_code for s in detect(actions, narrative, grille_2018, category).suggestions]  # type: ignore[arg-type]

    assert suggested(act("Communication", text), act("Autre", "Rien.", ("page_facebook",))) == []
    assert suggested(act("Communication", "Nous n’avons pas de page Facebook.")) == []
    assert suggested(act("Communication", "Nous envisageons une page Facebook.")) == []
    assert suggested(act("Communication", text, started_on=date(2012, 1, 1), ended_on=date(2014, 1, 1))) == []
    assert suggested(act("Site", "Site."), narrative=text) == [], "a suggestion names an action"
    portal = act("Données", "Notre portail open data publie 40 jeux de données.")
    assert "open_data_portail" in suggested(portal, category=Category.VILLE)
    assert "open_data_portail" not in suggested(portal, category=Category.VILLAGE)


def test_a_title_without_description_names_a_practice_it_does_not_describe(grille_2018: GrilleBody) -> None:
    mentions, missed = found(grille_2018, act("Open data"))
    assert "gouvernement_ouvert" not in mentions
    assert plain(missed["gouvernement_ouvert"].lacking).startswith(
        "l’action « Open data » n’est décrite que par son titre"
    )
    assert "gouvernement_ouvert" in found(grille_2018, act("Open data", "Nos jeux de données sont en ligne."))[0]


def test_what_is_only_studied_or_talked_about_is_no_evidence(grille_2017: GrilleBody) -> None:
    study = act("Fracture numérique", "La ville a commandé une étude sur l’illectronisme des seniors.")
    mentions, missed = found(grille_2017, study)
    assert "solidarite_numerique" not in mentions
    assert plain(missed["solidarite_numerique"].lacking).startswith("le dossier en parle sans décrire ce qui est fait")
    debate = act("Débat en ligne", "Un débat en ligne sur le télétravail a réuni 300 agents.")
    assert "teletravail" not in found(grille_2017, debate)[0]


def test_online_is_said_in_several_ways(grille_2018: GrilleBody) -> None:
    for way in ("en ligne", "par internet", "sur internet", "via internet"):
        vote = act("Budget", f"Les habitants votent {way} pour les projets de leur quartier.")
        assert "democratie_locale" in found(grille_2018, vote)[0], way


def test_suggestions_stay_within_what_the_action_does_not_already_cover(grille_2018: GrilleBody) -> None:
    def suggested(action: object, category: Category = Category.VILLE) -> list[str]:
        return [s.service_code for s in detect([action], "", grille_2018, category).suggestions]  # type: ignore[list-item]

    # open_data_portail and donnees_ouvertes_publiees share an enjeu: one suggestion for both…
    both = act("Données", "Notre portail open data publie 45 jeux de données.")
    assert suggested(both) == ["open_data_portail"]
    # …and none in an enjeu the action already declares a service of.
    assert suggested(act("Données", "Sous Licence Ouverte, nos jeux de données.", ("open_data_portail",))) == []
    # Services of other enjeux are still suggested.
    site = act("Site", "Le site publie les menus de la cantine et les comptes rendus du conseil.", ("site_internet",))
    assert sorted(suggested(site)) == ["deliberations_en_ligne", "menus_cantine"]
    message = detect([both], "", grille_2018, Category.VILLE).suggestions[0].message
    assert plain(message).startswith("Votre action « Données » semble relever du service « Ouverture des données")


def test_a_long_word_of_a_many_word_term_is_corrected_too(grille_2018: GrilleBody) -> None:
    assert "accessibilite" in found(grille_2018, act("Site", "Accessibilté du site internet revue en 2017."))[0]
    # Short words of many-word terms are never targets: « factures » is not « fracture ».
    assert "solidarite_numerique" not in found(grille_2018, act("Régie", "Nos factures numériques en ligne."))[0]


def test_a_title_and_its_description_are_each_other_s_context(grille_2017: GrilleBody) -> None:
    partner = act("Partenariat avec Bad Säckingen", "Les élèves allemands et français correspondent chaque mois.")
    assert "cooperation_internationale" in found(grille_2017, partner)[0]
    # …and a title follows a description that names the same words as a homonym.
    family = act(
        "Coffre-fort numérique des familles",
        "Chaque famille range ses papiers dans un coffre-fort numérique personnel.",
    )
    assert "solidarite_numerique" not in found(grille_2017, family)[0]


def test_a_colon_explains_its_sentence(grille_2018: GrilleBody) -> None:
    workshops = act(
        "Premiers clics", "Des ateliers pour débutants : allumer l’ordinateur, naviguer, envoyer un courriel."
    )
    assert "mediation_numerique" in found(grille_2018, workshops)[0]
    # A negation still stops at the colon.
    left = act("Réseaux", "La mairie a quitté Twitter : ses actualités sont publiées sur Mastodon.")
    mentions, _ = found(grille_2018, left)
    assert mentions["reseaux_sociaux"].evidence[0].matched_terms == ("Mastodon",)


def test_a_request_is_not_a_realisation_but_asking_people_is_a_consultation(grille_2018: GrilleBody) -> None:
    asked_for = act("École", "Les enseignants ont demandé des tablettes pour leurs élèves.")
    assert "numerique_educatif" not in found(grille_2018, asked_for)[0]
    asked = act("Sondage", "Nous avons demandé aux habitants, par un sondage en ligne, où installer l’aire de jeux.")
    assert "democratie_locale" in found(grille_2018, asked)[0]


def test_a_word_french_knows_is_no_misspelling(grille_2018: GrilleBody) -> None:
    # « interrogé » is one edit from « Interreg », « tablette » from « tablettes »: neither is a typo.
    asked = act("Place", "La municipalité a interrogé les habitants sur la place.")
    assert "cooperation_internationale" not in found(grille_2018, asked)[0]
    assert "reseaux_sociaux" in found(grille_2018, act("Communication", "Notre page facebok est suivie."))[0]

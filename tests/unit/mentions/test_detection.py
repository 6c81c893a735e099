"""Detection on the real rules of the grilles: homonyms, misspellings, evidence, misses, services, editions."""

from __future__ import annotations

import pytest
from palmares_contracts import MentionRule
from palmares_mentions.domain import detect
from palmares_mentions.matcher import compile_rules

from tests.unit.mentions.conftest import act, found

Rules = tuple[MentionRule, ...]


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
def test_networks_that_are_not_social_networks(rules_2018: Rules, text: str) -> None:
    mentions, _ = found(rules_2018, act("Action", text))
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
def test_homonyms_are_not_evidence(rules_2018: Rules, text: str, code: str) -> None:
    mentions, _ = found(rules_2018, act("Action", text))
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
def test_misspellings_and_split_words(rules_2018: Rules, text: str, code: str) -> None:
    mentions, _ = found(rules_2018, act("Action", text))
    assert code in mentions


def test_a_real_word_is_not_corrected_into_a_term(rules_2018: Rules) -> None:
    # « factures » is one edit from « fracture »: corrections only reach one-word terms.
    mentions, _ = found(rules_2018, act("Paiement", "Les factures numériques sont payables en ligne."))
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
def test_inflected_forms(rules_2018: Rules, text: str, code: str) -> None:
    mentions, _ = found(rules_2018, act("Action", text))
    assert code in mentions


def test_evidence_quotes_the_original_text_with_accents_case_and_ligatures(rules_2018: Rules) -> None:
    action = act(
        "Vœux du maire en vidéo",
        "Les vœux, les reportages et les tutoriels sont publiés sur notre chaîne YouTube (180 vidéos).",
    )
    mentions, _ = found(rules_2018, action)
    evidence = mentions["reseaux_sociaux"].evidence[0]
    assert evidence.action_title == "Vœux du maire en vidéo"
    assert evidence.matched_terms == ("YouTube",)
    assert "vœux" in evidence.snippet and "chaîne YouTube (180 vidéos)" in evidence.snippet


def test_narrative_evidence_has_no_action_title(rules_2018: Rules) -> None:
    mentions, _ = found(rules_2018, act("Site", "Site de la commune."), narrative="Nos données ouvertes sont en ligne.")
    assert mentions["gouvernement_ouvert"].evidence[0].action_title is None


def test_contextual_terms_need_their_context_in_the_sentence(rules_2018: Rules) -> None:
    digital = act("Un site pour tous", "Le site a été repensé avec des personnes en situation de handicap visuel.")
    mentions, _ = found(rules_2018, digital)
    assert {"situation de handicap", "site"} <= set(mentions["accessibilite"].evidence[0].matched_terms)
    physical = act("Salle", "La salle est accessible aux personnes en situation de handicap.")
    assert "accessibilite" not in found(rules_2018, physical)[0]


def test_declared_services_are_evidence_and_never_negated(rules_2018: Rules) -> None:
    action = act("Télétravail", "Le télétravail n’est pas encore généralisé.", services=("teletravail_agents",))
    mentions, missed = found(rules_2018, action)
    assert [e.service_codes for e in mentions["teletravail"].evidence] == [("teletravail_agents",)]
    assert "teletravail" not in missed


def test_a_mention_found_only_as_an_intention_is_missed_with_a_quote(rules_2018: Rules) -> None:
    narrative = "La commune attire de jeunes actifs. Nous envisageons un espace de coworking dans l’ancienne poste."
    mentions, missed = found(rules_2018, act("Wifi", "Wifi gratuit."), narrative=narrative)
    assert "teletravail" not in mentions
    assert missed["teletravail"].lacking == (
        "seule une intention a été trouvée : “Nous envisageons un espace de coworking dans l’ancienne poste.” "
        "(récit du dossier)"
    )


def test_a_mention_found_only_negated_is_missed_with_a_quote(rules_2018: Rules) -> None:
    twitter_only = act("Communication", "Nous n’avons pas encore de compte Twitter, faute de temps.")
    mentions, missed = found(rules_2018, twitter_only)
    assert "reseaux_sociaux" not in mentions
    assert missed["reseaux_sociaux"].lacking.startswith(
        "le dossier indique ne pas (ou plus) le faire : “Nous n’avons pas encore de compte Twitter, faute de temps.”"
    )
    assert missed["reseaux_sociaux"].lacking.endswith("(action « Communication »)")


def test_a_mention_short_of_evidence_says_how_many_pieces_lack(rules_2018: Rules) -> None:
    strict = tuple(r.model_copy(update={"min_evidence": 2}) if r.code == "teletravail" else r for r in rules_2018)
    mentions, missed = found(
        strict,
        act("Télétravail", "Depuis 2016, 14 agents télétravaillent."),
        act("Tiers-lieu", "Nous envisageons un tiers-lieu."),
    )
    assert "teletravail" not in mentions
    assert missed["teletravail"].lacking.startswith(
        "un seul élément probant sur 2 requis ; une intention ne compte pas : “Nous envisageons un tiers-lieu.”"
    )


def test_homonyms_produce_no_miss(rules_2018: Rules) -> None:
    _, missed = found(rules_2018, act("Réseau de chaleur", "Le réseau de chaleur dessert 30 bâtiments."))
    assert missed == {}


def test_a_title_follows_its_description(rules_2018: Rules) -> None:
    # The title names the topic; the description says it is not done.
    mentions, missed = found(rules_2018, act("Télétravail", "Le télétravail n'a pas été retenu par la direction."))
    assert "teletravail" not in mentions and "teletravail" in missed
    # A title alone stands when the description does not mention the topic again.
    mentions, _ = found(rules_2018, act("Page Facebook de la mairie", "640 abonnés, soit la moitié des foyers."))
    assert "reseaux_sociaux" in mentions


def test_mentions_follow_the_edition(rules_2017: Rules, rules_2018: Rules) -> None:
    epn = act("Espace public numérique", "Ateliers d’initiation et accès libre aux ordinateurs.")
    assert set(found(rules_2017, epn)[0]) == {"solidarite_numerique"}  # 2017: mediation is solidarity
    assert set(found(rules_2018, epn)[0]) == {"mediation_numerique"}  # 2018: its own mention
    participatory = act("Budget participatif", "Les habitants votent en ligne pour leurs projets.")
    assert found(rules_2017, participatory)[0] == {}  # no démocratie locale mention in 2017
    assert set(found(rules_2018, participatory)[0]) == {"democratie_locale"}


def test_negation_reaches_its_clause_only(rules_2018: Rules) -> None:
    narrative = "Nous n'avons pas de compte Twitter, mais notre page Facebook est suivie par 2 300 personnes."
    mentions, _ = found(rules_2018, act("Site", "Site."), narrative=narrative)
    assert mentions["reseaux_sociaux"].evidence[0].matched_terms == ("page Facebook",)


def test_rules_are_compiled_once_per_grille(rules_2018: Rules) -> None:
    assert compile_rules(rules_2018) is compile_rules(rules_2018)
    assert compile_rules(tuple(rules_2018)) is compile_rules(rules_2018)  # an equal copy too


def test_empty_dossier_text(rules_2018: Rules) -> None:
    assert detect([act("Site internet")], "", rules_2018) == ((), ())


def test_a_restrictive_relative_shares_the_negation_of_its_main_clause(rules_2018: Rules) -> None:
    mentions, missed = found(rules_2018, act("Agents", "Nous n'avons pas d'agent qui télétravaille."))
    assert "teletravail" not in mentions and "teletravail" in missed
    # A relative describing the people helped negates nothing of the help.
    helped = act(
        "Permanence",
        "Une secrétaire aide les habitants qui n’ont pas d’ordinateur à faire leurs démarches en ligne.",
    )
    assert "solidarite_numerique" in found(rules_2018, helped)[0]


def test_a_miss_quotes_each_clause_once(rules_2018: Rules) -> None:
    _, missed = found(rules_2018, act("X", "Nous n’avons pas de page Facebook et publions sur Twitter."))
    assert "autre" not in missed["reseaux_sociaux"].lacking
    _, missed = found(rules_2018, act("X", "Pas de page Facebook."), act("Y", "Aucun compte Twitter."))
    assert missed["reseaux_sociaux"].lacking.endswith(", et 1 autre(s) passage(s)")

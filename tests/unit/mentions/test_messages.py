"""The French the mentions service shows collectivités: typography, plurals, the advice to declare a service."""

from __future__ import annotations

from palmares_contracts import Category, Evidence
from palmares_label.french import typeset
from palmares_mentions.cues import Reason
from palmares_mentions.messages import Findings, Quote, lacking, suggestion


def test_messages_are_typeset() -> None:
    message = suggestion("L'école numérique", "Wifi public", ["wifi"])
    assert message == (
        "Votre action «\u00a0L’école numérique\u00a0» semble relever du service «\u00a0Wifi public\u00a0»\u00a0: "
        "déclarez-le. Terme relevé\u00a0: «\u00a0wifi\u00a0»."
    )
    assert " :" not in message and "'" not in message


def test_the_advice_names_the_action_the_service_and_the_words() -> None:
    one = suggestion("Communication", "Page Facebook de la collectivité", ["page Facebook"])
    assert one == typeset(
        "Votre action « Communication » semble relever du service « Page Facebook de la collectivité » : "
        "déclarez-le. Terme relevé : « page Facebook »."
    )
    two = suggestion("Données", "Portail open data", ["open data", "API"])
    assert two.endswith("Termes relevés\u00a0: «\u00a0open data\u00a0», «\u00a0API\u00a0».")


def test_counts_are_written_without_parenthesised_plurals() -> None:
    quotes = [Quote(Reason.NEGATION, "Communication", "Pas de page Facebook.")]
    assert lacking(1, Findings(quotes=quotes), Category.VILLE).endswith("(action «\u00a0Communication\u00a0»)")
    two = lacking(1, Findings(quotes=[*quotes, Quote(Reason.NEGATION, None, "Aucun compte.")]), Category.VILLE)
    three = lacking(
        1, Findings(quotes=[*quotes, *[Quote(Reason.NEGATION, None, f"Non {i}.") for i in range(2)]]), Category.VILLE
    )
    assert two is not None and two.endswith(", et un autre passage")
    assert three is not None and three.endswith(", et deux autres passages")
    short = lacking(2, Findings(text={0: Evidence(action_title="A")}), Category.VILLE)
    assert short == "un seul élément probant sur deux requis"


def test_what_a_spoken_about_outdated_title_only_or_inapplicable_mention_lacks() -> None:
    topic = lacking(1, Findings(quotes=[Quote(Reason.TOPIC, "Étude", "une étude sur l’illectronisme")]), Category.VILLE)
    assert topic is not None and topic.startswith("le dossier en parle sans décrire ce qui est fait")
    old = lacking(1, Findings(outdated=[("Ateliers", "action terminée")]), Category.VILLE)
    assert old == typeset("seule une action qui ne compte pas en témoigne : « Ateliers » (action terminée)")
    title = lacking(1, Findings(titles=["Open data"]), Category.VILLE)
    assert title == typeset("l’action « Open data » n’est décrite que par son titre : décrivez ce qui est fait")
    village = lacking(1, Findings(inapplicable=["Portail open data"]), Category.VILLAGE)
    assert village is not None and village.endswith("il ne s’applique pas aux villages")
    assert lacking(1, Findings(), Category.VILLE) is None


def test_a_quoted_passage_is_in_guillemets_and_its_own_become_second_level_quotes() -> None:
    passage = "Nous envisageons une « Maison France services » à la mairie."
    message = lacking(1, Findings(quotes=[Quote(Reason.INTENTION, None, passage)]), Category.VILLE)
    assert message == typeset(
        "seule une intention a été trouvée : « Nous envisageons une “Maison France services” à la mairie. » "
        "(récit du dossier)"
    )

"""Emails: valid MIME, text and HTML parts, stable ids, letters in French as a mayor expects them."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from palmares_label.french import NBSP, NNBSP
from palmares_notify import panneau, render
from palmares_notify.advice import Advice, NextArobase, advice_for
from palmares_notify.evidence import evidence_sentence
from palmares_notify.mime import Letter

from tools.french import samples
from tools.french.samples import FREHEL, LE_MANS, PARTHENAY

SENDER = render.Sender()
AT = datetime(2017, 2, 1, 18, 0, tzinfo=UTC)
SID = samples.SID


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def parts(msg: Letter) -> tuple[str, str]:
    parsed = parse(msg.as_bytes())
    text = parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = parsed.get_body(("html",)).get_content()  # type: ignore[union-attr]
    return text.replace("\r\n", "\n"), html.replace("\r\n", "\n")


def visible(html: str) -> str:
    """The HTML part as a reader sees it: no tags, entities decoded."""
    import html as html_lib

    return html_lib.unescape(re.sub(r"<[^>]+>", " ", html))


def receipt(collectivite: dict[str, Any] = FREHEL, revision: int = 2, **kw: Any) -> Letter:
    return samples.receipt(collectivite, revision, **kw)


def award(collectivite: dict[str, Any] = FREHEL, **kw: Any) -> Letter:
    """A plain award (no mention, no coverage, no advice) unless `kw` says otherwise."""
    plain = {"score": {"arobases": 2, "score": 12.0}, "mentions": {}, "service_labels": {}, "at": AT}
    return samples.award(collectivite, **{**plain, **kw})


def test_notification_ids_are_stable() -> None:
    assert render.notification_id("receipt", SID, 1) == render.notification_id("receipt", SID, 1)
    assert render.notification_id("receipt", SID, 1) != render.notification_id("receipt", SID, 2)
    assert render.notification_id("award", SID) != render.notification_id("receipt", SID)


def test_receipt() -> None:
    nid = render.notification_id("receipt", SID, 2)
    msg = receipt()
    parsed = parse(msg.as_bytes())
    assert parsed["Message-ID"] == f"<{nid}@{SENDER.domain}>"
    assert parsed["Subject"] == "Dossier reçu — label Territoires, Villes et Villages Internet 2017"
    assert parsed["Reply-To"] == SENDER.reply_to
    assert parsed["Date"]
    text, html = parts(msg)
    assert text.startswith("Madame, Monsieur le Maire,\n")
    assert "le dossier du village de Fréhel pour l’édition 2017" in text
    assert f"révision n°{NBSP}2 remplace la précédente" in text
    assert str(SID) in text and str(SID) in html
    # 13:03 UTC on 2 November 2016 is 14:03 in Paris.
    assert f"Date de dépôt{NBSP}: le 2 novembre 2016 à 14{NBSP}h{NBSP}03" in text
    assert "UTC" not in text and "/2016" not in text


def test_letters_open_by_kind_and_name_a_city_with_contraction() -> None:
    text, html = parts(receipt(LE_MANS, revision=1))
    assert text.startswith("Madame, Monsieur le Maire,")
    assert "le dossier de la ville du Mans" in text and "de Le Mans" not in text
    assert "révision" not in text  # a first revision replaces nothing
    text, html = parts(receipt(PARTHENAY, revision=1))
    assert text.startswith("Madame, Monsieur le Président,")
    assert "le dossier de la communauté de communes de Parthenay-Gâtine" in text
    assert "CC de" not in text and "CC de" not in html


def test_award_names_an_epci_in_full() -> None:
    msg = award(PARTHENAY, score={"arobases": 5, "score": 88.0})
    parsed = parse(msg.as_bytes())
    assert (
        parsed["Subject"] == f"Palmarès 2017{NBSP}: la communauté de communes de Parthenay-Gâtine obtient cinq arobases"
    )
    text, html = parts(msg)
    assert "La communauté de communes de Parthenay-Gâtine obtient cinq arobases" in visible(html)
    assert "Madame, Monsieur le Président," in text
    assert "Nous vous prions d’agréer, Madame, Monsieur le Président, l’expression" in text


def test_award_uses_the_jury_and_escapes_html() -> None:
    score = {
        "arobases": 3,
        "score": 41.2,
        "enjeux": [{"code": "x", "label": "Services publics", "coverage": 0.5}],
        "next_level": {"target_arobases": 4, "points_missing": 18.8, "suggested_services": ["paiement_cantine"]},
    }
    mentions = {
        "mentions": [
            {
                "code": "gouvernement_ouvert",
                "label": "Gouvernement ouvert",
                "evidence": [{"action_title": "<script>alert(1)</script>", "matched_terms": ["données ouvertes"]}],
            }
        ]
    }
    msg = award(
        {**FREHEL, "name": "Saint-Sulpice-la-Forêt"},
        score=score,
        mentions=mentions,
        jury={"arobases": 4, "comment": "Bravo", "decided_by": "Jury"},
    )
    parsed = parse(msg.as_bytes())
    assert parsed["Subject"] == f"Palmarès 2017{NBSP}: Saint-Sulpice-la-Forêt obtient quatre arobases"
    text, html = parts(msg)
    assert f"obtient quatre arobases{NBSP}: @@@@" in text
    assert "dévoilé le 1er février 2017 à Lille" in text
    assert "la pré-notation automatique de votre dossier était de trois arobases" in text
    assert "Gouvernement ouvert" in text
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Services publics" in html and f"50{NBSP}%" in visible(html)
    # The jury's result differs from the pré-notation: no advice on the next arobase.
    assert "Pour obtenir" not in text


def test_award_shows_the_mentions_the_jury_granted_when_it_ruled_on_them() -> None:
    detected = {"mentions": [{"code": "teletravail", "label": "Télétravail"}]}
    granted = [{"code": "democratie_locale", "label": "Démocratie locale"}]
    kept, _ = parts(award(mentions=detected, jury={"arobases": 3, "comment": "", "decided_by": "J"}))
    assert "Télétravail" in kept, "a decision on the arobases alone keeps the detected mentions"
    ruled, _ = parts(
        award(mentions=detected, jury={"arobases": 3, "comment": "", "decided_by": "J", "mentions": granted})
    )
    assert "Démocratie locale" in ruled and "Télétravail" not in ruled
    removed, _ = parts(award(mentions=detected, jury={"arobases": 3, "comment": "", "decided_by": "J", "mentions": []}))
    assert "Télétravail" not in removed and "n’obtient pas de mention" in removed


def test_next_level_in_french_numbers_and_plurals() -> None:
    score = {
        "arobases": 2,
        "score": 31.25,
        "next_level": {"target_arobases": 3, "points_missing": 1.2, "suggested_services": ["svc_a", "svc_b"]},
    }
    text, html = parts(award(score=score, service_labels={"svc_a": "Paiement en ligne", "svc_b": "État civil"}))
    assert f"Pour obtenir trois arobases, il manque 1,2{NBSP}point à la pré-notation" in text
    assert "(s)" not in text and "(s)" not in html
    assert f"«{NBSP}Paiement en ligne{NBSP}», «{NBSP}État civil{NBSP}»" in text
    assert "score de 31,25 sur 100" in text


def test_one_arobase_is_singular() -> None:
    text, _ = parts(award(score={"arobases": 1, "score": 3.0}))
    assert f"obtient une arobase{NBSP}:" in text


def test_no_empty_section() -> None:
    score = {"arobases": 2, "score": 12.0, "enjeux": [{"code": "x", "label": "Services publics", "coverage": 0.0}]}
    text, html = parts(award(score=score))
    assert "Couverture" not in text and "Couverture" not in html
    assert "Votre dossier n’obtient pas de mention cette année." in text
    # A line that announces something (« … : ») is followed by it, never by a blank line.
    assert not re.search(r":\n\n|:\n?$", text), text


def test_award_shows_the_entry_sign_inline() -> None:
    parsed = parse(award(jury=None, ceremony=None).as_bytes())
    html = parsed.get_body(("html",))
    assert html is not None and html.get_content_type() == "text/html"
    related = [p for p in parsed.walk() if p.get_content_type() == "multipart/related"]
    assert len(related) == 1, "the image travels with the HTML part, not as an attachment"
    (image,) = [p for p in parsed.walk() if p.get_content_type() == "image/png"]
    assert image["Content-ID"] == f"<{render.PANNEAU_CID}>"
    assert image.get_content_disposition() == "inline"
    assert image.get_content().startswith(b"\x89PNG")
    assert f'src="cid:{render.PANNEAU_CID}"' in html.get_content()
    assert 'alt="Panneau «&nbsp;Village Internet 2017&nbsp;» avec deux arobases"' in html.get_content()


def test_an_award_renders_to_the_same_bytes_its_boundaries_drawn_from_its_notification() -> None:
    nid = render.notification_id("award", SID)
    raw = award(notification=nid).as_bytes()
    assert award(notification=nid).as_bytes() == raw, "the same award, the same bytes"
    parsed = parse(raw)
    boundaries = [p.get_boundary() for p in parsed.walk() if p.is_multipart()]
    assert boundaries == [f"=_a{nid.hex}", f"=_r{nid.hex}"]
    # Each boundary delimits its parts and nothing else: text, HTML and the image come back whole.
    assert [p.get_content_type() for p in parsed.walk()] == [
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
    ]
    for boundary in boundaries:
        assert raw.count(f"--{boundary}\r\n".encode()) == 2 and raw.count(f"--{boundary}--".encode()) == 1
    (image,) = [p for p in parsed.walk() if p.get_content_type() == "image/png"]
    assert image.get_content() == panneau.draw_panneau("village", 2017, 2)


def test_rectificatif_cancels_and_replaces_the_previous_message_and_says_why() -> None:
    msg = award(
        notification=render.notification_id("rectificatif", SID, "decision-2"),
        jury={"arobases": 3, "comment": "Réexamen du dossier", "decided_by": "Jury"},
        previous_arobases=2,
        previous_message_at=datetime(2017, 2, 1, 17, 0, tzinfo=UTC),
    )
    parsed = parse(msg.as_bytes())
    assert parsed["Subject"] == f"Rectificatif — palmarès 2017{NBSP}: Fréhel obtient trois arobases"
    assert parsed["X-Palmares-Notification"].startswith("rectificatif;")
    text, html = parts(msg)
    assert "ce message annule et remplace notre message du 1er février 2017" in text
    assert "Le jury a revu sa décision après la publication du palmarès" in text
    assert "et non deux arobases comme nous vous l’avions annoncé" in text
    assert "Commentaire du jury" in text and "Réexamen du dossier" in text
    assert "annule et remplace notre message du 1er février 2017" in visible(html)


def test_a_rectificatif_of_the_mentions_alone_says_the_arobases_stay_and_lists_the_new_mentions() -> None:
    detected = {"mentions": [{"code": "sante", "label": "Santé"}, {"code": "ecologie", "label": "Écologie"}]}
    kept = award(
        mentions=detected,
        jury={"arobases": 2, "comment": "", "decided_by": "Jury", "mentions": detected["mentions"][:1]},
        previous_arobases=2,
        previous_message_at=AT,
    )
    text, html = parts(kept)
    assert "ce message annule et remplace notre message" in text
    assert f"Le jury a revu les mentions après la publication du palmarès{NBSP}: Fréhel garde deux arobases" in text
    assert "la liste des mentions ci-dessous remplace celle que nous vous avions annoncée" in visible(html)
    assert "Santé." in text and "Écologie" not in text
    assert "et non" not in text, "the arobases did not change"

    none_left = award(
        mentions=detected,
        jury={"arobases": 2, "comment": "", "decided_by": "Jury", "mentions": []},
        previous_arobases=2,
        previous_message_at=AT,
    )
    text, _html = parts(none_left)
    assert "Fréhel garde deux arobases, mais n’obtient finalement pas de mention cette année." in text


def test_the_signature_names_the_association_and_links_open_the_dossier() -> None:
    for msg in (receipt(), award()):
        text, html = parts(msg)
        assert "Pour l’association Villes Internet," in text and "l’association Villes Internet" in visible(html)
        assert re.findall(r'href="([^"]*)"', html) == [f"{SENDER.public_url}/espace/dossiers/{SID}"]
        assert f"{SENDER.public_url}/espace/dossiers/{SID}" in text


def test_the_dossier_link_is_one_setting() -> None:
    sender = render.Sender(dossier_link="https://palmares.example/espace/dossiers/{submission_id}")
    _text, html = parts(receipt(sender=sender))
    assert re.findall(r'href="([^"]*)"', html) == [f"https://palmares.example/espace/dossiers/{SID}"]
    with pytest.raises(ValueError, match="submission_id"):
        render.Sender(dossier_link="https://palmares.example/espace/")
    with pytest.raises(ValueError):
        render.Sender(dossier_link="javascript:alert({submission_id})")


def test_typography_of_every_letter() -> None:
    """Typographic apostrophes; a non-breaking space before « : », a narrow one before « ; ! ? », inside « »."""
    mentions = {
        "mentions": [
            {
                "code": "teletravail",
                "label": "Télétravail",
                "evidence": [{"action_title": "Tiers-lieu", "matched_terms": ["coworking"]}],
            }
        ]
    }
    letters = [
        receipt(),
        receipt(PARTHENAY),
        award(mentions=mentions, distinctions=["Territoire d'excellence numérique"]),
        award(jury={"arobases": 4, "comment": "", "decided_by": "J"}, previous_arobases=2, previous_message_at=AT),
        award(jury={"arobases": 2, "comment": "", "decided_by": "J", "mentions": []}, previous_arobases=2),
    ]
    for msg in letters:
        for part in parts(msg):
            shown = visible(part) if part.lstrip().startswith("<!DOCTYPE") else part
            shown = re.sub(r"https?://\S+", "", shown)
            assert "'" not in shown, shown
            assert not re.search(r"[^\u00a0]:(?!\S)", shown.replace("\n", " ")), shown
            assert not re.search(rf"[^{NNBSP}][;!?](?!\S)", shown), shown
            assert not re.search(r"«[^\u00a0]|[^\u00a0]»", shown), shown


def test_evidence_reads_as_one_sentence_citing_the_action() -> None:
    labels = {"portail_open_data": "Portail open data"}
    mention = {
        "code": "gouvernement_ouvert",
        "label": "Gouvernement ouvert",
        "evidence": [
            {"action_title": "Budget en clair", "matched_terms": ["open data", "données ouvertes"]},
            {"action_title": "Ouverture des données", "service_codes": ["portail_open_data"]},
            {"action_title": None, "matched_terms": ["data.gouv.fr"]},
        ],
    }
    assert evidence_sentence(mention, labels) == (
        f"Votre action «{NBSP}Ouverture des données{NBSP}», comme une autre action de votre dossier, "
        f"met en œuvre le service «{NBSP}Portail open data{NBSP}»."
    )
    terms_only = {
        "code": "teletravail",
        "evidence": [{"action_title": "Tiers-lieu d'Agen", "matched_terms": ["coworking"]}],
    }
    assert evidence_sentence(terms_only) == f"Votre action «{NBSP}Tiers-lieu d’Agen{NBSP}» porte sur le télétravail."
    narrative = {"code": "nouvelle", "evidence": [{"action_title": None, "matched_terms": ["x"]}]}
    assert evidence_sentence(narrative) == "Le récit de votre dossier en témoigne."
    three = {
        "code": "reseaux_sociaux",
        "evidence": [
            {"action_title": f"Action {i}", "service_codes": ["a", "b"] if i == 0 else [], "matched_terms": ["x"]}
            for i in range(3)
        ],
    }
    assert evidence_sentence(three, {"a": "Page Facebook", "b": "Compte Twitter"}) == (
        f"Votre action «{NBSP}Action 0{NBSP}», comme deux autres actions de votre dossier, met en œuvre "
        f"les services «{NBSP}Page Facebook{NBSP}» et «{NBSP}Compte Twitter{NBSP}»."
    )
    assert evidence_sentence({"code": "x", "evidence": []}) == ""


def test_the_advice_tells_the_services_an_action_describes_without_declaring_them() -> None:
    one = {"mentions": [], "suggestions": samples.MENTIONS["suggestions"][:1]}
    text, html = parts(award(mentions=one))
    assert "Conseils pour votre prochain dossier" in text and "Conseils pour votre prochain dossier" in html
    assert f"Votre dossier en décrit un sans le déclarer{NBSP}:\n" in text
    assert (
        f"  – Votre action «{NBSP}Médiathèque en ligne{NBSP}» semble relever du service "
        f"«{NBSP}Médiathèque numérique{NBSP}»{NBSP}: déclarez-le. Terme relevé{NBSP}: «{NBSP}livres numériques{NBSP}»."
    ) in text
    assert "<li>Votre action" in html
    text, html = parts(award(mentions=samples.MENTIONS))
    assert "Votre dossier en décrit deux sans les déclarer" in text
    assert "lettre d’info" in visible(html)


def test_the_services_to_declare_are_told_whatever_the_jury_decided() -> None:
    score = {
        "arobases": 3,
        "score": 30.0,
        "next_level": {"target_arobases": 4, "points_missing": 2.0, "suggested_services": ["svc"]},
    }
    advice = advice_for(score, samples.MENTIONS, arobases=5)
    assert advice.next_arobase is None, "the jury's five arobases are not the pré-notation's: no next arobase"
    assert len(advice.declare) == 2
    text, _ = parts(
        award(score=score, mentions=samples.MENTIONS, jury={"arobases": 5, "comment": "", "decided_by": "J"})
    )
    assert "Pour obtenir" not in text and "semble relever du service" in text
    same = advice_for(score, samples.MENTIONS, arobases=3, service_labels={"svc": "Paiement en ligne"})
    assert same.next_arobase == NextArobase(
        target="quatre arobases", missing=f"2{NBSP}points", services=f"«{NBSP}Paiement en ligne{NBSP}»"
    )


def test_no_advice_no_section() -> None:
    # An event written before the suggestions existed, and no next arobase (five arobases).
    assert not advice_for({"arobases": 5, "score": 80.0}, {"mentions": []}, arobases=5)
    assert not advice_for({"arobases": 2}, {"suggestions": [{"action_title": "A", "message": ""}]}, arobases=2)
    text, html = parts(award(score={"arobases": 5, "score": 80.0}))
    assert "Conseils" not in text and "Conseils" not in html


def test_the_advice_is_taken_as_given() -> None:
    given = Advice(
        declare=(
            "Votre action «\u00a0Site\u00a0» semble relever du service «\u00a0Open data\u00a0»\u00a0: déclarez-le.",
        )
    )
    text, _ = parts(award(mentions=samples.MENTIONS, advice=given))
    assert "Open data" in text and "Médiathèque" not in text

"""Emails: valid MIME, text and HTML parts, stable ids, accents intact, HTML escaped."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from uuid import UUID

from palmares_notify import render

SENDER = render.Sender()
AT = datetime(2017, 2, 1, 18, 0, tzinfo=UTC)
SID = UUID("2d3f0c2e-1111-4a5b-9c8d-000000000001")


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def test_notification_ids_are_stable() -> None:
    assert render.notification_id("receipt", SID, 1) == render.notification_id("receipt", SID, 1)
    assert render.notification_id("receipt", SID, 1) != render.notification_id("receipt", SID, 2)
    assert render.notification_id("award", SID) != render.notification_id("receipt", SID)


def test_receipt() -> None:
    nid = render.notification_id("receipt", SID, 2)
    msg = render.render_receipt(
        notification=nid,
        to="numerique@mairie-frehel.example",
        name="Fréhel",
        edition=2017,
        submission_id=SID,
        revision=2,
        actions=3,
        submitted_at=AT,
        sender=SENDER,
        at=AT,
    )
    parsed = parse(msg.as_bytes())
    assert parsed["Message-ID"] == f"<{nid}@{SENDER.domain}>"
    assert parsed["Subject"] == "Dossier reçu — label Territoires, Villes et Villages Internet 2017"
    assert parsed["Reply-To"] == SENDER.reply_to
    assert parsed["Date"]
    text = parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = parsed.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Fréhel" in text and "Fréhel" in html
    assert "révision n° 2" in text
    assert str(SID) in text


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
                "label": "Gouvernement ouvert",
                "evidence": [{"action_title": "<script>alert(1)</script>", "matched_terms": ["données ouvertes"]}],
            }
        ]
    }
    msg = render.render_award(
        notification=render.notification_id("award", SID),
        to="a@b.example",
        name="Saint-Sulpice-la-Forêt",
        category="village",
        edition=2017,
        score=score,
        mentions=mentions,
        jury={"arobases": 4, "comment": "Bravo", "decided_by": "Jury"},
        ceremony={"place": "Lille", "date": "2017-02-01"},
        sender=SENDER,
        at=AT,
    )
    parsed = parse(msg.as_bytes())
    assert parsed["Subject"] == "Palmarès 2017 : Saint-Sulpice-la-Forêt obtient 4 @"
    text = parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = parsed.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "obtient 4 arobases : @@@@" in text
    assert "pré-notation automatique était de 3 @" in text
    assert "Gouvernement ouvert" in text
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Services publics" in html and "50" in html


def test_award_shows_the_entry_sign_inline() -> None:
    msg = render.render_award(
        notification=render.notification_id("award", SID),
        to="a@b.example",
        name="Fréhel",
        category="village",
        edition=2017,
        score={"arobases": 2, "score": 12.0},
        mentions={},
        jury=None,
        ceremony=None,
        sender=SENDER,
        at=AT,
    )
    parsed = parse(msg.as_bytes())
    html = parsed.get_body(("html",))
    assert html is not None and html.get_content_type() == "text/html"
    related = [p for p in parsed.walk() if p.get_content_type() == "multipart/related"]
    assert len(related) == 1, "the image travels with the HTML part, not as an attachment"
    (image,) = [p for p in parsed.walk() if p.get_content_type() == "image/png"]
    assert image["Content-ID"] == f"<{render.PANNEAU_CID}>"
    assert image.get_content_disposition() == "inline"
    assert image.get_content().startswith(b"\x89PNG")
    assert f'src="cid:{render.PANNEAU_CID}"' in html.get_content()
    assert 'alt="Panneau « Village Internet 2017 » avec 2 arobases"' in html.get_content()


def test_rectificatif_says_what_changed() -> None:
    msg = render.render_award(
        notification=render.notification_id("rectificatif", SID, "decision-2"),
        to="a@b.example",
        name="Fréhel",
        category="village",
        edition=2017,
        score={"arobases": 2, "score": 12.0},
        mentions={},
        jury={"arobases": 3, "comment": "", "decided_by": "Jury"},
        ceremony=None,
        sender=SENDER,
        at=AT,
        previous_arobases=2,
    )
    parsed = parse(msg.as_bytes())
    assert parsed["Subject"] == "Rectificatif — palmarès 2017 : Fréhel obtient 3 @"
    assert parsed["X-Palmares-Notification"].startswith("rectificatif;")
    assert "et non 2 comme annoncé précédemment" in parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_evidence_is_told_per_action_with_service_labels() -> None:
    mention = {
        "label": "Gouvernement ouvert",
        "evidence": [
            {"action_title": "Ouverture des données", "service_codes": ["portail_open_data"]},
            {"action_title": "Ouverture des données", "matched_terms": ["open data", "données ouvertes"]},
            {"action_title": None, "matched_terms": ["data.gouv.fr"]},
        ],
    }
    summary = render.evidence_summary(mention, {"portail_open_data": "Portail open data"})
    assert (
        summary
        == "« Ouverture des données » (Portail open data, open data, données ouvertes) ; le récit du dossier (data.gouv.fr)"
    )


def test_french_dates() -> None:
    assert render.french_date("2017-02-01") == "1er février 2017"
    assert render.french_date("2018-12-25") == "25 décembre 2018"

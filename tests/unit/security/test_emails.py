"""Emails under hostile input: no header injection, everything HTML-escaped, links only to safe schemes.

Every field that reaches an email gets the same hostile values; the
rendered bytes are parsed back as a mail client would.
"""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any
from uuid import UUID

import pytest
from palmares_notify import render
from palmares_notify.mime import Letter
from palmares_notify.settings import NotifySettings

SENDER = render.Sender()
AT = datetime(2017, 2, 1, 18, 0, tzinfo=UTC)
SID = UUID("2d3f0c2e-1111-4a5b-9c8d-000000000001")

SCRIPT = "<script>alert('x')</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
JINJA = "{{ 7*7 }}{% raw %}"
HEADER = "Fréhel\r\nBcc: victime@evil.example\r\nX-Injected: yes"
LF_ONLY = "Fréhel\nBcc: victime@evil.example"
NUL = "Fré\x00hel\x0b"
JAVASCRIPT_LINK = "javascript:alert(1)"
HOSTILE = [SCRIPT, ATTRIBUTE, JINJA, HEADER, LF_ONLY, NUL, JAVASCRIPT_LINK]


def parse(msg: Letter) -> EmailMessage:
    parsed = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    return parsed  # type: ignore[return-value]


def parts(parsed: EmailMessage) -> tuple[str, str]:
    text = parsed.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = parsed.get_body(("html",)).get_content()  # type: ignore[union-attr]
    return text, html


def assert_headers_intact(raw: bytes, parsed: EmailMessage) -> None:
    """Exactly the headers we write, each once; nothing a field smuggled in."""
    assert "Bcc" not in parsed and "X-Injected" not in parsed
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert not re.search(rb"(?:^|\r\n)(?:Bcc|X-Injected):", head, re.IGNORECASE)
    for name in ("To", "Subject", "From", "Message-ID"):
        assert len(parsed.get_all(name) or []) == 1, name
    # RFC 5322: header lines end with CRLF, and folded lines start with white space.
    for line in head.split(b"\r\n"):
        assert b"\n" not in line and b"\r" not in line
        assert line[:1] in (b" ", b"\t") or re.match(rb"^[A-Za-z0-9-]+:", line), line


def assert_html_safe(html: str) -> None:
    assert "<script" not in html.lower()
    assert "<img src=x" not in html
    assert not re.search(r"<[^>]+\son\w+\s*=", html), "no event handler attribute in any tag"
    for url in re.findall(r'(?:href|src)="([^"]*)"', html):
        assert url.startswith(("http://", "https://", "cid:")), url


def commune(name: str) -> dict[str, Any]:
    return {"code": "22058", "kind": "commune", "name": name, "category": "village"}


def receipt(name: str, to: str = "mairie@commune.example") -> Letter:
    return render.render_receipt(**{**_receipt_args(SENDER), "collectivite": commune(name), "to": to, "actions": 2})


def award(hostile: str, **overrides: Any) -> Letter:
    """An award with `hostile` in every free-text field it shows."""
    fields: dict[str, Any] = {
        "notification": render.notification_id("award", SID),
        "to": "mairie@commune.example",
        "collectivite": commune(hostile),
        "edition": 2017,
        "submission_id": SID,
        "score": {
            "arobases": 3,
            "score": 41.2,
            "enjeux": [{"code": "x", "label": hostile, "coverage": 0.5}],
            "next_level": {"target_arobases": 4, "points_missing": 3.5, "suggested_services": ["svc"]},
        },
        "mentions": {
            "mentions": [
                {
                    "label": hostile,
                    "evidence": [
                        {"action_title": hostile, "matched_terms": [hostile], "service_codes": ["svc"]},
                        {"action_title": None, "matched_terms": [hostile]},
                    ],
                }
            ]
        },
        "jury": {"arobases": 3, "comment": hostile, "decided_by": hostile},
        "ceremony": {"place": hostile, "date": "2017-02-01"},
        "sender": SENDER,
        "at": AT,
        "distinctions": [hostile],
        "service_labels": {"svc": hostile},
    }
    return render.render_award(**{**fields, **overrides})


@pytest.mark.parametrize("hostile", HOSTILE, ids=["script", "attribute", "jinja", "crlf", "lf", "nul", "javascript"])
def test_receipt_with_a_hostile_name(hostile: str) -> None:
    msg = receipt(hostile)
    raw = msg.as_bytes()
    parsed = parse(msg)
    assert_headers_intact(raw, parsed)
    _text, html = parts(parsed)
    assert_html_safe(html)
    assert parsed["To"] == "mairie@commune.example"


@pytest.mark.parametrize("hostile", HOSTILE, ids=["script", "attribute", "jinja", "crlf", "lf", "nul", "javascript"])
@pytest.mark.parametrize("previous", [None, 2], ids=["award", "rectificatif"])
def test_award_with_hostile_text_in_every_field(hostile: str, previous: int | None) -> None:
    msg = award(hostile, previous_arobases=previous)
    raw = msg.as_bytes()
    parsed = parse(msg)
    assert_headers_intact(raw, parsed)
    assert "\n" not in str(parsed["Subject"]) and "\r" not in str(parsed["Subject"])
    text, html = parts(parsed)
    assert_html_safe(html)
    if hostile == JINJA:  # Jinja does not evaluate what it interpolates
        assert "{{ 7*7 }}" in text and "{{ 7*7 }}" in html


def test_html_escapes_each_field_and_the_text_part_keeps_it_verbatim() -> None:
    parsed = parse(award(SCRIPT))
    text, html = parts(parsed)
    # The letters write typographic apostrophes, in what a dossier or the jury wrote too.
    shown = SCRIPT.replace("'", "’")
    escaped = "&lt;script&gt;alert(’x’)&lt;/script&gt;"
    # name (title and h1), jury comment, ceremony place, mention label and evidence, enjeu label, distinction
    assert html.count(escaped) >= 8, html
    assert shown in text  # text/plain shows text: nothing to escape there
    assert parsed["Subject"] == f"Palmarès 2017\u00a0: {shown} obtient trois arobases"


def test_the_subject_keeps_a_hostile_name_on_one_line() -> None:
    parsed = parse(receipt("x"))
    assert parsed["Subject"] == "Dossier reçu — label Territoires, Villes et Villages Internet 2017"
    award_subject = parse(award(HEADER))["Subject"]
    assert (
        award_subject == "Palmarès 2017\u00a0: Fréhel Bcc: victime@evil.example X-Injected: yes obtient trois arobases"
    )


@pytest.mark.parametrize(
    "to",
    [
        "mairie@commune.example\r\nBcc: victime@evil.example",
        "mairie@commune.example\nBcc: victime@evil.example",
        "mairie@commune.example, victime@evil.example",
        "Mairie <mairie@commune.example>",
        "a,victime@evil.example",
        "été@commune.example",
        "mairie@commune.example\x00",
        "",
    ],
)
def test_only_one_plain_recipient_is_accepted(to: str) -> None:
    with pytest.raises(ValueError):
        receipt("Fréhel", to=to)


def test_an_accented_domain_goes_out_in_idna() -> None:
    parsed = parse(receipt("Fréhel", to="mairie@ville-été.example"))
    assert parsed["To"] == "mairie@" + "ville-été.example".encode("idna").decode()
    assert str(parsed["To"]).isascii()


def test_the_only_link_is_the_dossier_page_under_the_configured_url() -> None:
    text, html = parts(parse(receipt("Fréhel")))
    links = re.findall(r'href="([^"]*)"', html)
    assert links == [f"{SENDER.public_url}/espace/dossiers/{SID}"]  # no signing key: the page asks to sign in
    assert links[0] in text
    signed = render.Sender(public_url=SENDER.public_url, link_key="k" * 43)
    _text, html = parts(parse(render.render_receipt(**_receipt_args(signed))))
    (link,) = re.findall(r'href="([^"]*)"', html)
    assert link.startswith(f"{SENDER.public_url}/espace/dossiers/{SID}?token=")


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://palmares.example",
        "//palmares.example",
        "palmares.example",
        'https://palmares.example/"><script>',
        "https://user:secret@palmares.example",
        "https://palmares.example/\r\nX: y",
    ],
)
def test_api_url_must_be_a_plain_http_url(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError):
        render.Sender(public_url=url)
    monkeypatch.setenv("API_URL", url)
    with pytest.raises(ValueError, match="API_URL"):
        NotifySettings()


def test_api_url_https_is_fine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_URL", "https://palmares.villes-internet.example/")
    assert NotifySettings().sender().public_url == "https://palmares.villes-internet.example/"
    _text, html = parts(parse(render.render_receipt(**_receipt_args(NotifySettings().sender()))))
    assert f'href="https://palmares.villes-internet.example/espace/dossiers/{SID}"' in html


def _receipt_args(sender: render.Sender) -> dict[str, Any]:
    return {
        "notification": render.notification_id("receipt", SID, 1),
        "to": "mairie@commune.example",
        "collectivite": commune("Fréhel"),
        "edition": 2017,
        "submission_id": SID,
        "revision": 1,
        "actions": 1,
        "submitted_at": AT,
        "sender": sender,
        "at": AT,
    }


def test_sender_identity_cannot_carry_a_line_break(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAIL_FROM", "Label <palmares@villes-internet.example>\r\nBcc: x@evil.example")
    with pytest.raises(ValueError, match="control"):
        NotifySettings()


def test_smtp_credentials_are_not_sent_in_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_HOST", "smtp.villes-internet.example")
    monkeypatch.setenv("SMTP_USERNAME", "palmares")
    monkeypatch.setenv("SMTP_PASSWORD", "s3cret-smtp")
    with pytest.raises(ValueError, match="SMTP_STARTTLS"):
        NotifySettings()
    monkeypatch.setenv("SMTP_STARTTLS", "true")
    settings = NotifySettings()
    assert "s3cret-smtp" not in repr(settings) and "s3cret-smtp" not in str(settings)
    monkeypatch.setenv("SMTP_STARTTLS", "false")
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    assert NotifySettings().smtp_username == "palmares"  # a relay on this machine

"""The letters' MIME bytes, written without the `email` package, read back by it as a mail client would."""

from __future__ import annotations

import email
import email.policy
from email.headerregistry import Address
from email.message import EmailMessage

import pytest
from palmares_notify import mime, render


def parse(raw: bytes) -> EmailMessage:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def letter(subject: str, text: str, html: str, image: bytes | None = None) -> bytes:
    html_part = mime.text_part(html, "html")
    if image is not None:
        html_part = mime.multipart("related", "=_rB", [html_part, mime.inline_image(image, "sign@x", "sign.png")])
    head = mime.header("To", "a@b.example") + mime.text_header("Subject", subject)
    return (
        head
        + mime.multipart_header("alternative", "=_aB")
        + mime.multipart_body("=_aB", [mime.text_part(text, "plain"), html_part])
    )


@pytest.mark.parametrize(
    "subject",
    [
        "Short and ASCII",
        "Palmarès 2017\u00a0: la communauté de communes de Parthenay-Gâtine obtient cinq arobases",
        "Rectificatif — " + "é" * 100,  # two-byte characters across many words
        "Émoji 🎉 " * 12,  # four-byte characters never split
        "A long ASCII subject that does not fit on one header line of seventy-eight characters at all",
    ],
)
def test_the_subject_reads_back_whole_in_lines_of_78_characters(subject: str) -> None:
    raw = letter(subject, "x\n", "<p>x</p>\n")
    assert parse(raw)["Subject"] == subject
    head = raw.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n"):
        assert len(line) <= 78, line
        for word in line.split():
            assert not word.startswith(b"=?") or len(word) <= 75, word  # RFC 2047 §2


def test_text_parts_read_back_exactly_in_lines_of_76_characters() -> None:
    text = "Madame, Monsieur le Maire,\n\n" + "Le palmarès « 2017 » est dévoilé = fête. " * 10 + "\nfin de ligne \n.\n"
    html = "<p>Une ligne très longue " + "é" * 200 + "</p>\n"
    raw = letter("Objet", text, html)
    parsed = parse(raw)
    plain, rich = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert plain is not None and rich is not None
    assert plain.get_content().replace("\r\n", "\n") == text
    assert rich.get_content().replace("\r\n", "\n") == html
    assert plain["Content-Transfer-Encoding"] == "quoted-printable" and plain.get_content_charset() == "utf-8"
    body = raw.split(b"\r\n\r\n", 1)[1]
    assert b"\n" not in body.replace(b"\r\n", b""), "every line break is CRLF"
    assert all(len(line) <= 76 for line in body.split(b"\r\n"))


def test_a_lone_carriage_return_is_a_line_break_and_other_controls_are_escaped() -> None:
    raw = letter("Objet", "avant\rapres\x0bfin\n", "<p>x</p>\n")
    assert b"avant\r\napres=0Bfin\r\n" in raw
    plain = parse(raw).get_body(("plain",))
    assert plain is not None and plain.get_content().replace("\r\n", "\n") == "avant\napres\x0bfin\n"


def test_the_inline_image_travels_whole_beside_the_html() -> None:
    png = bytes(range(256)) * 20
    parsed = parse(letter("Objet", "x\n", '<img src="cid:sign@x">\n', image=png))
    assert [p.get_content_type() for p in parsed.walk()] == [
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
    ]
    (image,) = [p for p in parsed.walk() if p.get_content_type() == "image/png"]
    assert image.get_content() == png
    assert image["Content-ID"] == "<sign@x>" and image.get_content_disposition() == "inline"
    assert image.get_filename() == "sign.png"


@pytest.mark.parametrize(
    "to",
    [
        "mairie@commune.example",
        "Mairie.Numerique@Ville-Haute.EXAMPLE",
        "contact+label@a-b.c.example",
        "x_y-z@x.example",
        "o'brien@commune.example",  # not the plain form: the parser's path
        '"quoted local"@commune.example',
    ],
)
def test_a_plain_address_is_accepted_as_the_address_parser_would(to: str) -> None:
    parsed = Address(addr_spec=to)
    assert render.recipient(to) == f"{parsed.username}@{parsed.domain}"


@pytest.mark.parametrize("to", ["a..b@commune.example", ".a@commune.example", "a@", "@commune.example", "a@-x.example"])
def test_a_malformed_address_is_refused_on_either_path(to: str) -> None:
    with pytest.raises(ValueError):
        render.recipient(to)

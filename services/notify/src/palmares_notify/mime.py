"""The bytes of a letter: a fixed MIME layout written directly (pure).

Every letter has the same shape: a multipart/alternative of a text part and
an HTML part, the HTML part in a multipart/related with the entry sign when
there is one. Its headers are values we validated ourselves (`render`).

Why not the `email` package: building the message with its MIME classes and
flattening it with its generator was most of the cost of a letter (an award
took 1.14 ms here, of which the generator's header folding 0.5, the
quoted-printable body encoding in pure Python 0.2, and the RFC 2047 subject,
where the utf-8 charset tries both encodings character by character, 0.4).
Our layout is fixed and our header values are single validated lines, so what
the package generalises (parsing, refolding any header, choosing encodings)
has nothing to do here. The encodings themselves stay the library's:
`binascii.b2a_qp` (RFC 2045 quoted-printable, in C), `base64`, and the
package's own folding for the sender's addresses (computed once per sender).
The tests parse every letter back with the `email` package, as a mail client
would (tests/unit/notify/test_mime.py, test_render.py, tests/unit/security/test_emails.py).
"""

from __future__ import annotations

import base64
import binascii
import functools
from dataclasses import dataclass

CRLF = b"\r\n"
# RFC 2047: an encoded word is at most 75 characters. 39 bytes of UTF-8 are 52 characters of base64, so
# « Subject: » and one word stay within the 78 characters a line should keep to (RFC 5322 §2.1.1).
_WORD_BYTES = 39
_TEXT_HEADERS = 'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n'


@dataclass(frozen=True, slots=True)
class Letter:
    """A rendered email: its Message-ID, and the bytes sent (and stored, so that a resend is identical)."""

    message_id: str
    raw: bytes

    def as_bytes(self) -> bytes:
        """The message as sent (CRLF line endings), like `email.message.Message.as_bytes`."""
        return self.raw


def header(name: str, value: str) -> bytes:
    """One header line, `value` being a single line of ASCII that we wrote or validated."""
    return f"{name}: {value}\r\n".encode("ascii")


def text_header(name: str, value: str) -> bytes:
    """A header of free text (the subject): as is when short ASCII, else RFC 2047 encoded words, folded."""
    if value.isascii() and len(name) + 2 + len(value) <= 78:
        return header(name, value)
    words: list[str] = []
    chunk: list[str] = []
    size = 0
    for char in value:  # never a character split across two words (RFC 2047 §5)
        width = len(char.encode())
        if size + width > _WORD_BYTES:
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(char)
        size += width
    words.append("".join(chunk))
    encoded = "\r\n ".join(f"=?utf-8?b?{base64.b64encode(word.encode()).decode('ascii')}?=" for word in words)
    return f"{name}: {encoded}\r\n".encode("ascii")


def text_part(text: str, subtype: str) -> bytes:
    """A text part in UTF-8, quoted-printable: readable in the raw message, lines of at most 76 characters.

    Every line break (LF, CRLF or a lone CR, as `str.splitlines` reads them) becomes CRLF: a lone CR
    must not reach the SMTP client, which would make it one anyway. Other control characters are escaped.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").encode()
    body = binascii.b2a_qp(lines, istext=True).replace(b"\n", CRLF)
    return _TEXT_HEADERS.format(subtype=subtype).encode("ascii") + body


@functools.lru_cache(maxsize=64)  # a few entry signs per edition (`panneau.draw_panneau`), each sent many times
def inline_image(png: bytes, content_id: str, filename: str) -> bytes:
    """An inline PNG image (shown by the HTML part through its Content-ID), in base64 lines of 76 characters."""
    return (
        "Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
        f'Content-ID: <{content_id}>\r\nContent-Disposition: inline; filename="{filename}"\r\n\r\n'
    ).encode("ascii") + base64.encodebytes(png).replace(b"\n", CRLF)


def multipart_header(subtype: str, boundary: str) -> bytes:
    """The Content-Type of a multipart, folded before its boundary as the `email` package folds it."""
    return f'Content-Type: multipart/{subtype};\r\n boundary="{boundary}"\r\n'.encode("ascii")


def multipart_body(boundary: str, parts: list[bytes]) -> bytes:
    """The parts between their boundaries (RFC 2046 §5.1.1), after the blank line that ends the headers.

    The boundary must not occur in any part: `render` draws it from the notification id, in a form that
    quoted-printable and base64 never write.
    """
    delimiter = f"--{boundary}".encode("ascii")
    return CRLF + delimiter + CRLF + (CRLF + delimiter + CRLF).join(parts) + CRLF + delimiter + b"--" + CRLF


def multipart(subtype: str, boundary: str, parts: list[bytes]) -> bytes:
    """A multipart body part: its Content-Type, then its parts."""
    return multipart_header(subtype, boundary) + multipart_body(boundary, parts)

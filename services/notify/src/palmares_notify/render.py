"""Rendering of the emails (pure): Jinja2 templates → the bytes of a MIME message (`mime`), text and HTML parts.

A message is rendered once, when the notification is created, and stored: a
resend after a crash is byte-identical (same Message-ID and Date).

Nothing from a dossier can change a message's headers or its markup:
- header values are single lines (control characters, CR and LF become
  spaces) and the recipient must be exactly one plain address;
- the HTML templates autoescape everything they show;
- the only link, the dossier's page (signed so that it opens with no other
  step: `links`), is built from configuration whose scheme must be http or
  https (`Sender`).

The French of the letters (names with elision and contraction, numbers and
plurals, dates in Europe/Paris, typography) comes from `palmares_label.french`;
the account of each mention's evidence from `evidence`. Rendering is pure:
data in, message out.
"""

from __future__ import annotations

import email.policy
import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.utils import format_datetime, formataddr
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid5

from jinja2 import Environment, PackageLoader, StrictUndefined
from palmares_contracts.links import DOSSIER_PAGE_PATH
from palmares_label import french
from palmares_label.final import final_arobases, final_mentions

from palmares_notify import mime
from palmares_notify.advice import Advice, advice_for
from palmares_notify.evidence import evidence_sentence
from palmares_notify.links import signed_link
from palmares_notify.panneau import draw_panneau, title_of

PANNEAU_CID = "panneau@palmares"

NAMESPACE = UUID("6f1c1a52-3b7e-4b8e-9d43-7a0f0f6c2a11")

_env = Environment(
    loader=PackageLoader("palmares_notify", "templates"),
    autoescape=lambda name: bool(name and name.endswith(".html.j2")),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    auto_reload=False,  # the templates ship with the package: no file system check before each letter
)
_env.filters["number"] = french.number
_env.filters["count"] = french.count
_env.filters["arobases"] = french.arobases
_env.filters["quoted"] = french.quoted
_env.filters["in_words"] = french.in_words


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
# The addresses collectivités give are nearly all this plain form (a dot-atom of common characters, an ASCII
# domain), which the `email` address parser would return unchanged: they skip the parser (a tenth of a letter's
# rendering). Anything else goes through it.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9.-]+")


def header_text(value: str) -> str:
    """A header value on one line: every run of control characters (CR, LF, …) becomes one space."""
    return _CONTROL.sub(" ", value).strip()


def recipient(to: str) -> str:
    """`to` as exactly one plain address, its domain in ASCII (IDNA); ValueError otherwise.

    Refuses lists, display names, line breaks and non-ASCII local parts (which
    need SMTPUTF8): the address goes into the `To` header and the SMTP envelope.
    """
    if not to or _CONTROL.search(to):
        raise ValueError("recipient address empty or with control characters")
    if _PLAIN_ADDRESS.fullmatch(to):
        username, _, domain = to.partition("@")
    else:
        try:
            address = Address(addr_spec=to)  # refuses anything but one addr-spec
        except (ValueError, IndexError, HeaderParseError) as exc:
            raise ValueError(f"not one plain recipient address: {exc}") from None
        username, domain = address.username, address.domain
    if not username.isascii():
        raise ValueError("recipient address with a non-ASCII local part")
    domain = domain.encode("idna").decode("ascii")
    if not _DOMAIN.match(domain):
        raise ValueError("recipient address with an invalid domain")
    return f"{username}@{domain}"


def safe_link_base(url: str) -> str:
    """`url` if it is an absolute http(s) URL without credentials (the base of every link we send)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"API_URL must be an http:// or https:// URL, not {url!r}")
    if parts.username or parts.password or _CONTROL.search(url) or any(c in url for c in " \"'<>`"):
        raise ValueError("API_URL must hold no credentials, spaces, quotes or control characters")
    return url.rstrip("/")


@dataclass(frozen=True, slots=True)
class Sender:
    """Who the emails come from, and the public URL their link points to (validated here)."""

    address: str = "Label Villes Internet <palmares@villes-internet.example>"
    reply_to: str = "contact@villes-internet.example"
    domain: str = "villes-internet.example"  # short: keeps "Message-ID: <uuid@domain>" on one line
    public_url: str = "http://127.0.0.1:8000"
    # The page of a dossier that the letters link to, `{submission_id}` in it replaced;
    # empty: the dossier's status in the API under `public_url`.
    dossier_link: str = ""
    # Signs the dossier links (shared with the submission service, which opens them); never shown.
    link_key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        safe_link_base(self.public_url)
        if self.dossier_link:
            if "{submission_id}" not in self.dossier_link:
                raise ValueError("DOSSIER_URL must hold {submission_id}, where the dossier's id goes")
            safe_link_base(self.dossier_link.replace("{submission_id}", "x"))
        for name in ("address", "reply_to", "domain"):
            if _CONTROL.search(getattr(self, name)):
                raise ValueError(f"sender {name} holds control characters")
        if not _DOMAIN.match(self.domain):
            raise ValueError(f"invalid Message-ID domain {self.domain!r}")

    def dossier_url(self, submission_id: UUID) -> str:
        """Where a letter sends the collectivité to see its dossier."""
        link = self.dossier_link or f"{safe_link_base(self.public_url)}{DOSSIER_PAGE_PATH}"
        return signed_link(link.replace("{submission_id}", str(submission_id)), submission_id, self.link_key)


def notification_id(kind: str, submission_id: UUID, discriminator: object = None) -> UUID:
    """Stable id of an email: the same dossier event always yields the same notification.

    `discriminator` tells apart emails of one kind for one dossier: the
    revision for receipts, the jury decision for rectificatifs.
    """
    return uuid5(NAMESPACE, f"{kind}:{submission_id}:{discriminator if discriminator is not None else '-'}")


def message_id(notification: UUID, sender: Sender) -> str:
    return f"<{notification}@{sender.domain}>"


@functools.lru_cache(maxsize=8)
def _sender_headers(sender: Sender) -> bytes:
    """From and Reply-To, parsed and folded once per sender by the `email` package (its address parser is slow)."""
    factory = email.policy.SMTP.header_factory
    fold = email.policy.compat32.clone(linesep="\r\n").fold

    def line(name: str, value: str) -> str:
        header = factory(name, value)
        addresses = [(a.display_name, a.addr_spec) for a in header.addresses]
        return fold(name, ", ".join(formataddr(a, charset="utf-8") for a in addresses))

    return (line("From", sender.address) + line("Reply-To", sender.reply_to)).encode("ascii")


def _boundary(notification: UUID, part: str) -> str:
    """A multipart's boundary, from the notification id: the same message renders to the same bytes.

    It cannot occur in a body: every text part is quoted-printable, where « = » only starts a soft line
    break or an escape of two hexadecimal digits, never « =_ »; the image is base64, which has no « - »
    to start a « -- » line with."""
    return f"=_{part}{notification.hex}"


def _message(
    *,
    kind: str,
    notification: UUID,
    to: str,
    subject: str,
    context: dict[str, Any],
    sender: Sender,
    at: datetime,
    image: bytes | None = None,
    template: str | None = None,
) -> mime.Letter:
    context = {**context, "subject": subject}
    template = template or kind
    text = mime.text_part(_env.get_template(f"{template}.txt.j2").render(context), "plain")
    html = mime.text_part(_env.get_template(f"{template}.html.j2").render(context), "html")
    if image is not None:
        # multipart/related inside the HTML alternative: the image shows inline, not as an attachment.
        panneau = mime.inline_image(image, PANNEAU_CID, "panneau.png")
        html = mime.multipart("related", _boundary(notification, "r"), [html, panneau])
    boundary = _boundary(notification, "a")
    identifier = message_id(notification, sender)
    head = b"".join(
        (
            mime.header("Message-ID", identifier),
            mime.header("Date", format_datetime(at)),
            _sender_headers(sender),
            mime.header("To", recipient(to)),
            mime.text_header("Subject", header_text(subject)),
            mime.header("X-Palmares-Notification", f"{kind}; id={notification}"),
            mime.header("MIME-Version", "1.0"),
            mime.multipart_header("alternative", boundary),
        )
    )
    return mime.Letter(identifier, head + mime.multipart_body(boundary, [text, html]))


@dataclass(frozen=True, slots=True)
class Addressee:
    """The collectivité a letter is written to, and how the letter names it."""

    name: french.Designation  # « Le Mans », « la communauté de communes de Parthenay-Gâtine »
    described: french.Designation  # « la ville du Mans », « le village de Fréhel », an EPCI's name
    kind: str
    category: str

    @classmethod
    def of(cls, collectivite: Mapping[str, Any]) -> Addressee:
        """From a `Collectivite` of the contracts, as JSON."""
        name, kind, category = str(collectivite["name"]), str(collectivite["kind"]), str(collectivite["category"])
        epci_type = collectivite.get("epci_type")
        return cls(
            name=french.collectivite(name, kind, epci_type),
            described=french.described(name, kind, category, epci_type),
            kind=kind,
            category=category,
        )

    def context(self) -> dict[str, Any]:
        return {
            "name": self.name.bare,
            "name_start": self.name.start,
            "described": self.described.bare,
            "described_de": self.described.de,
            "salutation": french.salutation(self.kind),
            "addressee": french.addressee(self.kind),
        }


def render_receipt(
    *,
    notification: UUID,
    to: str,
    collectivite: Mapping[str, Any],
    edition: int,
    submission_id: UUID,
    revision: int,
    actions: int,
    submitted_at: datetime,
    sender: Sender,
    at: datetime,
) -> mime.Letter:
    """The receipt of a dossier revision."""
    return _message(
        kind="receipt",
        notification=notification,
        to=to,
        subject=f"Dossier reçu — label Territoires, Villes et Villages Internet {edition}",
        context={
            **Addressee.of(collectivite).context(),
            "edition": edition,
            "submission_id": str(submission_id),
            "revision": revision,
            "actions": actions,
            "submitted_at": french.date_at_time(submitted_at),
            "dossier_url": sender.dossier_url(submission_id),
        },
        sender=sender,
        at=at,
    )


def render_award(
    *,
    notification: UUID,
    to: str,
    collectivite: Mapping[str, Any],
    edition: int,
    submission_id: UUID,
    score: dict[str, Any],
    mentions: dict[str, Any],
    jury: dict[str, Any] | None,
    ceremony: dict[str, Any] | None,
    sender: Sender,
    at: datetime,
    previous_arobases: int | None = None,
    previous_message_at: datetime | None = None,
    distinctions: list[str] | None = None,
    service_labels: dict[str, str] | None = None,
    advice: Advice | None = None,
) -> mime.Letter:
    """The award email: the dossier's final arobases and mentions, explanation, advice, the entry sign.

    `mentions` is the mentions service's result (`MentionsDetected` as JSON);
    `jury`, once it decided, its arobases, comment, author and, if it ruled on
    them, the `mentions` it granted: the letter shows what `palmares_label.final`
    makes of them.

    With `previous_arobases`, the same email as a « rectificatif » that cancels
    and replaces the message sent at `previous_message_at`: with other arobases,
    or with the same arobases and other mentions (the jury revised only those).
    `advice` (the next arobase, the services to declare) is, when not given,
    `advice.advice_for` the score and mentions given.
    """
    addressee = Addressee.of(collectivite)
    arobases = final_arobases(int(score["arobases"]), int(jury["arobases"]) if jury else None)
    shown = final_mentions(mentions.get("mentions", []), jury.get("mentions") if jury else None)
    rectificatif = previous_arobases is not None
    labels = service_labels or {}
    pre_notation = score.get("arobases")
    if advice is None:
        advice = advice_for(score, mentions, arobases, labels)
    subject = f"Palmarès {edition}{french.NBSP}: {addressee.name.bare} obtient {french.arobases(arobases)}"
    return _message(
        kind="rectificatif" if rectificatif else "award",
        template="award",
        notification=notification,
        to=to,
        subject=f"Rectificatif — {subject[0].lower()}{subject[1:]}" if rectificatif else subject,
        context={
            **addressee.context(),
            "edition": edition,
            "arobases": arobases,
            "previous_arobases": previous_arobases,
            "previous_message_on": french.long_date(previous_message_at) if previous_message_at else None,
            "distinctions": [french.typographic(d) for d in distinctions or []],
            "panneau_title": title_of(addressee.category),
            "panneau_cid": PANNEAU_CID,
            "pre_notation": pre_notation,
            "score": score.get("score"),
            "jury": {**jury, "comment": french.typographic(jury.get("comment") or "")} if jury else None,
            "ceremony": (
                {"at_place": french.place(ceremony["place"]).a, "date": french.long_date(ceremony["date"])}
                if ceremony
                else None
            ),
            "mentions": [
                {"label": french.typographic(m["label"]), "evidence": evidence_sentence(m, labels)} for m in shown
            ],
            "enjeux": [
                {"label": french.typographic(e.get("label") or e["code"]), "percent": round(e["coverage"] * 100)}
                for e in score.get("enjeux", [])
                if e.get("coverage", 0) > 0
            ],
            "advice": advice,
            "dossier_url": sender.dossier_url(submission_id),
        },
        sender=sender,
        at=at,
        image=draw_panneau(addressee.category, edition, arobases),
    )

"""Rendering of the emails (pure): Jinja2 templates → a MIME message, text and HTML parts.

A message is rendered once, when the notification is created, and stored: a
resend after a crash is byte-identical (same Message-ID and Date).

Nothing from a dossier can change a message's headers or its markup:
- header values are single lines (control characters, CR and LF become
  spaces) and the recipient must be exactly one plain address;
- the HTML templates autoescape everything they show;
- the only link, the status URL, is built from configuration whose scheme
  must be http or https (`Sender`).
"""

from __future__ import annotations

import email.policy
import functools
import re
from dataclasses import dataclass
from datetime import date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid5

from jinja2 import Environment, PackageLoader, StrictUndefined

from palmares_notify.panneau import draw_panneau, title_of

PANNEAU_CID = "panneau@palmares"

NAMESPACE = UUID("6f1c1a52-3b7e-4b8e-9d43-7a0f0f6c2a11")

_env = Environment(
    loader=PackageLoader("palmares_notify", "templates"),
    autoescape=lambda name: bool(name and name.endswith(".html.j2")),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)
# French decimals: « 11,8 », not "11.8".
_env.filters["fr"] = lambda number: f"{number:g}".replace(".", ",") if isinstance(number, float) else number


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")


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
    try:
        address = Address(addr_spec=to)  # refuses anything but one addr-spec
    except (ValueError, IndexError) as exc:
        raise ValueError(f"not one plain recipient address: {exc}") from None
    if not address.username.isascii():
        raise ValueError("recipient address with a non-ASCII local part")
    domain = address.domain.encode("idna").decode("ascii")
    if not _DOMAIN.match(domain):
        raise ValueError("recipient address with an invalid domain")
    return f"{address.username}@{domain}"


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

    def __post_init__(self) -> None:
        safe_link_base(self.public_url)
        for name in ("address", "reply_to", "domain"):
            if _CONTROL.search(getattr(self, name)):
                raise ValueError(f"sender {name} holds control characters")
        if not _DOMAIN.match(self.domain):
            raise ValueError(f"invalid Message-ID domain {self.domain!r}")


def notification_id(kind: str, submission_id: UUID, discriminator: object = None) -> UUID:
    """Stable id of an email: the same dossier event always yields the same notification.

    `discriminator` tells apart emails of one kind for one dossier: the
    revision for receipts, the jury decision for rectificatifs.
    """
    return uuid5(NAMESPACE, f"{kind}:{submission_id}:{discriminator if discriminator is not None else '-'}")


def message_id(notification: UUID, sender: Sender) -> str:
    return f"<{notification}@{sender.domain}>"


@functools.lru_cache(maxsize=8)
def _sender_headers(sender: Sender) -> tuple[Any, Any]:
    """From and Reply-To parsed once: the address parser is the main cost of building a message.

    (The email package stores a header object given to it as is.)
    """
    factory = email.policy.SMTP.header_factory
    return factory("From", sender.address), factory("Reply-To", sender.reply_to)


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
) -> EmailMessage:
    context = {**context, "subject": subject}
    msg = EmailMessage(policy=email.policy.SMTP)
    msg["Message-ID"] = message_id(notification, sender)
    msg["Date"] = format_datetime(at)
    msg["From"], msg["Reply-To"] = _sender_headers(sender)
    msg["To"] = recipient(to)
    msg["Subject"] = header_text(subject)
    msg["X-Palmares-Notification"] = f"{kind}; id={notification}"
    template = template or kind
    msg.set_content(_env.get_template(f"{template}.txt.j2").render(context), charset="utf-8", cte="quoted-printable")
    msg.add_alternative(
        _env.get_template(f"{template}.html.j2").render(context),
        subtype="html",
        charset="utf-8",
        cte="quoted-printable",
    )
    if image is not None:
        # multipart/related inside the HTML alternative: the image shows inline, not as an attachment.
        html_part = msg.get_body(("html",))
        assert html_part is not None
        html_part.add_related(
            image, "image", "png", cid=f"<{PANNEAU_CID}>", disposition="inline", filename="panneau.png"
        )
    return msg


def render_receipt(
    *,
    notification: UUID,
    to: str,
    name: str,
    edition: int,
    submission_id: UUID,
    revision: int,
    actions: int,
    submitted_at: datetime,
    sender: Sender,
    at: datetime,
) -> EmailMessage:
    """The receipt of a dossier revision."""
    return _message(
        kind="receipt",
        notification=notification,
        to=to,
        subject=f"Dossier reçu — label Territoires, Villes et Villages Internet {edition}",
        context={
            "name": name,
            "edition": edition,
            "submission_id": str(submission_id),
            "revision": revision,
            "actions": actions,
            "submitted_at": submitted_at.strftime("%d/%m/%Y à %H:%M (UTC)"),
            "status_url": f"{safe_link_base(sender.public_url)}/v1/submissions/{submission_id}",
        },
        sender=sender,
        at=at,
    )


def evidence_summary(mention: dict[str, Any], service_labels: dict[str, str] | None = None, limit: int = 2) -> str:
    """A short French account of why a mention was detected, one part per action (or the narrative)."""
    labels = service_labels or {}
    found: dict[str, list[str]] = {}
    for ev in mention.get("evidence", []):
        where = f"« {ev['action_title']} »" if ev.get("action_title") else "le récit du dossier"
        words = [labels.get(code, code) for code in ev.get("service_codes") or []] + list(ev.get("matched_terms") or [])
        found.setdefault(where, [])
        found[where] += [w for w in words if w not in found[where]]
    parts = [f"{where} ({', '.join(words)})" if words else where for where, words in list(found.items())[:limit]]
    return " ; ".join(parts)


_MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


def french_date(value: str | date) -> str:
    """« 1er février 2017 »: how a French letter writes a date."""
    day = value if isinstance(value, date) else date.fromisoformat(value)
    return f"{'1er' if day.day == 1 else day.day} {_MONTHS[day.month - 1]} {day.year}"


def render_award(
    *,
    notification: UUID,
    to: str,
    name: str,
    category: str,
    edition: int,
    score: dict[str, Any],
    mentions: dict[str, Any],
    jury: dict[str, Any] | None,
    ceremony: dict[str, Any] | None,
    sender: Sender,
    at: datetime,
    previous_arobases: int | None = None,
    distinctions: list[str] | None = None,
    service_labels: dict[str, str] | None = None,
) -> EmailMessage:
    """The award email: arobases (the jury's when decided), mentions, explanation, the entry sign.

    With `previous_arobases`, the same email as a « rectificatif » of an award
    already sent with other arobases.
    """
    arobases = final_arobases(score, jury)
    rectificatif = previous_arobases is not None
    labels = service_labels or {}
    next_level = score.get("next_level")
    if next_level:
        next_level = {**next_level, "suggested_services": [labels.get(c, c) for c in next_level["suggested_services"]]}
    subject = (
        f"Rectificatif — palmarès {edition} : {name} obtient {arobases} @"
        if rectificatif
        else f"Palmarès {edition} : {name} obtient {arobases} @"
    )
    return _message(
        kind="rectificatif" if rectificatif else "award",
        template="award",
        notification=notification,
        to=to,
        subject=subject,
        context={
            "name": name,
            "edition": edition,
            "arobases": arobases,
            "previous_arobases": previous_arobases,
            "distinctions": distinctions or [],
            "panneau_title": title_of(category),
            "panneau_cid": PANNEAU_CID,
            "pre_notation": score.get("arobases"),
            "score": score.get("score"),
            "jury": jury,
            "ceremony": {**ceremony, "date": french_date(ceremony["date"])} if ceremony else None,
            "mentions": [
                {"label": m["label"], "evidence_summary": evidence_summary(m, service_labels)}
                for m in mentions.get("mentions", [])
            ],
            "enjeux": [e for e in score.get("enjeux", []) if e.get("coverage", 0) > 0],
            # What would earn the next arobase is told only when the pré-notation is the result.
            "next_level": next_level if next_level and arobases == score.get("arobases") else None,
        },
        sender=sender,
        at=at,
        image=draw_panneau(category, edition, arobases),
    )


def final_arobases(score: dict[str, Any], jury: dict[str, Any] | None) -> int:
    """The arobases announced: the jury's when it decided, otherwise the pré-notation."""
    return int(jury["arobases"]) if jury else int(score["arobases"])

"""Who may sign in to the espaces, with which secret, for how long (pure: no I/O).

- A sign-in link carries `<selector>.<verifier>`: the selector finds the
  stored link, the verifier is compared in constant time with the SHA-256
  kept in its place (the database never holds a usable link).
- A session id is 256 random bits; the database keeps its SHA-256 only, so a
  leaked table opens no session.
- An account is an email address: the collectivités whose contact address it
  is, and the jury membership it holds (both read at each request, so that a
  revocation takes effect at once).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from palmares_label import french

SIGN_IN_LINK_LIFETIME = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=8)

JURY_TOKEN_PREFIX = "jur_"

_SELECTOR = re.compile(r"^[A-Za-z0-9_-]{16}$")
_VERIFIER = re.compile(r"^[A-Za-z0-9_-]{43}$")
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")


def _sha256(value: str) -> bytes:
    return hashlib.sha256(value.encode("ascii")).digest()


@dataclass(frozen=True, slots=True)
class SignInSecret:
    """A fresh sign-in link: `token` goes into the email, `selector` and `verifier_hash` into the database."""

    token: str
    selector: str
    verifier_hash: bytes


def new_sign_in_secret() -> SignInSecret:
    selector = secrets.token_urlsafe(12)  # 16 characters
    verifier = secrets.token_urlsafe(32)  # 256 bits, 43 characters
    return SignInSecret(f"{selector}.{verifier}", selector, _sha256(verifier))


def sign_in_url(public_base: str, token: str) -> str:
    """The link an email or an operator gives: the confirmation page of the espaces, with the token."""
    return f"{public_base}/espace/connexion/lien?token={token}"


def split_sign_in_token(token: str) -> tuple[str, str] | None:
    """`(selector, verifier)` of a well-formed token, None for anything else (never reaches the database)."""
    selector, _, verifier = token.partition(".")
    if not _SELECTOR.match(selector) or not _VERIFIER.match(verifier):
        return None
    return selector, verifier


def verifier_matches(verifier: str, stored_hash: bytes) -> bool:
    """Whether the verifier of a link is the one stored, compared in constant time."""
    return hmac.compare_digest(_sha256(verifier), stored_hash)


@dataclass(frozen=True, slots=True)
class StoredLink:
    """A sign-in link as the database keeps it: the hash of its verifier, whom it signs in, until when."""

    verifier_hash: bytes
    email: str
    expires_at: datetime
    used_at: datetime | None

    def usable(self, now: datetime) -> bool:
        """Not used yet, not expired: the confirmation page may show its button."""
        return self.used_at is None and self.expires_at > now

    def opens(self, verifier: str, now: datetime) -> bool:
        """Whether `verifier` signs in with this link now: the right verifier, on a usable link."""
        return verifier_matches(verifier, self.verifier_hash) and self.usable(now)


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def session_key(session_id: str) -> bytes | None:
    """What the database stores for a session id (its SHA-256); None if the cookie is not one of ours."""
    if not _SESSION_ID.match(session_id):
        return None
    return _sha256(session_id)


def new_jury_token() -> str:
    return JURY_TOKEN_PREFIX + secrets.token_urlsafe(32)


def normalise_email(address: str) -> str:
    """The form in which addresses are compared and stored: trimmed, lower case.

    The local part of an address is case-sensitive in theory, never in the
    mail systems of collectivités: « Mairie@… » and « mairie@… » are one person.
    """
    return address.strip().lower()


@dataclass(frozen=True, slots=True)
class Collectivite:
    """A collectivité an account acts for."""

    code: str
    name: str
    category: str
    departement: str
    kind: str = "commune"  # or "epci"

    @property
    def de(self) -> str:
        """Its name after « de »: « du Mans », « d’Agen », « de la communauté de communes de … »."""
        return french.collectivite(self.name, self.kind).de


@dataclass(frozen=True, slots=True)
class JuryMember:
    member_id: UUID
    email: str
    name: str


@dataclass(frozen=True, slots=True)
class Account:
    """A signed-in person: the collectivités of their address, their jury membership."""

    email: str
    collectivites: tuple[Collectivite, ...] = ()
    jury: JuryMember | None = None

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(c.code for c in self.collectivites)

    @property
    def exists(self) -> bool:
        """An address that is neither a contact nor a jury member has nothing to sign in to."""
        return bool(self.collectivites) or self.jury is not None

    def may_read(self, collectivite_code: str) -> bool:
        """Jury members read every dossier; a collectivité its own."""
        return self.jury is not None or collectivite_code in self.codes

    def may_edit(self, collectivite_code: str) -> bool:
        """Only the collectivité itself creates and revises its dossier."""
        return collectivite_code in self.codes

    @property
    def home(self) -> str:
        """Where the espace opens for this account."""
        if self.collectivites:
            return "/espace/collectivite"
        if self.jury is not None:
            return "/espace/jury"
        return "/espace/connexion"

"""The espaces' accounts: jury members, sign-in links and sessions (commands and queries of the service layer).

The commands run in a transaction (`commands.run`) and publish no event; the
queries read with a connection. Secrets are made and checked by the pure
`palmares_submission.domain.accounts`; only their hashes reach the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

import asyncpg
from palmares_contracts import Event, utcnow
from palmares_eventkit.db import Connection
from palmares_eventkit.runtime import Tx

from palmares_submission import account_store, auth, store
from palmares_submission.account_store import JuryMemberRow
from palmares_submission.domain import accounts
from palmares_submission.domain.accounts import Account, JuryMember
from palmares_submission.domain.errors import NotFound

# --- jury members -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Invited:
    """A jury member invited (again): their API token is shown once, only its hash is kept."""

    member: JuryMemberRow
    token: str
    events: tuple[Event, ...] = ()


async def invite_jury_member(tx: Tx, email: str, name: str) -> Invited:
    """Invite a jury member; inviting an address again (revoked or not) issues a new token."""
    token = accounts.new_jury_token()
    member = await account_store.invite_jury_member(
        tx.conn, uuid4(), accounts.normalise_email(email), name, auth.hash_token(token)
    )
    return Invited(member, token)


@dataclass(frozen=True, slots=True)
class Revoked:
    member: JuryMemberRow
    events: tuple[Event, ...] = ()


async def revoke_jury_member(tx: Tx, member_id: UUID) -> Revoked:
    """Revoke a jury member: their token stops working and their sessions end when the transaction commits."""
    member = await account_store.revoke_jury_member(tx.conn, member_id)
    if member is None:
        raise NotFound("Membre du jury introuvable.")
    return Revoked(member)


async def jury_members(conn: Connection) -> list[JuryMemberRow]:
    """Every jury member, revoked ones included."""
    return await account_store.jury_members(conn)


async def jury_member_of_token(conn: Connection, token: str) -> JuryMember | None:
    """The jury member whose API token this is (None: unknown or revoked)."""
    return await account_store.jury_member_by_token(conn, auth.hash_token(token))


async def principal_of_token(pool: asyncpg.Pool, token: str, operator_tokens: Iterable[str]) -> auth.Principal | None:
    """Who calls the API with this bearer token (None: unknown, revoked, or not a token this service issues).

    An operator's token, or one of no kind this service issues, costs no database round trip.
    """
    if len(token) > auth.MAX_TOKEN_LENGTH:
        return None
    if auth.is_operator(token, operator_tokens):
        return auth.Principal(operator=True, token_key=auth.token_key(token))
    if token.startswith(auth.JURY_PREFIX):
        async with pool.acquire() as conn:
            member = await jury_member_of_token(conn, token)
        return (
            auth.Principal(operator=False, jury=member.name, token_key=auth.token_key(token))
            if member is not None
            else None
        )
    if not token.startswith(auth.COLLECTIVITE_PREFIX):
        return None
    async with pool.acquire() as conn:
        row = await store.collectivite_by_token(conn, auth.hash_token(token))
    return auth.Principal(operator=False, code=row.code, token_key=auth.token_key(token)) if row is not None else None


# --- sign-in links ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LinkIssued:
    """A single-use sign-in link: `token` goes into the link, only its verifier's hash was stored."""

    email: str
    token: str
    expires_at: datetime
    events: tuple[Event, ...] = ()


async def issue_sign_in_link(tx: Tx, email: str) -> LinkIssued:
    """A sign-in link for an address that has something to sign in to (a collectivité's contact, a jury member)."""
    email = accounts.normalise_email(email)
    if not (await account_store.account(tx.conn, email)).exists:
        raise NotFound("Aucune collectivité ni aucun membre du jury n'a cette adresse.", field="email")
    secret = accounts.new_sign_in_secret()
    expires_at = utcnow() + accounts.SIGN_IN_LINK_LIFETIME
    await account_store.save_sign_in_link(tx.conn, secret.selector, secret.verifier_hash, email, expires_at)
    return LinkIssued(email, secret.token, expires_at)


async def sign_in_link_usable(conn: Connection, token: str) -> bool:
    """Whether the link's confirmation page may show its button (well formed, known, not used, not expired)."""
    parts = accounts.split_sign_in_token(token)
    if parts is None:
        return False  # never reaches the database
    stored = await account_store.sign_in_link(conn, parts[0])
    return stored is not None and stored.usable(utcnow())


@dataclass(frozen=True, slots=True)
class Session:
    """A browser session just opened: its id goes into the cookie, only its hash was stored."""

    account: Account
    session_id: str


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The outcome of a sign-in link: the session it opened, None for a link refused."""

    session: Session | None
    events: tuple[Event, ...] = ()


async def sign_in(tx: Tx, token: str, previous_session_id: str | None) -> SignedIn:
    """Use a sign-in link once: open a session under a new id, and close the browser's previous session.

    A link whose account was revoked since it was sent is used up all the same
    (its use is kept), and opens nothing.
    """
    parts = accounts.split_sign_in_token(token)
    if parts is None:
        return SignedIn(None)
    selector, verifier = parts
    stored = await account_store.lock_sign_in_link(tx.conn, selector)  # two clicks cannot both use it
    if stored is None or not stored.opens(verifier, utcnow()):
        return SignedIn(None)
    await account_store.mark_link_used(tx.conn, selector)
    account = await account_store.account(tx.conn, stored.email)
    if not account.exists:  # revoked since the link was sent
        return SignedIn(None)
    if previous_session_id is not None:
        await sign_out(tx, previous_session_id)
    session_id = accounts.new_session_id()
    key = accounts.session_key(session_id)
    assert key is not None  # a session id of ours
    await account_store.open_session(tx.conn, key, stored.email, utcnow() + accounts.SESSION_LIFETIME)
    return SignedIn(Session(account, session_id))


@dataclass(frozen=True, slots=True)
class SignedOut:
    events: tuple[Event, ...] = ()


async def sign_out(tx: Tx, session_id: str) -> SignedOut:
    """Close a session (nothing for a cookie that is not a session id of ours)."""
    key = accounts.session_key(session_id)
    if key is not None:
        await account_store.close_session(tx.conn, key)
    return SignedOut()


async def session_account(conn: Connection, session_id: str) -> Account | None:
    """The account of a live session, None for an unknown, expired or closed one, or one whose account is gone."""
    key = accounts.session_key(session_id)
    if key is None:
        return None
    email = await account_store.session_email(conn, key)
    if email is None:
        return None
    account = await account_store.account(conn, email)
    return account if account.exists else None

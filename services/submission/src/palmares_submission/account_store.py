"""SQL of the espaces' accounts: jury members, sign-in links, browser sessions (submission's own schema)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg
from palmares_eventkit.db import Connection

from palmares_submission.domain.accounts import Account, Collectivite, JuryMember, StoredLink


async def account(conn: Connection, email: str) -> Account:
    """Everything an address gives access to (nothing, for an address nobody registered)."""
    rows = await conn.fetch(
        "SELECT code, name, category, departement, kind FROM collectivites WHERE lower(contact_email) = $1 ORDER BY name",
        email,
    )
    member = await conn.fetchrow(
        "SELECT member_id, email, name FROM jury_members WHERE email = $1 AND revoked_at IS NULL", email
    )
    return Account(
        email=email,
        collectivites=tuple(Collectivite(**dict(r)) for r in rows),
        jury=JuryMember(**dict(member)) if member else None,
    )


# --- sign-in links --------------------------------------------------------------------------


async def save_sign_in_link(
    conn: Connection, selector: str, verifier_hash: bytes, email: str, expires_at: datetime
) -> None:
    # Expired links are of no use to anyone: each new link sweeps them away.
    await conn.execute("DELETE FROM sign_in_links WHERE expires_at < now() - interval '1 day'")
    await conn.execute(
        "INSERT INTO sign_in_links (selector, verifier_hash, email, expires_at) VALUES ($1, $2, $3, $4)",
        selector,
        verifier_hash,
        email,
        expires_at,
    )


_LINK = "SELECT verifier_hash, email, expires_at, used_at FROM sign_in_links WHERE selector = $1"


async def sign_in_link(conn: Connection, selector: str) -> StoredLink | None:
    """The link of `selector`, as it is now."""
    return _stored_link(await conn.fetchrow(_LINK, selector))


async def lock_sign_in_link(conn: Connection, selector: str) -> StoredLink | None:
    """The link of `selector`, locked until the transaction ends (two clicks cannot both use it)."""
    return _stored_link(await conn.fetchrow(_LINK + " FOR UPDATE", selector))


def _stored_link(row: asyncpg.Record | None) -> StoredLink | None:
    return StoredLink(bytes(row["verifier_hash"]), row["email"], row["expires_at"], row["used_at"]) if row else None


async def mark_link_used(conn: Connection, selector: str) -> None:
    await conn.execute("UPDATE sign_in_links SET used_at = now() WHERE selector = $1", selector)


# --- sessions -------------------------------------------------------------------------------


async def open_session(conn: Connection, key: bytes, email: str, expires_at: datetime) -> None:
    await conn.execute("DELETE FROM web_sessions WHERE expires_at < now()")
    await conn.execute(
        "INSERT INTO web_sessions (session_hash, email, expires_at) VALUES ($1, $2, $3)", key, email, expires_at
    )


async def session_email(conn: Connection, key: bytes) -> str | None:
    """The address of a live session, None for an unknown or expired one."""
    email: str | None = await conn.fetchval(
        "SELECT email FROM web_sessions WHERE session_hash = $1 AND expires_at > now()", key
    )
    return email


async def close_session(conn: Connection, key: bytes) -> None:
    await conn.execute("DELETE FROM web_sessions WHERE session_hash = $1", key)


# --- jury members ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JuryMemberRow:
    member_id: UUID
    email: str
    name: str
    invited_at: datetime
    revoked_at: datetime | None


_MEMBER = "member_id, email, name, invited_at, revoked_at"


async def invite_jury_member(
    conn: Connection, member_id: UUID, email: str, name: str, token_hash: bytes
) -> JuryMemberRow:
    """A new member, or a new token for an address invited before (a revoked member is invited again)."""
    row = await conn.fetchrow(
        f"""INSERT INTO jury_members (member_id, email, name, token_hash) VALUES ($1, $2, $3, $4)
            ON CONFLICT (email) DO UPDATE SET name = EXCLUDED.name, token_hash = EXCLUDED.token_hash,
              invited_at = now(), revoked_at = NULL
            RETURNING {_MEMBER}""",
        member_id,
        email,
        name,
        token_hash,
    )
    assert row is not None  # an upsert always returns its row
    return JuryMemberRow(**dict(row))


async def jury_members(conn: Connection) -> list[JuryMemberRow]:
    rows = await conn.fetch(f"SELECT {_MEMBER} FROM jury_members ORDER BY invited_at")
    return [JuryMemberRow(**dict(r)) for r in rows]


async def revoke_jury_member(conn: Connection, member_id: UUID) -> JuryMemberRow | None:
    """Revoke a member: token cleared, every session of the address closed (None: no such member)."""
    row = await conn.fetchrow(
        f"""UPDATE jury_members SET token_hash = NULL, revoked_at = coalesce(revoked_at, now())
            WHERE member_id = $1 RETURNING {_MEMBER}""",
        member_id,
    )
    if row is None:
        return None
    await conn.execute("DELETE FROM web_sessions WHERE email = $1", row["email"])
    return JuryMemberRow(**dict(row))


async def jury_member_by_token(conn: Connection, token_hash: bytes) -> JuryMember | None:
    row = await conn.fetchrow(
        "SELECT member_id, email, name FROM jury_members WHERE token_hash = $1 AND revoked_at IS NULL", token_hash
    )
    return JuryMember(**dict(row)) if row else None

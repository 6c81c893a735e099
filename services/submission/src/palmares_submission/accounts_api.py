"""Operators' routes for the espaces' accounts: jury members (invite, list, revoke) and sign-in links."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from palmares_submission.account_store import JuryMemberRow
from palmares_submission.api import AUTH, BODY, AuthenticatedFirst, Operator, runtime_of
from palmares_submission.domain.accounts import sign_in_url
from palmares_submission.errors import responses
from palmares_submission.schemas import ContactEmail
from palmares_submission.service import accounts, commands
from palmares_submission.text import single_line
from palmares_submission.web.context import espaces_of
from palmares_submission.web.mailer import message

router = APIRouter(prefix="/v1", route_class=AuthenticatedFirst)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class JuryInvitation(_Body):
    email: ContactEmail
    name: Annotated[str, Field(min_length=1, max_length=200, examples=["Camille Martin"]), single_line]


class JuryMemberView(BaseModel):
    member_id: UUID
    email: str
    name: str
    invited_at: datetime
    revoked_at: datetime | None = None


class JuryMemberInvited(JuryMemberView):
    token: str = Field(description="Jeton d'API du membre (`jur_…`), donné une seule fois.")


class JuryMembers(BaseModel):
    items: list[JuryMemberView]


class SignInLinkRequest(_Body):
    email: ContactEmail


class SignInLink(BaseModel):
    url: str = Field(description="Lien de connexion à usage unique.")
    expires_at: datetime


@router.post(
    "/jury-members",
    status_code=201,
    response_model=JuryMemberInvited,
    tags=["operator"],
    responses=responses(*AUTH, *BODY),
)
async def invite_jury_member(body: JuryInvitation, request: Request, _: Operator) -> JuryMemberInvited:
    """Invite a jury member: an API token (shown once) and an email that points to the sign-in page.

    Inviting an address again (revoked or not) issues a new token.
    """
    done = await commands.run(
        runtime_of(request).transaction, lambda tx: accounts.invite_jury_member(tx, str(body.email), body.name)
    )
    espaces = espaces_of(request)
    invitation = message(
        sender=espaces.settings.mail_from,
        to=done.member.email,
        subject="Invitation au jury — label Territoires, Villes et Villages Internet",
        template="invitation-jury",
        name=done.member.name,
        sign_in_url=f"{espaces.settings.public_base}/espace/connexion",
    )
    espaces.mailer.in_background(espaces.mailer.send(invitation), "jury invitation")
    return JuryMemberInvited(**_member(done.member).model_dump(), token=done.token)


def _member(row: JuryMemberRow) -> JuryMemberView:
    return JuryMemberView(
        member_id=row.member_id, email=row.email, name=row.name, invited_at=row.invited_at, revoked_at=row.revoked_at
    )


@router.get("/jury-members", response_model=JuryMembers, tags=["operator"], responses=responses(*AUTH))
async def list_jury_members(request: Request, _: Operator) -> JuryMembers:
    """Every jury member, revoked ones included (with the date of revocation)."""
    async with runtime_of(request).pool.acquire() as conn:
        rows = await accounts.jury_members(conn)
    return JuryMembers(items=[_member(r) for r in rows])


@router.delete(
    "/jury-members/{member_id}",
    status_code=204,
    response_class=Response,
    tags=["operator"],
    responses=responses(*AUTH, 404),
)
async def revoke_jury_member(member_id: UUID, request: Request, _: Operator) -> Response:
    """Revoke a jury member: their token answers 401 and their sessions end at once."""
    await commands.run(runtime_of(request).transaction, lambda tx: accounts.revoke_jury_member(tx, member_id))
    return Response(status_code=204)


@router.post(
    "/sign-in-links",
    status_code=201,
    response_model=SignInLink,
    tags=["operator"],
    responses=responses(*AUTH, 404, *BODY),
)
async def issue_sign_in_link(body: SignInLinkRequest, request: Request, _: Operator) -> SignInLink:
    """A single-use sign-in link for an account, valid 15 minutes (support, and the demo's printed links)."""
    done = await commands.run(
        runtime_of(request).transaction, lambda tx: accounts.issue_sign_in_link(tx, str(body.email))
    )
    base = espaces_of(request).settings.public_base
    return SignInLink(url=sign_in_url(base, done.token), expires_at=done.expires_at)

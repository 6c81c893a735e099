"""Sign-in by a link sent by email, and sign-out (pages `/espace/connexion…`, `/espace/deconnexion`).

1. The visitor types their address. Whatever it is, the answer is the same
   page, in the same time: the lookup and the email happen after the answer.
2. A registered address (a collectivité's contact, a jury member) receives a
   single-use link valid 15 minutes.
3. The link shows a button: mail filters that open every link of a message
   (to scan it) must not use it up. The button's POST opens a session under a
   new id (any session the browser had is closed), and a new CSRF id.
"""

from __future__ import annotations

from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from palmares_submission.domain import accounts
from palmares_submission.domain.errors import NotFound
from palmares_submission.service import accounts as account_commands
from palmares_submission.service import commands
from palmares_submission.web.context import Espaces, Visit, espaces_of, redirect, render, visit
from palmares_submission.web.mailer import message

router = APIRouter(prefix="/espace", include_in_schema=False)

Visitor = Annotated[Visit, Depends(visit)]

MAX_EMAIL_LENGTH = 254


@router.get("")
async def home(v: Visitor) -> Response:
    return redirect(v, v.account.home if v.account else "/espace/connexion")


@router.get("/connexion")
async def sign_in_form(v: Visitor, request: Request) -> Response:
    if v.account is not None:
        return redirect(v, v.account.home)
    closed = request.query_params.get("session") == "fermee"
    return render(v, "connexion.html.j2", email="", errors={}, closed=closed)


def _email_error(raw: str) -> tuple[str | None, str | None]:
    """The normalised address, or the French message that says what is wrong with it."""
    raw = raw.strip()
    if not raw:
        return None, "Saisissez votre adresse électronique."
    if len(raw) > MAX_EMAIL_LENGTH:
        return None, "Saisissez une adresse électronique de 254 caractères au plus."
    try:
        checked = validate_email(raw, check_deliverability=False)
    except EmailNotValidError:
        return None, "Saisissez une adresse électronique valide, par exemple mairie@exemple.fr."
    return accounts.normalise_email(checked.normalized), None


@router.post("/connexion")
async def ask_for_link(v: Visitor, request: Request) -> Response:
    form = await request.form()
    if not v.csrf_valid(str(form.get("csrf", ""))):
        return _expired_form(v)
    raw = str(form.get("email", ""))[: MAX_EMAIL_LENGTH + 1]
    email, error = _email_error(raw)
    if email is None:
        return render(v, "connexion.html.j2", status_code=422, email=raw, errors={"email": error}, closed=False)
    espaces = espaces_of(request)
    client = request.client.host if request.client else "?"
    if not await espaces.throttle.allows(email, client):
        response = render(v, "trop-de-demandes.html.j2", status_code=429)
        response.headers["Retry-After"] = "600"
        return response
    espaces.mailer.in_background(_send_link(espaces, email), "sign-in link")
    return render(v, "lien-envoye.html.j2", email=email)


async def _send_link(espaces: Espaces, email: str) -> None:
    """Store a link and email it, if the address has something to sign in to; otherwise nothing."""
    try:
        issued = await commands.run(
            espaces.runtime.transaction, lambda tx: account_commands.issue_sign_in_link(tx, email)
        )
    except NotFound:
        return
    await espaces.mailer.send(
        message(
            sender=espaces.settings.mail_from,
            to=issued.email,
            subject="Votre lien de connexion — label Territoires, Villes et Villages Internet",
            template="lien-connexion",
            link=accounts.sign_in_url(espaces.settings.public_base, issued.token),
            minutes=int(accounts.SIGN_IN_LINK_LIFETIME.total_seconds() // 60),
        )
    )


@router.get("/connexion/lien")
async def confirm_link(v: Visitor, request: Request) -> Response:
    token = request.query_params.get("token", "")
    async with espaces_of(request).runtime.pool.acquire() as conn:
        usable = await account_commands.sign_in_link_usable(conn, token)
    if usable:
        return render(v, "connexion-confirmer.html.j2", token=token)
    return render(v, "lien-invalide.html.j2", status_code=400)


@router.post("/connexion/lien")
async def use_link(v: Visitor, request: Request) -> Response:
    form = await request.form()
    if not v.csrf_valid(str(form.get("csrf", ""))):
        return _expired_form(v)
    espaces = espaces_of(request)
    token = str(form.get("token", ""))
    done = await commands.run(espaces.runtime.transaction, lambda tx: account_commands.sign_in(tx, token, v.session_id))
    if done.session is None:
        return render(v, "lien-invalide.html.j2", status_code=400)
    response = redirect(v, done.session.account.home)
    lifetime = int(accounts.SESSION_LIFETIME.total_seconds())
    espaces.set_cookie(response, espaces.session_cookie, done.session.session_id, max_age=lifetime)
    # A new CSRF id as well: every token of the browser before sign-in stops working.
    espaces.set_cookie(response, espaces.csrf_cookie, espaces.csrf.new_browser_id())
    return response


@router.post("/deconnexion")
async def sign_out(v: Visitor, request: Request) -> Response:
    form = await request.form()
    if not v.csrf_valid(str(form.get("csrf", ""))):
        return _expired_form(v)
    espaces = espaces_of(request)
    session_id = v.session_id
    if session_id is not None:
        await commands.run(espaces.runtime.transaction, lambda tx: account_commands.sign_out(tx, session_id))
    v.cookies_to_clear.append(espaces.session_cookie)
    return redirect(v, "/espace/connexion?session=fermee")


def _expired_form(v: Visit) -> Response:
    """A form without this browser's CSRF token: posted from elsewhere, or from a page older than a sign-in."""
    return render(v, "formulaire-expire.html.j2", status_code=403)

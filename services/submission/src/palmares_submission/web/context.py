"""What every page request needs: the espaces' dependencies, the visitor (cookies, account, CSRF), rendering."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined
from palmares_eventkit.runtime import ServiceRuntime

from palmares_submission.domain import accounts
from palmares_submission.service import accounts as account_queries
from palmares_submission.settings import SubmissionSettings
from palmares_submission.web import display
from palmares_submission.web.links import DossierLinks
from palmares_submission.web.mailer import Mailer
from palmares_submission.web.protection import CsrfTokens
from palmares_submission.web.throttle import SignInThrottle

templates = Environment(
    # The public pages' templates second: their SVG charts (`_charts.html.j2`) serve the espaces too.
    loader=ChoiceLoader(
        [PackageLoader("palmares_submission.web", "templates"), PackageLoader("palmares_submission", "templates")]
    ),
    autoescape=True,  # dossiers, names and grilles are shown as text, never as markup
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
display.install(templates)


@dataclass
class Espaces:
    """The dependencies of the pages, built once per process (`app.state.espaces`)."""

    settings: SubmissionSettings
    runtime: ServiceRuntime
    csrf: CsrfTokens
    links: DossierLinks
    mailer: Mailer
    throttle: SignInThrottle

    @classmethod
    def create(cls, settings: SubmissionSettings, runtime: ServiceRuntime) -> Espaces:
        key = settings.signing_secret()
        return cls(
            settings=settings,
            runtime=runtime,
            csrf=CsrfTokens(key),
            links=DossierLinks(key),
            mailer=Mailer(settings),
            throttle=SignInThrottle(settings.sign_in_rate_limit, settings.sign_in_client_rate_limit),
        )

    @property
    def session_cookie(self) -> str:
        # `__Host-`: the browser keeps it only if Secure, for this host alone, on every path.
        return "__Host-palmares-session" if self.settings.secure_cookies else "palmares-session"

    @property
    def csrf_cookie(self) -> str:
        return "__Host-palmares-csrf" if self.settings.secure_cookies else "palmares-csrf"

    def set_cookie(self, response: Response, name: str, value: str, max_age: int | None = None) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            secure=self.settings.secure_cookies,
            httponly=True,
            samesite="lax",
        )

    def clear_cookie(self, response: Response, name: str) -> None:
        response.delete_cookie(name, path="/", secure=self.settings.secure_cookies, httponly=True, samesite="lax")


def espaces_of(request: Request) -> Espaces:
    espaces: Espaces = request.app.state.espaces
    return espaces


@dataclass
class Visit:
    """The visitor of a page: their browser's CSRF id, their session and account if signed in."""

    espaces: Espaces
    browser_id: str
    new_browser: bool
    session_id: str | None = None
    account: accounts.Account | None = None
    cookies_to_clear: list[str] = field(default_factory=list)

    @property
    def csrf(self) -> str:
        return self.espaces.csrf.token(self.browser_id, self.session_id)

    def csrf_valid(self, presented: str | None) -> bool:
        # A browser seen for the first time has no token that could match.
        return not self.new_browser and self.espaces.csrf.valid(presented, self.browser_id, self.session_id)

    def finish(self, response: Response) -> Response:
        """Set the cookies this visit created or ended on `response`."""
        if self.new_browser:
            self.espaces.set_cookie(response, self.espaces.csrf_cookie, self.browser_id)
        for name in self.cookies_to_clear:
            self.espaces.clear_cookie(response, name)
        return response


async def visit(request: Request) -> Visit:
    """The visitor, from their cookies (a dependency of every page)."""
    espaces = espaces_of(request)
    browser_id = request.cookies.get(espaces.csrf_cookie, "")
    new_browser = not (0 < len(browser_id) <= 64)
    v = Visit(espaces, espaces.csrf.new_browser_id() if new_browser else browser_id, new_browser)
    session_id = request.cookies.get(espaces.session_cookie)
    if session_id:
        account = None
        if accounts.session_key(session_id) is not None:  # a cookie of ours: worth a database round trip
            async with espaces.runtime.pool.acquire() as conn:
                account = await account_queries.session_account(conn, session_id)
        if account is not None:
            v.session_id, v.account = session_id, account
        else:
            v.cookies_to_clear.append(espaces.session_cookie)  # not ours, expired, closed or revoked
    return v


def render(v: Visit, template: str, status_code: int = 200, **context: Any) -> Response:
    """A page of the espaces, with the visitor's account and CSRF token in its context."""
    html = templates.get_template(template).render(account=v.account, csrf=v.csrf, **context)
    return v.finish(HTMLResponse(html, status_code=status_code))


def redirect(v: Visit, to: str) -> Response:
    """303 See Other: after a POST, the browser GETs the next page (a reload never posts twice)."""
    return v.finish(RedirectResponse(to, status_code=303))

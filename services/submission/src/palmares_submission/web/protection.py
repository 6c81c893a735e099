"""Protection of the pages: security headers (Content-Security-Policy first) and CSRF tokens.

CSRF is hand-written on `itsdangerous`'s signer rather than taken from a
middleware such as starlette-csrf: those check a header set by JavaScript,
and our forms must work without JavaScript (a hidden field in each form).
The token is the signature of the browser's CSRF cookie and of its session
cookie: it changes at sign-in, and a token of one browser is worthless in
another. Cookies are SameSite=Lax as well, so a cross-site POST carries none.
"""

from __future__ import annotations

import hashlib
import secrets

from itsdangerous import Signer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Nothing inline, nothing from elsewhere: scripts, styles and images come from
# the site itself; no page may be framed; forms post to the site only.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

_COMMON = [
    (b"x-content-type-options", b"nosniff"),
    # The dossier links of the emails carry a token in their query: no page tells another site its address.
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
_PAGE = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    # Pages show a collectivité's dossier: never kept by a shared cache or the browser's back-forward cache.
    (b"cache-control", b"no-store"),
]
_STATIC = [(b"cache-control", b"public, max-age=3600")]

PAGES_PREFIX = "/espace"
STATIC_PREFIX = "/espace/static/"


class SecurityHeaders:
    """Adds the security headers to every answer, and the page policy to the espaces' pages."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        extra = list(_COMMON)
        if path.startswith(STATIC_PREFIX):
            extra += _STATIC
        elif path == PAGES_PREFIX or path.startswith(PAGES_PREFIX + "/"):
            extra += _PAGE

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [h for h in extra if h[0] not in present]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class CsrfTokens:
    """The CSRF token of a browser (its CSRF cookie) and session (its session cookie, if signed in)."""

    def __init__(self, key: str) -> None:
        self._signer = Signer(key, salt="palmares.csrf", digest_method=hashlib.sha256)

    @staticmethod
    def new_browser_id() -> str:
        return secrets.token_urlsafe(32)

    def token(self, browser_id: str, session_id: str | None) -> str:
        return self._signer.get_signature(_bound(browser_id, session_id)).decode()

    def valid(self, presented: str | None, browser_id: str | None, session_id: str | None) -> bool:
        """Whether a form's token is this browser's (compared in constant time by the signer)."""
        if not presented or not browser_id or len(presented) > 200:
            return False
        return self._signer.verify_signature(_bound(browser_id, session_id), presented.encode())


def _bound(browser_id: str, session_id: str | None) -> bytes:
    return f"{browser_id}|{session_id or ''}".encode()

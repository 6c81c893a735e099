"""Refuse, with 422 naming the parameter, a query string that PostgreSQL could not store or compare (ASGI middleware).

A NUL in `?q=` or `?service=` would otherwise reach a statement and come back
as a 500; no route can forget the check, and it comes before authentication,
the rate limit and the route's own validation. Query parameters are single-line:
every control character is refused (`text.problem_in`).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

from palmares_submission import errors, text


def problems(query_string: bytes | str) -> list[dict[str, Any]]:
    """The error detail for each parameter at fault (field, French message, type), in the order they come."""
    detail = []
    for name, value in QueryParams(query_string).multi_items():
        if text.problem_in(name, multiline=False) is not None:
            # The parameter's name itself is at fault: shown escaped, readable and still that parameter.
            problem: str | None = "retours à la ligne et " + text.CONTROL_MESSAGE
            name = name.encode("unicode_escape").decode("ascii")
        else:
            problem = text.problem_in(value, multiline=False)
        if problem is not None:
            detail.append({"field": name, "message": problem, "type": "text_forbidden_characters"})
    return detail


class QueryTextGuard:
    """ASGI middleware: 422 for a query parameter (name or value) holding a control character."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query = scope.get("query_string", b"") if scope["type"] == "http" else b""
        detail = problems(query) if query else []  # most requests (every submission) have none: nothing parsed
        if not detail:
            await self.app(scope, receive, send)
            return
        body = json.dumps(
            errors.body("Requête invalide : corrigez les champs indiqués.", detail), ensure_ascii=False
        ).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 422, "headers": headers})
        await send({"type": "http.response.body", "body": body})

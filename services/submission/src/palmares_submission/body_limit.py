"""Refuse request bodies over a size limit with 413, before anything parses them (ASGI middleware).

A body over the limit is never kept: it is read and dropped as it comes,
so that the client, still sending, receives the 413 instead of a reset
connection; past `DRAIN_FACTOR` × the limit, the answer goes out at once and
the connection is closed. A body within the limit is buffered (at most the
limit) and replayed to the application.
"""

from __future__ import annotations

import json

from palmares_label import french
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from palmares_submission import errors


def _too_large(limit: int) -> bytes:
    size = french.count(limit, "octet")
    return json.dumps(
        errors.body(
            f"Requête trop volumineuse : au plus {size}.",
            [{"field": "body", "message": f"au plus {size}", "type": "body_too_large"}],
        ),
        ensure_ascii=False,
    ).encode()


# Up to this many times the limit, an oversized body is read (and dropped) before the 413.
DRAIN_FACTOR = 16


class BodySizeLimit:
    """ASGI middleware: 413 for a request body larger than `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        drain_limit = self.max_bytes * DRAIN_FACTOR
        if declared is not None and declared > drain_limit:
            await self._refuse(send)  # not worth reading: answer and close
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                # The client went away: let the application see it as it would.
                await self.app(scope, _replay([message], receive), send)
                return
            body = message.get("body", b"")
            size += len(body)
            more = bool(message.get("more_body", False))
            if size > drain_limit:
                await self._refuse(send)
                return
            if size <= self.max_bytes:
                chunks.append(body)
            else:
                chunks.clear()  # over the limit: drop what came, drain the rest
        if size > self.max_bytes:
            await self._refuse(send, drained=True)
            return
        whole: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        await self.app(scope, _replay([whole], receive), send)

    async def _refuse(self, send: Send, *, drained: bool = False) -> None:
        body = _too_large(self.max_bytes)
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if not drained:
            headers.append((b"connection", b"close"))  # the rest of the body is unread: no reuse
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay

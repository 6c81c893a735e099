"""A lean HTTP/1.1 client for the load generator: keep-alive connections over asyncio streams.

httpx costs 4 to 16 ms of CPU per request in this benchmark (more when
thousands of requests wait for a connection): on 2 cores the load generator
would take as much CPU as the service it measures. This client does only
what the benchmark needs (one host, JSON bodies, Content-Length or chunked
answers) for a fraction of that; connections are opened lazily up to a
bound and re-used, and waiting for one is a FIFO queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


class HttpError(OSError):
    """The connection broke or the answer was not HTTP/1.1 as expected (the request may be retried)."""


@dataclass(frozen=True)
class Response:
    status_code: int
    headers: dict[str, str]
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


async def read_response(reader: asyncio.StreamReader) -> tuple[Response, bool]:
    """One answer from `reader`, and whether the connection may be re-used."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
        raise HttpError(f"connection closed before an answer: {exc}") from exc
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise HttpError(f"not an HTTP/1.x status line: {lines[0]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    try:
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await reader.readexactly(size + 2)
                if size == 0:
                    break
                chunks.append(chunk[:-2])
            body = b"".join(chunks)
        else:
            body = await reader.readexactly(int(headers.get("content-length", "0")))
    except (asyncio.IncompleteReadError, ValueError) as exc:
        raise HttpError(f"truncated answer: {exc}") from exc
    keep = headers.get("connection", "").lower() != "close" and parts[0] != "HTTP/1.0"
    return Response(int(parts[1]), headers, body), keep


class LeanClient:
    """Requests to one `http://host:port`, over at most `connections` keep-alive connections."""

    def __init__(self, base_url: str, connections: int, timeout: float = 120.0) -> None:
        url = urlsplit(base_url)
        if url.scheme != "http" or url.hostname is None:
            raise ValueError(f"only http://host:port is supported, not {base_url!r}")
        self.host = url.hostname
        self.port = url.port or 80
        self.timeout = timeout
        self._host_header = f"{self.host}:{self.port}"
        self._idle: asyncio.LifoQueue[_Connection | None] = asyncio.LifoQueue()
        for _ in range(connections):
            self._idle.put_nowait(None)  # a slot: a connection is opened when first needed
        self._open: set[_Connection] = set()

    async def request(
        self, method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> Response:
        lines = [f"{method} {path} HTTP/1.1", f"host: {self._host_header}", f"content-length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        data = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        conn = await self._idle.get()
        keep = False
        try:
            if conn is not None and conn.reader.at_eof():  # the server closed it while idle (keep-alive timeout)
                conn.close()
                self._open.discard(conn)
                conn = None
            if conn is None:
                reader, writer = await asyncio.open_connection(self.host, self.port)
                conn = _Connection(reader, writer)
                self._open.add(conn)
            conn.writer.write(data)
            try:
                response, keep = await asyncio.wait_for(read_response(conn.reader), self.timeout)
            except TimeoutError as exc:
                raise HttpError(f"no answer within {self.timeout:.0f} s") from exc
            return response
        except (ConnectionError, OSError) as exc:
            raise HttpError(str(exc) or type(exc).__name__) from exc
        finally:
            if conn is not None and not keep:
                conn.close()
                self._open.discard(conn)
                conn = None
            self._idle.put_nowait(conn)

    async def json(self, method: str, path: str, payload: Any, headers: dict[str, str] | None = None) -> Response:
        body = json.dumps(payload, ensure_ascii=False).encode()
        return await self.request(
            method, path, body=body, headers={"content-type": "application/json", **(headers or {})}
        )

    async def aclose(self) -> None:
        for conn in list(self._open):
            conn.close()
        self._open.clear()


class SpreadClient:
    """Requests spread in turn over several replicas of a service (`--replicas submission=N`).

    Each replica gets its own `LeanClient` with `connections` keep-alive connections.
    """

    def __init__(self, base_urls: list[str], connections: int, timeout: float = 120.0) -> None:
        if not base_urls:
            raise ValueError("no base URL")
        self.clients = [LeanClient(url, connections, timeout) for url in base_urls]
        self._turn = itertools.cycle(self.clients)

    async def request(
        self, method: str, path: str, *, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> Response:
        return await next(self._turn).request(method, path, body=body, headers=headers)

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()

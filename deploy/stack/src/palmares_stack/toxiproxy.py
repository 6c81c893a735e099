"""Toxiproxy between the services and Kafka, PostgreSQL and SMTP: real network faults on demand.

Toxiproxy (Shopify's TCP proxy with "toxics": latency, bandwidth, resets,
black holes, slow close) is a Go program, built once from the Go module proxy
into the download cache (`make toxiproxy`, `gotools`). The launcher starts
`toxiproxy-server` on a free port of 127.0.0.1 and creates one proxy per
upstream:

| proxy | listens on | forwards to |
|---|---|---|
| `kafka-<i>` | the address broker i *advertises* on its `PROXIED` listener | that listener |
| `postgres` | a free port | PostgreSQL |
| `smtp` | a free port | the SMTP capture |

Kafka is the subtle one: a client bootstraps once, then connects to whatever
address each broker advertises in its metadata. The broker therefore has a
second listener (`PROXIED`) whose advertised address is the proxy's, so that
every connection of a service goes through the proxy, not only the first one;
the test harness and operators use the broker's own listener, unaffected by
the toxics.

Toxics are added and removed through Toxiproxy's HTTP API (`Toxiproxy.add_toxic`,
`remove_toxic`, `reset`) or by hand with `toxiproxy-cli -h 127.0.0.1:<port>`
(`TOXIPROXY_URL` in stack.env).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import gotools
from .gotools import TOOLS, ToolUnavailable
from .ports import LOCALHOST, free_port
from .process import ManagedProcess, start_process

SERVER = TOOLS["toxiproxy-server"]
CLI = TOOLS["toxiproxy-cli"]

TOXIPROXY_URL = "TOXIPROXY_URL"

ToxiproxyUnavailable = ToolUnavailable


class ToxiproxyError(RuntimeError):
    """Toxiproxy's API refused a request (the reason is its answer)."""


def ensure(*, allow_build: bool = True, log: Callable[[str], None] = print) -> Path:
    """The server's binary: the cached one, else (if allowed) a fresh build; `ToxiproxyUnavailable` otherwise."""
    return gotools.ensure(SERVER, allow_build=allow_build, log=log)


@dataclass(frozen=True)
class Route:
    """One proxy: where it listens and what it forwards to (`host:port` each)."""

    name: str
    listen: str
    upstream: str

    @property
    def port(self) -> int:
        return int(self.listen.rsplit(":", 1)[1])


class Toxiproxy:
    """A client of a running `toxiproxy-server` (its HTTP API at `url`).

    The API is a handful of JSON calls; the standard library's urllib does
    them, so the launcher takes no HTTP client dependency (the PyPI client
    `toxiproxy-python` is unmaintained and knows no toxic added since 2.x).
    """

    def __init__(self, url: str, timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self._timeout_s = timeout_s

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}{path}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout_s) as response:
                text = response.read()
        except urllib.error.HTTPError as exc:
            raise ToxiproxyError(f"{method} {path}: {exc.code} {exc.read().decode(errors='replace')}") from exc
        return json.loads(text) if text.strip() else None

    def answers(self) -> bool:
        """Is the server up (its API answering)?"""
        try:
            self.version()
            return True
        except OSError:
            return False

    def version(self) -> str:
        with urllib.request.urlopen(f"{self.url}/version", timeout=self._timeout_s) as response:
            return str(response.read().decode().strip())

    def create(self, route: Route) -> None:
        """Create (or re-create, after a restart of the server) the proxy of `route`."""
        existing = self._call("GET", "/proxies") or {}
        if route.name in existing:
            self._call("DELETE", f"/proxies/{route.name}")
        self._call("POST", "/proxies", {"name": route.name, "listen": route.listen, "upstream": route.upstream})

    def proxies(self) -> dict[str, Any]:
        return dict(self._call("GET", "/proxies") or {})

    def add_toxic(
        self,
        proxy: str,
        toxic: str,
        kind: str,
        attributes: Mapping[str, Any],
        *,
        stream: str = "downstream",
        toxicity: float = 1.0,
    ) -> None:
        """Add a toxic (`latency`, `bandwidth`, `reset_peer`, `timeout`, `slow_close`, …) to a proxy.

        `stream` is the direction: `downstream` (server to client) or `upstream`.
        """
        self._call(
            "POST",
            f"/proxies/{proxy}/toxics",
            {"name": toxic, "type": kind, "stream": stream, "toxicity": toxicity, "attributes": dict(attributes)},
        )

    def remove_toxic(self, proxy: str, toxic: str) -> None:
        self._call("DELETE", f"/proxies/{proxy}/toxics/{toxic}")

    def set_enabled(self, proxy: str, enabled: bool) -> None:
        """A disabled proxy closes its connections and refuses new ones."""
        self._call("POST", f"/proxies/{proxy}", {"enabled": enabled})

    def reset(self) -> None:
        """Every proxy enabled, every toxic removed."""
        self._call("POST", "/reset")

    @contextmanager
    def toxic(
        self,
        proxies: list[str],
        kind: str,
        attributes: Mapping[str, Any],
        *,
        streams: tuple[str, ...] = ("downstream",),
        toxicity: float = 1.0,
    ) -> Iterator[None]:
        """The toxic on each of `proxies` (each direction of `streams`) while the block runs, then removed."""
        added: list[tuple[str, str]] = []
        try:
            for proxy in proxies:
                for stream in streams:
                    name = f"{kind}-{stream}"
                    self.add_toxic(proxy, name, kind, attributes, stream=stream, toxicity=toxicity)
                    added.append((proxy, name))
            yield
        finally:
            for proxy, name in added:
                self.remove_toxic(proxy, name)


def server_argv(binary: Path, port: int, host: str = LOCALHOST) -> list[str]:
    return [str(binary), "-host", host, "-port", str(port)]


def start_server(
    log_path: Path, *, port: int | None = None, host: str = LOCALHOST, tie_to_parent: bool = True, timeout: float = 30.0
) -> tuple[ManagedProcess, Toxiproxy]:
    """Start `toxiproxy-server` (built if needed) and wait until its API answers."""
    binary = ensure()
    port = port or free_port(host)
    client = Toxiproxy(f"http://{host}:{port}")
    process = start_process(
        "toxiproxy",
        server_argv(binary, port, host),
        log_path=log_path,
        ready=client.answers,
        timeout=timeout,
        tie_to_parent=tie_to_parent,
    )
    return process, client


def routes(
    kafka: Mapping[int, int], postgres_port: int, smtp_port: int, *, host: str = LOCALHOST
) -> tuple[list[Route], dict[str, int]]:
    """The proxies of a stack, and the ports the services must use instead of PostgreSQL's and SMTP's.

    `kafka` maps each broker's advertised proxy port to its `PROXIED` listener's port.
    """
    postgres_proxy, smtp_proxy = free_port(host), free_port(host)
    found = [
        *(
            Route(f"kafka-{i}", f"{host}:{listen}", f"{host}:{upstream}")
            for i, (listen, upstream) in enumerate(sorted(kafka.items()))
        ),
        Route("postgres", f"{host}:{postgres_proxy}", f"{host}:{postgres_port}"),
        Route("smtp", f"{host}:{smtp_proxy}", f"{host}:{smtp_port}"),
    ]
    return found, {"postgres": postgres_proxy, "smtp": smtp_proxy}


def proxied_database_url(database_url: str, proxy_port: int) -> str:
    """The same DSN, through the proxy's port (`postgresql://user@host:port/db`)."""
    head, _, tail = database_url.partition("@")
    hostport, slash, rest = tail.partition("/")
    host = hostport.rsplit(":", 1)[0]
    return f"{head}@{host}:{proxy_port}{slash}{rest}"

"""Fixtures of the CLI tests: a CLI runner, an environment without stack variables, a fake API."""

from __future__ import annotations

import functools
import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from palmares_cli import context
from palmares_cli.api import ApiClient
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[3]
STACK_VARIABLES = (
    "API_URL",
    "OPERATOR_TOKEN",
    "KAFKA_BOOTSTRAP_SERVERS",
    "PALMARES_TRACE_DIR",
    "COLLECTIVITE_TOKEN",
    "JAEGER_UI_URL",
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No stack variable in the environment, and a working directory without `.run/stack.env`."""
    for name in STACK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def closed_port() -> int:
    """A local port nobody listens on (taken from the OS, then released): connection refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def use_transport(monkeypatch: pytest.MonkeyPatch) -> Callable[[Handler], None]:
    """Route the CLI's API calls to an in-process handler (httpx.MockTransport): no server."""

    def install(handler: Handler) -> None:
        monkeypatch.setattr(context, "ApiClient", functools.partial(ApiClient, transport=httpx.MockTransport(handler)))

    return install


def problem_response(status: int, error: str, detail: list[dict[str, Any]] | None = None) -> httpx.Response:
    """An error answer shaped like the submission service's (errors.py)."""
    return httpx.Response(status, json={"error": error, "detail": detail or []})


@pytest.fixture
def problem() -> Callable[..., httpx.Response]:
    return problem_response


@pytest.fixture
def write_json(tmp_path: Path) -> Iterator[Callable[[str, Any], Path]]:
    def write(name: str, data: Any) -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        return path

    yield write

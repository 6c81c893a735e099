"""The four Palmarès services as local processes: one definition for `make up` and the tests.

Each service runs as `python -m palmares_<service>` with the stack's
environment, its own free HTTP port (`/health`, `/ready`, `/metrics`; the
submission service also serves the API there), and is ready when `/ready`
answers 200 (database migrated, topics created, broker reachable, relay up).
"""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .ports import LOCALHOST, free_port
from .process import ManagedProcess, ReadyCheck, http_ready, start_process
from .stack import ServiceSpec

SERVICES = ("submission", "scoring", "mentions", "notify")


@dataclass(frozen=True)
class ServiceEndpoint:
    """A running service and where it answers."""

    name: str
    port: int
    process: ManagedProcess

    @property
    def url(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"


def service_env(name: str, port: int, base_env: Mapping[str, str]) -> dict[str, str]:
    """The environment of one service process."""
    env = dict(base_env)
    env["PALMARES_HTTP_HOST"] = LOCALHOST
    env["PALMARES_HTTP_PORT"] = str(port)
    env.setdefault("PALMARES_LOG_LEVEL", "INFO")
    return env


def start_service(
    name: str,
    base_env: Mapping[str, str],
    log_dir: Path,
    *,
    port: int | None = None,
    tie_to_parent: bool = False,
    timeout: float = 90.0,
    tier: int = 10,
    instance: str | None = None,
    argv: Sequence[str] | None = None,
) -> ServiceEndpoint:
    """Start one service (or another `instance` of it) and wait until `/ready` says so.

    `argv` runs another version of it (e.g. a rolling upgrade's next version) instead of `python -m palmares_<name>`.
    """
    if name not in SERVICES:
        raise ValueError(f"unknown service {name!r}: expected one of {SERVICES}")
    port = port or free_port()
    label = f"{name}-{instance}" if instance else name
    process = start_process(
        label,
        list(argv) if argv else [sys.executable, "-m", f"palmares_{name}"],
        log_path=log_dir / f"{label}.log",
        env=service_env(name, port, base_env),
        ready=http_ready(f"http://{LOCALHOST}:{port}/ready"),
        timeout=timeout,
        tie_to_parent=tie_to_parent,
        tier=tier,
    )
    return ServiceEndpoint(label, port, process)


def operator_token(state_dir: Path) -> str:
    """The local stack's operator token: generated once, kept in `<state>/operator-token` (0600)."""
    path = state_dir / "operator-token"
    if path.exists():
        return path.read_text().strip()
    state_dir.mkdir(parents=True, exist_ok=True)
    token = "op_" + secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(token + "\n")
    return token


def signing_key(state_dir: Path) -> str:
    """The key submission and notify share to sign the dossier links of emails: kept in `<state>/signing-key` (0600)."""
    path = state_dir / "signing-key"
    if path.exists():
        return path.read_text().strip()
    state_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(key + "\n")
    return key


def stack_service_specs(state_dir: Path, api_port: int) -> tuple[list[ServiceSpec], dict[str, str]]:
    """The four services for `palmares_stack up --services`, and the variables they add to stack.env."""
    extra = {
        "API_URL": f"http://{LOCALHOST}:{api_port}",
        "PALMARES_PUBLIC_URL": f"http://{LOCALHOST}:{api_port}",
        "PALMARES_SIGNING_KEY": signing_key(state_dir),
        "OPERATOR_TOKEN": operator_token(state_dir),
        "PALMARES_TRACE_DIR": str((state_dir / "traces").resolve()),
    }
    specs = []
    for name in SERVICES:
        port = api_port if name == "submission" else free_port()
        specs.append(
            ServiceSpec(
                name=name,
                argv=[sys.executable, "-m", f"palmares_{name}"],
                env={**service_env(name, port, {}), **extra},
                ready=ready_on(port),
                timeout=90.0,
            )
        )
    return specs, extra


def ready_on(port: int) -> Callable[[Mapping[str, str]], ReadyCheck]:
    """A service's readiness on `port`, whatever the stack environment."""

    def check(_env: Mapping[str, str]) -> ReadyCheck:
        return http_ready(f"http://{LOCALHOST}:{port}/ready")

    return check

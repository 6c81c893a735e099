"""Where the CLI finds the stack: options, environment variables, and `.run/stack.env`.

Precedence, highest first:

1. an explicit option (`--api-url`, `--token`, `--kafka`, `--trace-dir`);
2. a variable of the process environment (`API_URL`, `OPERATOR_TOKEN`, …);
3. the env file (`--env-file`, default `.run/stack.env` when it exists).

The env file is read with python-dotenv and, as its `override=False`, it fills in
what the environment does not already say. So `make up` + `palmares …` works
with nothing exported, and an operator who exports `API_URL` to aim at another
stack is not silently overridden by a stale `.run/stack.env`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

from palmares_cli.errors import UsageProblem

DEFAULT_ENV_FILE = Path(".run/stack.env")
# Where `make up` / `make run` ask the services to write their spans when no
# PALMARES_TRACE_DIR is given (the trace store is read only if it exists).
DEFAULT_TRACE_DIR = Path(".run/traces")

API_URL = "API_URL"
OPERATOR_TOKEN = "OPERATOR_TOKEN"
KAFKA = "KAFKA_BOOTSTRAP_SERVERS"
TRACE_DIR = "PALMARES_TRACE_DIR"
# Written to stack.env by `palmares_stack up --services --jaeger`: the trace viewer and its API.
JAEGER_URL = "JAEGER_UI_URL"


def read_env_file(path: Path | None, *, explicit: bool) -> dict[str, str]:
    """The env file's values: `{}` when the default file is absent; an error when an explicit one is."""
    if path is None:
        return {}
    if not path.is_file():
        if explicit:
            raise UsageProblem(f"env file {path} not found")
        return {}
    # python-dotenv's reading: `export ` prefixes, quotes and comments, as an operator may hand-write one
    # for a remote stack; a line without a value (`KEY`) says nothing.
    return {key: value for key, value in dotenv_values(path, encoding="utf-8").items() if value is not None}


@dataclass(frozen=True, slots=True)
class Settings:
    """What the commands need to reach the stack; any of it may be missing until a command needs it."""

    api_url: str | None = None
    token: str | None = None
    kafka: str | None = None
    trace_dir: Path | None = None
    env_file: Path | None = None
    jaeger_url: str | None = None

    def require_api_url(self) -> str:
        if not self.api_url:
            raise UsageProblem(
                "no API URL: pass --api-url, set API_URL, or start the stack (`make up` writes .run/stack.env)"
            )
        return self.api_url.rstrip("/")

    def require_token(self) -> str:
        if not self.token:
            raise UsageProblem("no operator token: pass --token or set OPERATOR_TOKEN (or use .run/stack.env)")
        return self.token

    def require_kafka(self) -> str:
        if not self.kafka:
            raise UsageProblem(
                "no Kafka bootstrap servers: pass --kafka or set KAFKA_BOOTSTRAP_SERVERS (or use .run/stack.env)"
            )
        return self.kafka

    def require_trace_dir(self) -> Path:
        trace_dir = self.trace_dir or DEFAULT_TRACE_DIR
        if not trace_dir.is_dir():
            raise UsageProblem(
                f"trace directory {trace_dir} not found: pass --trace-dir or set PALMARES_TRACE_DIR "
                "(the directory the services write their <service>.jsonl spans to)"
            )
        return trace_dir


def resolve(
    *,
    api_url: str | None = None,
    token: str | None = None,
    kafka: str | None = None,
    trace_dir: Path | None = None,
    env_file: Path | None = None,
    environ: Mapping[str, str],
    cwd: Path | None = None,
) -> Settings:
    """Merge options, environment and env file (see the module docstring for the order)."""
    explicit = env_file is not None
    path = env_file if explicit else (cwd or Path.cwd()) / DEFAULT_ENV_FILE
    from_file = read_env_file(path, explicit=explicit)

    def pick(option: str | None, name: str) -> str | None:
        if option:
            return option
        return environ.get(name) or from_file.get(name) or None

    trace = trace_dir if trace_dir is not None else pick(None, TRACE_DIR)
    return Settings(
        api_url=pick(api_url, API_URL),
        token=pick(token, OPERATOR_TOKEN),
        kafka=pick(kafka, KAFKA),
        trace_dir=Path(trace) if trace else None,
        env_file=path if from_file or explicit else None,
        jaeger_url=pick(None, JAEGER_URL),
    )

"""Jaeger all-in-one as an optional part of the local stack: a trace viewer an operator can open.

Jaeger is not on PyPI or Debian; it is a Go program, built here from the Go
module proxy **once** into the download cache (outside `.run/`):

    python -m palmares_stack.gotools build jaeger     # or `make jaeger`; prints how long it took
    python -m palmares_stack.gotools path jaeger      # where the binary is (exit 1 if not built)

The build module is `deploy/jaeger/go.mod` (Jaeger v1.76.0 as a `go get -tool`
dependency, with its go.sum: every dependency pinned), because `go install
…/cmd/jaeger@v1.76.0` refuses a module whose go.mod has replace directives
(see `gotools`).

The Go module carries Jaeger's query API but not its web UI (built with npm
from a separate repository that no registry publishes): Jaeger serves
`deploy/jaeger/ui/index.html` in its place (`ui.assets_path`), a light page on
the same API that shows a dossier's trace (`/trace/<id>`) and finds traces by
dossier id (`/search`).

`python -m palmares_stack up --services --jaeger` (`make run`) starts it before
the services on free ports of 127.0.0.1 (OTLP/HTTP and OTLP/gRPC receivers, the
UI and its API, the health check), with in-memory storage, and gives each
service `OTEL_EXPORTER_OTLP_ENDPOINT`: spans then go to Jaeger **and** to the
JSON-lines store (`PALMARES_TRACE_DIR`) that `palmares trace` reads. When
Jaeger cannot be had (no Go toolchain, a failed build), the stack starts
without it and says so: the JSON-lines store is always there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from . import gotools
from .gotools import TOOLS, ToolUnavailable
from .paths import repo_root
from .ports import LOCALHOST, free_port
from .process import all_ready, http_ready
from .stack import ServiceSpec

TOOL = TOOLS["jaeger"]

# Variables `up --jaeger` adds to the services' environment and to stack.env.
OTLP_ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
UI_URL = "JAEGER_UI_URL"

JaegerUnavailable = ToolUnavailable


def binary_path() -> Path:
    """Where the built binary lives (`$PALMARES_JAEGER_BIN`, else `<cache>/bin/jaeger-<version>`)."""
    return TOOL.binary()


def ensure(*, allow_build: bool = True, log: Callable[[str], None] = print) -> Path:
    """The Jaeger binary: the cached one, else (if allowed) a fresh build; `JaegerUnavailable` otherwise."""
    return gotools.ensure(TOOL, allow_build=allow_build, log=log)


@dataclass(frozen=True)
class JaegerPorts:
    otlp_http: int
    otlp_grpc: int
    ui: int
    query_grpc: int
    health: int

    @classmethod
    def free(cls) -> JaegerPorts:
        return cls(free_port(), free_port(), free_port(), free_port(), free_port())

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> JaegerPorts | None:
        """The ports of a Jaeger recorded in stack.env (reused when `up` runs again)."""
        try:
            return cls(*(int(env[f"JAEGER_PORT_{name.upper()}"]) for name in cls.__dataclass_fields__))
        except (KeyError, ValueError):
            return None

    def env(self) -> dict[str, str]:
        return {f"JAEGER_PORT_{name.upper()}": str(getattr(self, name)) for name in self.__dataclass_fields__}


def ui_dir() -> Path:
    """The trace page Jaeger serves in place of its UI (not in the Go module: built with npm elsewhere)."""
    return repo_root() / "deploy" / "jaeger" / "ui"


def config_yaml(
    ports: JaegerPorts, host: str = LOCALHOST, max_traces: int = 100_000, assets: Path | None = None
) -> str:
    """Jaeger v2 (OpenTelemetry collector) configuration: OTLP in, memory storage, UI; every port given."""
    assets = assets or ui_dir()
    return f"""# Written by palmares_stack.jaeger: Jaeger all-in-one for the local stack.
service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    resource:
      service.name: jaeger
    metrics:
      level: none
    logs:
      level: warn

extensions:
  jaeger_query:
    storage:
      traces: memstore
    http:
      endpoint: "{host}:{ports.ui}"
    grpc:
      endpoint: "{host}:{ports.query_grpc}"
    ui:
      assets_path: "{assets}"
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: {max_traces}
  healthcheckv2:
    use_v2: true
    http:
      endpoint: "{host}:{ports.health}"

receivers:
  otlp:
    protocols:
      http:
        endpoint: "{host}:{ports.otlp_http}"
      grpc:
        endpoint: "{host}:{ports.otlp_grpc}"

processors:
  batch:
    timeout: 200ms

exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
"""


def write_config(state_dir: Path, ports: JaegerPorts) -> Path:
    path = Path(state_dir) / "jaeger" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(config_yaml(ports))
    return path


def service_env(ports: JaegerPorts, host: str = LOCALHOST) -> dict[str, str]:
    """What the services need to export to this Jaeger (OTLP over HTTP), and where the UI is."""
    return {
        OTLP_ENDPOINT: f"http://{host}:{ports.otlp_http}",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        UI_URL: f"http://{host}:{ports.ui}",
    }


def argv(binary: Path, config: Path) -> list[str]:
    return [str(binary), "--config", f"file:{config}"]


def readiness(ports: JaegerPorts, host: str = LOCALHOST) -> Callable[[], bool]:
    """Ready when the health check and the UI's API both answer."""
    return all_ready(
        http_ready(f"http://{host}:{ports.health}/status"), http_ready(f"http://{host}:{ports.ui}/api/services")
    )


def jaeger_spec(state_dir: Path, binary: Path, ports: JaegerPorts) -> ServiceSpec:
    """Jaeger as a process of the local stack (started before the services, stopped with them)."""
    config = write_config(state_dir, ports)
    return ServiceSpec(
        name="jaeger",
        argv=argv(binary, config),
        env={"JAEGER_LISTEN_HOST": LOCALHOST},
        ready=lambda _env: readiness(ports),
        timeout=60.0,
    )

"""Operator tools built from the Go module proxy, once, into the download cache (`.cache/bin/`).

    python -m palmares_stack.gotools build jaeger       # `make jaeger`: Jaeger all-in-one v1.76.0
    python -m palmares_stack.gotools build kustomize    # `make kustomize`: kustomize v5.8.1 (deploy/ checks)
    python -m palmares_stack.gotools build toxiproxy-server   # `make toxiproxy` (with toxiproxy-cli): the fault proxy
    python -m palmares_stack.gotools build promtool     # `make promtool`: checks deploy/prometheus/
    python -m palmares_stack.gotools path jaeger        # where it is (exit 1 if not built)

Each tool has a build module under `deploy/<module>/` (the tool's name unless it says otherwise) (a `go.mod` made with
`go get -tool <package>@<version>` and its `go.sum`: every dependency pinned).
`go build` runs under `nice`, its output in `<cache>/bin/<tool>-build.log`.
Without a Go toolchain, or when the build fails, `ToolUnavailable` says why:
callers fall back (the stack runs without Jaeger; the kustomize tests skip).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .paths import cache_dir, repo_root

BUILD_TIMEOUT_S = 45 * 60.0


class ToolUnavailable(RuntimeError):
    """No binary, and none can be built here (the reason is the message)."""


@dataclass(frozen=True)
class GoTool:
    name: str
    package: str
    version: str
    binary_env: str  # an explicit path overrides the cache
    module: str = ""  # the build module's folder under deploy/, when it is not the tool's name
    tags: str = ""  # Go build tags (`go build -tags`)

    @property
    def module_dir(self) -> Path:
        return repo_root() / "deploy" / (self.module or self.name)

    def binary(self) -> Path:
        explicit = os.environ.get(self.binary_env)
        if explicit:
            return Path(explicit)
        return cache_dir() / "bin" / f"{self.name}-{self.version}"


TOOLS = {
    "jaeger": GoTool("jaeger", "github.com/jaegertracing/jaeger/cmd/jaeger", "v1.76.0", "PALMARES_JAEGER_BIN"),
    "kustomize": GoTool("kustomize", "sigs.k8s.io/kustomize/kustomize/v5", "v5.8.1", "PALMARES_KUSTOMIZE_BIN"),
    # The fault proxy of the reliability campaigns (docs/reliability.md): its server, and the
    # command line an operator uses to add toxics by hand. One build module for both.
    "toxiproxy-server": GoTool(
        "toxiproxy-server",
        "github.com/Shopify/toxiproxy/v2/cmd/server",
        "v2.5.0",
        "PALMARES_TOXIPROXY_BIN",
        "toxiproxy",
    ),
    "toxiproxy-cli": GoTool(
        "toxiproxy-cli", "github.com/Shopify/toxiproxy/v2/cmd/cli", "v2.5.0", "PALMARES_TOXIPROXY_CLI_BIN", "toxiproxy"
    ),
    # Prometheus' own checker of the configuration and the alert rules in deploy/prometheus/
    # (Prometheus' Go module numbers its v3.x releases v0.3xx.y). `remove_all_sd` leaves out the
    # cloud service discoveries (AWS, Azure, GCE, Kubernetes… SDKs), which our configuration does not
    # use (static targets only; file and HTTP discovery stay): a cold build takes about 3 CPU minutes
    # instead of more than ten, which matters on a fresh CI machine.
    "promtool": GoTool(
        "promtool",
        "github.com/prometheus/prometheus/cmd/promtool",
        "v0.316.0",
        "PALMARES_PROMTOOL_BIN",
        tags="remove_all_sd",
    ),
}


def build(tool: GoTool, log: Callable[[str], None] = print, timeout: float = BUILD_TIMEOUT_S) -> Path:
    """Build `tool` into the cache unless it is there; return the binary's path.

    One build of a tool at a time: CI prepares the tools in the background
    while its first steps run (`.ci/run`), and a step may ask for the same
    tool; the second waits for the first's build (an exclusive `flock` on
    `<tool>.lock`) and then finds the binary.
    """
    target = tool.binary()
    if target.is_file():
        return target
    go = shutil.which("go")
    if go is None:
        raise ToolUnavailable(f"no Go toolchain on PATH (`go`), so {tool.name} cannot be built here")
    if not (tool.module_dir / "go.mod").is_file():
        raise ToolUnavailable(f"{tool.module_dir}/go.mod not found")
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.with_name(f"{tool.name}.lock").open("w") as lock:
        if not _try_lock(lock):
            log(f"{tool.name} is being built by another process: waiting for it…")
            fcntl.flock(lock, fcntl.LOCK_EX)
        if target.is_file():  # built by the process we waited for
            return target
        return _build_locked(tool, go, target, log, timeout)


def _try_lock(lock: IO[str]) -> bool:
    with contextlib.suppress(BlockingIOError):
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    return False


def _build_locked(tool: GoTool, go: str, target: Path, log: Callable[[str], None], timeout: float) -> Path:
    partial = target.with_name(target.name + ".partial")
    build_log = target.with_name(f"{tool.name}-build.log")
    argv = [
        go,
        "build",
        "-trimpath",
        "-ldflags=-s -w",
        *(["-tags", tool.tags] if tool.tags else []),
        "-o",
        str(partial),
    ]
    argv.append(tool.package)
    if shutil.which("nice"):
        argv = ["nice", "-n", "10", *argv]
    log(f"building {tool.name} {tool.version} from the Go module proxy into {target} (once; this takes minutes)…")
    begin = time.monotonic()
    env = {**os.environ, "GOFLAGS": os.environ.get("GOFLAGS", "-buildvcs=false")}
    with build_log.open("w") as out:
        try:
            result = subprocess.run(
                argv, cwd=tool.module_dir, stdout=out, stderr=subprocess.STDOUT, env=env, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            raise ToolUnavailable(f"building {tool.name} took more than {timeout:.0f} s (log: {build_log})") from None
    seconds = time.monotonic() - begin
    if result.returncode != 0 or not partial.is_file():
        tail = build_log.read_text(errors="replace")[-1500:]
        raise ToolUnavailable(f"building {tool.name} failed (exit {result.returncode}, log: {build_log}):\n{tail}")
    partial.replace(target)
    log(f"built {tool.name} in {seconds:.0f} s ({target.stat().st_size / 1e6:.0f} MB)")
    return target


def ensure(tool: GoTool, *, allow_build: bool = True, log: Callable[[str], None] = print) -> Path:
    """The tool's binary: the cached one, else (if allowed) a fresh build; `ToolUnavailable` otherwise."""
    target = tool.binary()
    if target.is_file():
        return target
    if not allow_build:
        raise ToolUnavailable(f"{tool.name} is not built ({target} missing): run `make {tool.name}`")
    return build(tool, log=log)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m palmares_stack.gotools", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("build", "path"))
    parser.add_argument("tool", choices=sorted(TOOLS))
    args = parser.parse_args(argv)
    tool = TOOLS[args.tool]
    if args.command == "path":
        print(tool.binary())
        return 0 if tool.binary().is_file() else 1
    try:
        begin = time.monotonic()
        target = ensure(tool)
        print(f"{target} ({time.monotonic() - begin:.0f} s)")
        return 0
    except ToolUnavailable as exc:
        print(f"{tool.name} not available: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())

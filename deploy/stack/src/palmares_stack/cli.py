"""Command line: ``python -m palmares_stack up|down|status [--state-dir .run]``.

Exit codes: 0 success (``up`` also when already up; ``status`` when every
recorded process runs), 1 failure or, for ``status``, stack down or partial.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .stack import LocalStack, ServiceSpec


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m palmares_stack",
        description="Local Kafka + PostgreSQL + SMTP capture as background processes.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("up", "start the stack in the background; returns when it is ready"),
        ("down", "stop every process recorded by up"),
        ("status", "show recorded processes and whether they run"),
    ):
        cmd = sub.add_parser(name, help=text, description=text)
        cmd.add_argument(
            "--state-dir", type=Path, default=Path(".run"), help="data, logs, pids and stack.env (default: .run)"
        )
        if name == "up":
            cmd.add_argument("--brokers", type=int, choices=(1, 3), default=1)
            cmd.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for readiness")
            cmd.add_argument(
                "--services", action="store_true", help="also start the four Palmarès services (needs them installed)"
            )
            cmd.add_argument(
                "--jaeger",
                action="store_true",
                help="with --services: also start Jaeger (built once from the Go module proxy into .cache/) and "
                "export the services' spans to it; without Go, the stack starts without it",
            )
            cmd.add_argument(
                "--toxiproxy",
                action="store_true",
                help="put Toxiproxy (built once from the Go module proxy into .cache/) between the services and "
                "Kafka, PostgreSQL and SMTP, for network faults (TOXIPROXY_URL in stack.env)",
            )
    return parser


def _with_jaeger(
    stack: LocalStack, services: list[ServiceSpec], extra: dict[str, str]
) -> tuple[list[ServiceSpec], dict[str, str]]:
    """Jaeger first, the services exporting to it; or the services alone when Jaeger cannot be had."""
    from . import jaeger

    try:
        binary = jaeger.ensure()
    except jaeger.JaegerUnavailable as exc:
        print(
            f"Jaeger not available ({exc}).\n"
            f"Traces go to the JSON-lines store only ({extra.get('PALMARES_TRACE_DIR')}): "
            "read one dossier's with `palmares trace <submission_id>`.",
            file=sys.stderr,
        )
        return services, extra
    recorded = stack.read_env()
    ports = jaeger.JaegerPorts.from_env(recorded) if "jaeger" in {p.name for p in stack.processes()} else None
    ports = ports or jaeger.JaegerPorts.free()
    exported = jaeger.service_env(ports)
    for spec in services:
        spec.env = {**spec.env, **exported}
    return [jaeger.jaeger_spec(stack.state_dir, binary, ports), *services], {**extra, **exported, **ports.env()}


def _up(
    stack: LocalStack,
    brokers: int,
    timeout: float,
    with_services: bool,
    with_jaeger: bool = False,
    with_toxiproxy: bool = False,
) -> int:
    services: list[ServiceSpec] = []
    if with_services:
        from .ports import LOCALHOST, free_port
        from .services import stack_service_specs

        api_url = stack.read_env().get("API_URL", "") if stack.env_path.exists() else ""
        api_port = int(api_url.rsplit(":", 1)[1]) if api_url else free_port()
        services, extra = stack_service_specs(stack.state_dir, api_port)
        # The operator's log level (`PALMARES_LOG_LEVEL=DEBUG make run`) reaches the services.
        level = os.environ.get("PALMARES_LOG_LEVEL")
        if level:
            for spec in services:
                spec.env = {**spec.env, "PALMARES_LOG_LEVEL": level}
        # Where each service answers /health, /ready and /metrics (Prometheus, `curl`, the tests).
        running = stack.read_env()
        for spec in services:
            key = f"{spec.name.upper()}_URL"
            if spec.name in {p.name for p in stack.processes()} and key in running:
                continue  # already up: its port is the recorded one
            extra[key] = f"http://{LOCALHOST}:{spec.env['PALMARES_HTTP_PORT']}"
        if with_jaeger:
            services, extra = _with_jaeger(stack, services, extra)
    elif with_jaeger:
        print("--jaeger needs --services (the services are what export to it)", file=sys.stderr)
        return 2
    result = stack.up(brokers=brokers, services=services, timeout=timeout, toxiproxy=with_toxiproxy)
    if with_services:
        stack.update_env(extra)
        result.env.update(extra)
    if result.already_up:
        print(f"stack already up ({stack.env_path})")
    else:
        timings = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in result.timings.items())
        print(f"stack up: {timings}")
    for key, value in result.env.items():
        print(f"  {key}={value}")
    return 0


def _down(stack: LocalStack) -> int:
    begin = time.monotonic()
    stopped = stack.down()
    if stopped:
        print(f"stopped {', '.join(stopped)} in {time.monotonic() - begin:.1f}s")
    else:
        print("nothing recorded: stack already down")
    return 0


def _status(stack: LocalStack) -> int:
    processes = stack.processes()
    if not processes:
        print("stack down (no process recorded)")
        return 1
    for process in processes:
        state = "running" if process.is_alive() else "NOT RUNNING"
        print(f"  {process.name:<12} pid {process.pid:<8} {state:<12} log {process.log_path}")
    up = stack.is_up()
    print("stack up" if up else "stack partly down: run `down` then `up`")
    return 0 if up else 1


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m palmares_stack`` and the ``palmares-stack`` script."""
    args = _parser().parse_args(argv)
    stack = LocalStack(args.state_dir)
    try:
        if args.command == "up":
            return _up(stack, args.brokers, args.timeout, args.services, args.jaeger, args.toxiproxy)
        if args.command == "down":
            return _down(stack)
        return _status(stack)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

"""The local stack under one state directory (``.run/`` by default).

``LocalStack.up()`` starts Kafka, PostgreSQL and the SMTP capture as detached
processes on free ports, records their pids, and writes ``stack.env``;
``down()`` stops everything recorded. Application services join through the
same machinery: :meth:`LocalStack.start_process` (or ``ServiceSpec`` entries
passed to :meth:`LocalStack.up`) records them too, in a later "tier" so that
``down`` stops them before the infrastructure they use.

Layout::

    .run/stack.env          KEY=VALUE lines (see ENV_KEYS); removed by down
    .run/pids/<name>.json   one record per process (pid, start time, stop signal)
    .run/logs/<name>.log    stdout/stderr of each process
    .run/kafka/ .run/postgres/   data
    .run/mail/              one .eml per captured message
    .run/smtp.refuse, .run/smtp.drop   SMTP fault-injection switches (see smtp.py)
"""

from __future__ import annotations

import fcntl
import signal
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from .kafka import KafkaCluster
from .ports import LOCALHOST, free_port, port_is_free, port_is_open
from .postgres import PostgresServer
from .process import ManagedProcess, ReadyCheck, start_process, stop_all
from .registry import ProcessRegistry

TIER_INFRA = 0
TIER_SERVICE = 10

ENV_FILE = "stack.env"
# Spelled out again, on purpose, by tests/infra/test_stack_cli.py: there, the documented contract of stack.env.
ENV_KEYS = (
    "KAFKA_BOOTSTRAP_SERVERS",
    "DATABASE_URL",
    "SMTP_HOST",
    "SMTP_PORT",
    "MAIL_DIR",
    "STACK_STATE_DIR",
)


@dataclass
class ServiceSpec:
    """An application process to start after the infrastructure (see :meth:`LocalStack.up`).

    ``env`` may use ``{KAFKA_BOOTSTRAP_SERVERS}``-style placeholders, filled
    from the stack environment; ``ready`` receives that environment too.
    """

    name: str
    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    ready: Callable[[Mapping[str, str]], ReadyCheck] | None = None
    timeout: float = 60.0
    stop_signal: int = signal.SIGTERM
    cwd: Path | None = None


@dataclass
class UpResult:
    """What :meth:`LocalStack.up` did."""

    env: dict[str, str]
    already_up: bool
    timings: dict[str, float]


class LocalStack:
    """Start/stop the local stack recorded under ``state_dir``."""

    def __init__(self, state_dir: Path, host: str = LOCALHOST) -> None:
        self.state_dir = Path(state_dir).resolve()
        self.host = host
        self.registry = ProcessRegistry(self.state_dir / "pids")

    # ------------------------------------------------------------------ paths

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    @property
    def mail_dir(self) -> Path:
        return self.state_dir / "mail"

    @property
    def env_path(self) -> Path:
        return self.state_dir / ENV_FILE

    # ------------------------------------------------------------------ generic processes

    def start_process(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        ready: ReadyCheck | None = None,
        timeout: float = 60.0,
        stop_signal: int = signal.SIGTERM,
        cwd: Path | None = None,
        tier: int = TIER_SERVICE,
    ) -> ManagedProcess:
        """Start a detached process logged to ``logs/<name>.log``, record it, wait for ``ready``.

        The record is written before waiting, so even a failed start is
        cleaned up by :meth:`down`.
        """
        process = start_process(
            name,
            argv,
            log_path=self.logs_dir / f"{name}.log",
            env=env,
            cwd=cwd,
            stop_signal=stop_signal,
            tier=tier,
            tie_to_parent=False,
        )
        self.registry.record(process)
        if ready is not None:
            process.wait_ready(ready, timeout)
        return process

    # ------------------------------------------------------------------ env file

    def read_env(self) -> dict[str, str]:
        """The current ``stack.env`` as a dict (empty when the stack is down)."""
        if not self.env_path.is_file():
            return {}
        return {key: value for key, value in dotenv_values(self.env_path).items() if value is not None}

    def update_env(self, values: Mapping[str, str]) -> None:
        """Merge ``values`` into ``stack.env`` (e.g. API_URL, OPERATOR_TOKEN), atomically.

        Plain ``KEY=VALUE`` lines, no quoting: usable by ``make`` (include),
        ``set -a; . .run/stack.env`` and python-dotenv alike.
        """
        merged = {**self.read_env(), **values}
        text = "# Written by palmares_stack; removed by `down`.\n" + "".join(
            f"{key}={value}\n" for key, value in merged.items()
        )
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.env_path.with_name(f".{ENV_FILE}.tmp")
        tmp.write_text(text)
        tmp.replace(self.env_path)

    # ------------------------------------------------------------------ state

    def processes(self) -> list[ManagedProcess]:
        """Recorded processes, in start order."""
        return self.registry.processes()

    def is_up(self) -> bool:
        """True when processes are recorded and every one of them runs."""
        recorded = self.processes()
        return bool(recorded) and all(p.is_alive() for p in recorded)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise up/down on one state dir (two `make up` at once)."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with (self.state_dir / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    # ------------------------------------------------------------------ up / down

    def up(
        self,
        brokers: int = 1,
        services: Sequence[ServiceSpec] = (),
        timeout: float = 180.0,
        log: Callable[[str], None] = print,
        *,
        toxiproxy: bool = False,
    ) -> UpResult:
        """Start whatever is not running yet; a no-op (``already_up``) when all is.

        Infrastructure already up is kept and only missing ``services`` start,
        so ``palmares_stack up`` followed by ``make up`` works. If part of a
        previous stack died (a crash, a reboot), the survivors are stopped and
        everything starts again on the same data. A failed start stops
        everything, so ``up`` leaves a whole stack or nothing. With ``toxiproxy``
        the services reach Kafka, PostgreSQL and SMTP through Toxiproxy
        (``palmares_stack.toxiproxy``): ``stack.env`` gives the proxies'
        addresses, the servers' own as ``*_DIRECT``, and ``TOXIPROXY_URL``.
        """
        with self._locked():
            recorded = self.processes()
            dead = [p.name for p in recorded if not p.is_alive()]
            if dead:
                log(f"previous stack partly gone ({', '.join(dead)} not running): restarting it")
                self._stop_recorded()
                recorded = []
            running = {p.name for p in recorded}
            infra_up = any(p.tier == TIER_INFRA for p in recorded)
            missing = [spec for spec in services if spec.name not in running]
            if infra_up and not missing:
                return UpResult(self.read_env(), already_up=True, timings={})
            started = time.monotonic()
            try:
                timings = {} if infra_up else self._start_infra(brokers, timeout, toxiproxy=toxiproxy)
                env = self.read_env()
                for spec in missing:
                    begin = time.monotonic()
                    self._start_service(spec, env)
                    timings[spec.name] = time.monotonic() - begin
            except BaseException:
                log("start failed: stopping what was started")
                self._stop_recorded()
                raise
            timings["total"] = time.monotonic() - started
            return UpResult(self.read_env(), already_up=False, timings=timings)

    def down(self, timeout: float = 30.0) -> list[str]:
        """Stop every recorded process (services first), remove records and ``stack.env``."""
        if not self.state_dir.is_dir():
            return []
        with self._locked():
            return self._stop_recorded(timeout)

    def _stop_recorded(self, timeout: float = 30.0) -> list[str]:
        recorded = self.processes()
        for tier in sorted({p.tier for p in recorded}, reverse=True):
            stop_all([p for p in recorded if p.tier == tier], timeout=timeout)
        for process in recorded:
            self.registry.forget(process.name)
        self.env_path.unlink(missing_ok=True)
        return [p.name for p in recorded]

    # ------------------------------------------------------------------ infrastructure

    def _start_infra(self, brokers: int, timeout: float, *, toxiproxy: bool = False) -> dict[str, float]:
        """Kafka, Postgres and SMTP in parallel: total time is the slowest, not the sum."""
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        kafka = KafkaCluster(
            self.state_dir / "kafka",
            brokers=brokers,
            host=self.host,
            log_dir=self.logs_dir,
            tie_to_parent=False,
            on_spawn=self._record_infra,
            proxied=toxiproxy,
        )
        postgres = PostgresServer(
            self.state_dir / "postgres",
            host=self.host,
            log_path=self.logs_dir / "postgres.log",
            tie_to_parent=False,
            on_spawn=self._record_infra,
        )

        def timed(start: Callable[[], str]) -> Callable[[], tuple[str, float]]:
            def run() -> tuple[str, float]:
                begin = time.monotonic()
                value = start()
                return value, time.monotonic() - begin

            return run

        with ThreadPoolExecutor(max_workers=3) as pool:
            futures: dict[str, Future[tuple[str, float]]] = {
                "kafka": pool.submit(timed(lambda: kafka.start(timeout))),
                "postgres": pool.submit(timed(lambda: postgres.start(timeout))),
                "smtp": pool.submit(timed(lambda: str(self._start_smtp(timeout)))),
            }
            results = {name: future.result() for name, future in futures.items()}
        self.update_env(
            {
                "KAFKA_BOOTSTRAP_SERVERS": results["kafka"][0],
                "DATABASE_URL": results["postgres"][0],
                "SMTP_HOST": self.host,
                "SMTP_PORT": results["smtp"][0],
                "MAIL_DIR": str(self.mail_dir),
                "STACK_STATE_DIR": str(self.state_dir),
            }
        )
        timings = {name: seconds for name, (_, seconds) in results.items()}
        if toxiproxy:
            begin = time.monotonic()
            self._start_toxiproxy(kafka, postgres.port, int(results["smtp"][0]), results["postgres"][0], timeout)
            timings["toxiproxy"] = time.monotonic() - begin
        return timings

    def _start_toxiproxy(
        self, kafka: KafkaCluster, postgres_port: int, smtp_port: int, database_url: str, timeout: float
    ) -> None:
        """Toxiproxy in front of the servers; the services' addresses in stack.env become the proxies'."""
        from . import toxiproxy as tp

        port = free_port(self.host)
        client = tp.Toxiproxy(f"http://{self.host}:{port}")
        self.start_process(
            "toxiproxy",
            tp.server_argv(tp.ensure(), port, self.host),
            ready=client.answers,
            timeout=timeout,
            tier=TIER_INFRA,
        )
        routes, ports = tp.routes(kafka.proxy_routes(), postgres_port, smtp_port, host=self.host)
        for route in routes:
            client.create(route)
        env = self.read_env()
        self.update_env(
            {
                "KAFKA_BOOTSTRAP_SERVERS": kafka.proxied_bootstrap_servers,
                "DATABASE_URL": tp.proxied_database_url(database_url, ports["postgres"]),
                "SMTP_PORT": str(ports["smtp"]),
                "KAFKA_BOOTSTRAP_SERVERS_DIRECT": env["KAFKA_BOOTSTRAP_SERVERS"],
                "DATABASE_URL_DIRECT": env["DATABASE_URL"],
                "SMTP_PORT_DIRECT": env["SMTP_PORT"],
                tp.TOXIPROXY_URL: client.url,
            }
        )

    def _record_infra(self, process: ManagedProcess) -> None:
        process.tier = TIER_INFRA
        self.registry.record(process)

    def _start_smtp(self, timeout: float) -> int:
        port_file = self.state_dir / "smtp.port"
        port = 0
        if port_file.is_file():  # keep the previous port across down/up when still free
            previous = int(port_file.read_text().strip() or 0)
            port = previous if previous and port_is_free(previous, self.host) else 0
        port_file.unlink(missing_ok=True)

        def listening() -> bool:
            return port_file.is_file() and port_is_open(int(port_file.read_text()), self.host)

        self.start_process(
            "smtp",
            [
                sys.executable,
                "-m",
                "palmares_stack.smtp_capture",
                "--mail-dir",
                str(self.mail_dir),
                "--host",
                self.host,
                "--port",
                str(port),
                "--port-file",
                str(port_file),
            ],
            ready=listening,
            timeout=timeout,
            tier=TIER_INFRA,
        )
        return int(port_file.read_text())

    def _start_service(self, spec: ServiceSpec, stack_env: Mapping[str, str]) -> ManagedProcess:
        env = {key: value.format(**stack_env) for key, value in spec.env.items()}
        return self.start_process(
            spec.name,
            spec.argv,
            env={**stack_env, **env},
            ready=spec.ready(stack_env) if spec.ready else None,
            timeout=spec.timeout,
            stop_signal=spec.stop_signal,
            cwd=spec.cwd,
            tier=TIER_SERVICE,
        )

"""pytest fixtures for real infrastructure (registered as a ``pytest11`` plugin).

* ``infra`` (session): Kafka, Postgres and an SMTP capture, started once per
  test session on free ports in a temp dir and stopped at the end. Which
  Kafka/Postgres depends on ``TEST_INFRA``:

  - ``local``: a 1-node Kafka (KRaft JVM) and a PostgreSQL process;
    ``infra.kafka`` / ``infra.postgres`` are the handles for fault injection;
  - ``docker``: testcontainers (needs ``palmares-stack[docker]``); the default
    when a Docker engine answers and testcontainers is installed;
  - ``external``: servers already running, from ``KAFKA_BOOTSTRAP_SERVERS``
    and ``DATABASE_URL``.

  The SMTP capture is always the in-process aiosmtpd one (``infra.smtp``).

  In ``local`` mode, when Toxiproxy is built (``make toxiproxy``), the
  services reach Kafka, PostgreSQL and SMTP through it: ``infra.env()`` gives
  the proxies' addresses, ``infra.toxiproxy`` adds the network faults, and
  ``infra.kafka_bootstrap`` / ``infra.database_url`` stay the servers' own
  addresses for the tests' clients (which faults must not slow down).
  ``PALMARES_TEST_TOXIPROXY=off`` connects the services directly.
* ``postgres`` (session): PostgreSQL alone, for tests that need a database
  and no broker (the runtime's in-process suite); ``infra`` uses the same one
  in ``local`` mode.
* ``kafka_cluster3`` (session): a 3-node local cluster, started only when a
  test asks for it (mark such tests ``@pytest.mark.cluster``).

Both are plain sync fixtures, usable from pytest-asyncio tests. Nothing starts
unless a test requests a fixture, so loading the plugin costs nothing.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # heavy imports stay lazy: most test runs never start servers
    from .kafka import KafkaCluster
    from .postgres import PostgresServer
    from .smtp import SmtpCapture
    from .toxiproxy import Toxiproxy

INFRA_ENV = "TEST_INFRA"
TOXIPROXY_ENV = "PALMARES_TEST_TOXIPROXY"
MODES = ("local", "docker", "external")

# Start-up times of the session servers, printed in pytest's terminal summary.
_STARTUP_SECONDS: dict[str, float] = {}


@dataclass
class Infra:
    """Endpoints of the test infrastructure, plus fault-injection handles when local."""

    mode: str
    kafka_bootstrap: str
    database_url: str
    smtp_host: str
    smtp_port: int
    mail_dir: Path
    smtp: SmtpCapture
    kafka: KafkaCluster | None = None
    postgres: PostgresServer | None = None
    timings: dict[str, float] = field(default_factory=dict)
    toxiproxy: Toxiproxy | None = None
    # The services' addresses through the proxies (with ``toxiproxy``): Kafka's bootstrap list, PostgreSQL's DSN, SMTP's port.
    proxied: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        """The same variables as ``.run/stack.env``, to launch services under test (through the proxies, if any)."""
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "DATABASE_URL": self.database_url,
            "SMTP_HOST": self.smtp_host,
            "SMTP_PORT": str(self.smtp_port),
            "MAIL_DIR": str(self.mail_dir),
            **self.proxied,
        }


def infra_mode() -> str:
    """``$TEST_INFRA``, else ``docker`` when usable, else ``local``."""
    mode = os.environ.get(INFRA_ENV, "").strip().lower()
    if mode:
        if mode not in MODES:
            raise pytest.UsageError(f"{INFRA_ENV}={mode!r}: expected one of {', '.join(MODES)}")
        return mode
    from importlib.util import find_spec

    from .docker_infra import docker_engine_answers

    if find_spec("testcontainers") is not None and docker_engine_answers():
        return "docker"
    return "local"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "cluster: needs the 3-broker Kafka cluster (kafka_cluster3 fixture)")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _STARTUP_SECONDS:
        timings = ", ".join(f"{name} {secs:.1f}s" for name, secs in _STARTUP_SECONDS.items())
        terminalreporter.write_line(f"palmares infra ready in: {timings}")


def _toxiproxy_wanted() -> bool:
    """Toxiproxy in front of the servers when it is built and not switched off."""
    if os.environ.get(TOXIPROXY_ENV, "").strip().lower() in ("0", "off", "no", "false"):
        return False
    from . import toxiproxy

    try:
        toxiproxy.ensure(allow_build=False)
    except toxiproxy.ToxiproxyUnavailable:
        return False
    return True


def _external_endpoints() -> tuple[str, str]:
    missing = [k for k in ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL") if not os.environ.get(k)]
    if missing:
        raise pytest.UsageError(f"{INFRA_ENV}=external needs {' and '.join(missing)} set")
    return os.environ["KAFKA_BOOTSTRAP_SERVERS"], os.environ["DATABASE_URL"]


@dataclass
class Postgres:
    """The session's PostgreSQL: its URL, and the server handle (fault injection) when it runs locally."""

    url: str
    server: PostgresServer | None = None


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Postgres]:
    """PostgreSQL alone, once per session: for tests that need a database and no broker (``infra`` reuses it).

    ``TEST_INFRA=external`` reads ``DATABASE_URL``; otherwise a local PostgreSQL process.
    """
    if infra_mode() == "external":
        yield Postgres(_external_endpoints()[1])
        return
    from .postgres import PostgresServer, private_data_parent

    base = tmp_path_factory.mktemp("postgres")
    with ExitStack() as cleanup:
        pg_parent = private_data_parent() if os.geteuid() == 0 else base
        if pg_parent != base:
            cleanup.callback(shutil.rmtree, pg_parent, ignore_errors=True)
        server = PostgresServer(pg_parent / "postgres", log_path=base / "logs" / "postgres.log")
        cleanup.callback(server.stop)
        begin = time.monotonic()
        url = server.start()
        _STARTUP_SECONDS["postgres (local)"] = time.monotonic() - begin
        yield Postgres(url, server)


@pytest.fixture(scope="session")
def infra(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Infra]:
    """Kafka + Postgres + SMTP capture for the whole session (see module docstring)."""
    from .smtp import SmtpCapture

    mode = infra_mode()
    base = tmp_path_factory.mktemp("infra")
    timings: dict[str, float] = {}
    with ExitStack() as cleanup:
        smtp = SmtpCapture(base / "mail").start()
        cleanup.callback(smtp.stop)
        kafka: KafkaCluster | None = None
        postgres: PostgresServer | None = None
        toxiproxy: Toxiproxy | None = None
        proxied: dict[str, str] = {}
        if mode == "local":
            from .kafka import KafkaCluster

            # Started from this (main) thread one after the other, so both are tied
            # to the pytest process and die with it even if it is killed.
            session_postgres: Postgres = request.getfixturevalue("postgres")
            postgres, database_url = session_postgres.server, session_postgres.url
            assert postgres is not None  # local mode: the session's own server
            with_proxy = _toxiproxy_wanted()
            kafka = KafkaCluster(base / "kafka", brokers=1, proxied=with_proxy)
            cleanup.callback(kafka.stop)
            begin = time.monotonic()
            kafka_bootstrap = kafka.start()
            timings["kafka"] = time.monotonic() - begin
            if with_proxy:
                from . import toxiproxy as tp

                begin = time.monotonic()
                process, toxiproxy = tp.start_server(base / "logs" / "toxiproxy.log")
                cleanup.callback(process.stop)
                routes, ports = tp.routes(kafka.proxy_routes(), postgres.port, smtp.port)
                for route in routes:
                    toxiproxy.create(route)
                proxied = {
                    "KAFKA_BOOTSTRAP_SERVERS": kafka.proxied_bootstrap_servers,
                    "DATABASE_URL": tp.proxied_database_url(database_url, ports["postgres"]),
                    "SMTP_PORT": str(ports["smtp"]),
                }
                timings["toxiproxy"] = time.monotonic() - begin
        elif mode == "docker":
            from .docker_infra import start_docker_infra

            begin = time.monotonic()
            containers = start_docker_infra()
            cleanup.callback(containers.close)
            timings["docker"] = time.monotonic() - begin
            kafka_bootstrap, database_url = containers.kafka_bootstrap, containers.database_url
        else:
            kafka_bootstrap, database_url = _external_endpoints()
        _STARTUP_SECONDS.update({f"{k} ({mode})": v for k, v in timings.items()})
        yield Infra(
            mode=mode,
            kafka_bootstrap=kafka_bootstrap,
            database_url=database_url,
            smtp_host=smtp.host,
            smtp_port=smtp.port,
            mail_dir=smtp.mail_dir,
            smtp=smtp,
            kafka=kafka,
            postgres=postgres,
            timings=timings,
            toxiproxy=toxiproxy,
            proxied=proxied,
        )


@pytest.fixture(scope="session")
def kafka_cluster3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    """A local 3-node KRaft cluster (RF 3, min.insync.replicas 2) for the session."""
    from .kafka import KafkaCluster

    cluster = KafkaCluster(tmp_path_factory.mktemp("kafka3"), brokers=3)
    try:
        begin = time.monotonic()
        cluster.start()
        _STARTUP_SECONDS["kafka 3 brokers"] = time.monotonic() - begin
        yield cluster
    finally:
        cluster.stop()

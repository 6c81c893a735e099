"""``python -m palmares_stack up/status/down``: background stack, idempotent, leaves nothing."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dotenv import dotenv_values
from palmares_stack.ports import free_port, port_is_open
from palmares_stack.postgres import private_data_parent
from palmares_stack.process import pid_alive, tcp_ready
from palmares_stack.stack import LocalStack, ServiceSpec

REPO_ROOT = Path(__file__).resolve().parents[2]

# A stand-in service: records the stack endpoints it was given, then listens.
_SERVICE = """
import os, pathlib, socket, time
pathlib.Path("{out}").write_text(os.environ["KAFKA_BOOTSTRAP_SERVERS"] + " " + os.environ["SERVICE_DB"])
server = socket.socket(); server.bind(("127.0.0.1", {port})); server.listen(); time.sleep(600)
"""


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "palmares_stack", *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _env(state: Path) -> dict[str, str]:
    return {k: v for k, v in dotenv_values(state / "stack.env").items() if v is not None}


def _ports(env: dict[str, str]) -> list[int]:
    kafka = int(env["KAFKA_BOOTSTRAP_SERVERS"].rsplit(":", 1)[1])
    postgres = int(env["DATABASE_URL"].rsplit(":", 1)[1].split("/")[0])
    return [kafka, postgres, int(env["SMTP_PORT"])]


def _records(state: Path) -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text()) for p in (state / "pids").glob("*.json")}


def _alive(record: dict[str, Any]) -> bool:
    return pid_alive(int(record["pid"]), record["start_time"])


@pytest.fixture
def state() -> Iterator[Path]:
    # Not under tmp_path: as root, Postgres runs as another user who must traverse
    # the path, and pytest resets /tmp/pytest-of-root to 0700 at every session start.
    parent = private_data_parent("palmares-stack-test-")
    try:
        yield parent / "run"
    finally:
        _cli("down", "--state-dir", str(parent / "run"))  # no leak if an assert failed
        shutil.rmtree(parent, ignore_errors=True)


def test_up_is_idempotent_and_down_leaves_nothing(state: Path) -> None:
    up = _cli("up", "--state-dir", str(state))
    assert up.returncode == 0, up.stderr + up.stdout
    assert "stack up: kafka" in up.stdout

    env = _env(state)
    # Spelled out rather than read from palmares_stack.stack.ENV_KEYS: this is the documented contract of stack.env.
    assert set(env) == {
        "KAFKA_BOOTSTRAP_SERVERS",
        "DATABASE_URL",
        "SMTP_HOST",
        "SMTP_PORT",
        "MAIL_DIR",
        "STACK_STATE_DIR",
    }
    assert env["MAIL_DIR"] == str(state / "mail") and env["STACK_STATE_DIR"] == str(state)
    assert all(port_is_open(p) for p in _ports(env))

    records = _records(state)
    assert set(records) == {"kafka-0", "postgres", "smtp"}
    assert all(_alive(r) for r in records.values())
    assert _cli("status", "--state-dir", str(state)).returncode == 0

    again = _cli("up", "--state-dir", str(state))
    assert again.returncode == 0 and "already up" in again.stdout
    assert _records(state) == records  # nothing restarted

    # An application service joins the same registry (what `make up` will do).
    service_port = free_port()
    service = ServiceSpec(
        "echo-service",
        [sys.executable, "-c", _SERVICE.format(port=service_port, out=state / "seen.txt")],
        env={"SERVICE_DB": "{DATABASE_URL}"},
        ready=lambda env: tcp_ready(service_port),
    )
    joined = LocalStack(state).up(services=[service], log=lambda _: None)
    assert not joined.already_up and set(joined.timings) == {"echo-service", "total"}
    assert (state / "seen.txt").read_text() == f"{env['KAFKA_BOOTSTRAP_SERVERS']} {env['DATABASE_URL']}"
    assert LocalStack(state).up(services=[service]).already_up
    records = _records(state)
    assert records["echo-service"]["tier"] > records["postgres"]["tier"]

    # A partly dead stack (here: the SMTP capture crashed) is restarted whole on `up`.
    os.kill(int(records["smtp"]["pid"]), signal.SIGKILL)
    assert _cli("status", "--state-dir", str(state)).returncode == 1
    restarted = _cli("up", "--state-dir", str(state))
    assert restarted.returncode == 0, restarted.stderr + restarted.stdout
    assert "restarting" in restarted.stdout
    new_records, new_env = _records(state), _env(state)
    assert "echo-service" not in new_records  # `up` from the CLI knows no services
    assert _ports(new_env) == _ports(env)  # recorded ports re-used while free
    assert all(_alive(r) for r in new_records.values())
    assert not any(_alive(r) for r in records.values())

    down = _cli("down", "--state-dir", str(state))
    assert down.returncode == 0, down.stderr
    assert not any(_alive(r) for r in new_records.values())
    assert not (state / "stack.env").exists() and _records(state) == {}
    assert not any(port_is_open(p) for p in _ports(new_env))
    assert _cli("status", "--state-dir", str(state)).returncode == 1
    # Data stays for the next `up`; deleting the state dir resets it.
    assert (state / "postgres" / "PG_VERSION").is_file()


@pytest.mark.timeout(300)
async def test_up_with_toxiproxy_puts_the_proxy_between_the_services_and_the_servers(state: Path) -> None:
    """`up --toxiproxy`: stack.env's addresses are the proxies' (every Kafka connection too), the servers' are *_DIRECT."""
    import asyncpg
    from aiokafka import AIOKafkaProducer
    from palmares_stack.toxiproxy import Toxiproxy

    up = _cli("up", "--toxiproxy", "--state-dir", str(state))
    assert up.returncode == 0, up.stderr + up.stdout
    env = _env(state)
    proxy = Toxiproxy(env["TOXIPROXY_URL"])
    assert {"kafka-0", "postgres", "smtp"} <= set(proxy.proxies())
    assert env["KAFKA_BOOTSTRAP_SERVERS"] != env["KAFKA_BOOTSTRAP_SERVERS_DIRECT"]
    assert env["DATABASE_URL"] != env["DATABASE_URL_DIRECT"] and env["SMTP_PORT"] != env["SMTP_PORT_DIRECT"]
    assert "toxiproxy" in _records(state)

    producer = AIOKafkaProducer(bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"])
    await producer.start()
    try:
        # The broker advertises the proxy's address: the producer's every connection goes through it.
        brokers = {f"{b.host}:{b.port}" for b in producer.client.cluster.brokers()}
        assert brokers == set(env["KAFKA_BOOTSTRAP_SERVERS"].split(","))
    finally:
        await producer.stop()
    conn = await asyncpg.connect(env["DATABASE_URL"])
    await conn.close()
    proxy.set_enabled("postgres", False)  # a fault: the proxy refuses, the server itself still answers
    with pytest.raises((OSError, asyncpg.PostgresError)):
        await asyncpg.connect(env["DATABASE_URL"], timeout=5)
    direct = await asyncpg.connect(env["DATABASE_URL_DIRECT"])
    await direct.close()
    proxy.reset()

    assert _cli("down", "--state-dir", str(state)).returncode == 0
    assert not any(_alive(r) for r in _records(state).values())

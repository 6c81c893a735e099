"""Broker readiness through aiokafka's admin client (SASL/PLAIN included).

A broker is ready when it answers a client (aiokafka bootstraps from it: it
returned metadata) and the cluster it describes lists every broker expected
(registration goes through the controller quorum, so this also proves a
quorum leader exists; fenced brokers are not listed).

The launcher and its pytest fixtures are synchronous and may be called from
inside a running event loop (async tests restart brokers), so each probe runs
its coroutine on a loop of its own in a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from aiokafka.admin import AIOKafkaAdminClient

from .ports import port_is_open

T = TypeVar("T")


@dataclass(frozen=True)
class ClusterView:
    """What one broker says of its cluster."""

    cluster_id: str | None
    controller_id: int
    broker_ids: frozenset[int]


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kafka-probe") as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _describe(bootstrap: str, request_timeout_s: float, sasl_plain: tuple[str, str] | None) -> ClusterView:
    sasl: dict[str, str] = {}
    if sasl_plain is not None:
        username, password = sasl_plain
        sasl = {
            "security_protocol": "SASL_PLAINTEXT",
            "sasl_mechanism": "PLAIN",
            "sasl_plain_username": username,
            "sasl_plain_password": password,
        }
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id="palmares-stack",
        request_timeout_ms=int(request_timeout_s * 1000),
        **sasl,
    )
    try:
        await admin.start()
        described = await admin.describe_cluster()
    finally:
        await admin.close()
    return ClusterView(
        cluster_id=described.get("cluster_id"),
        controller_id=int(described["controller_id"]),
        broker_ids=frozenset(int(broker["node_id"]) for broker in described["brokers"]),
    )


def describe_cluster(
    host: str, port: int, timeout: float = 2.0, *, sasl_plain: tuple[str, str] | None = None
) -> ClusterView:
    """The cluster as described through the broker at ``host:port``.

    ``sasl_plain=(username, password)`` authenticates on a ``SASL_PLAINTEXT``
    listener. Raises aiokafka's ``KafkaConnectionError`` when the broker cannot
    be reached or refuses the client (no credentials, wrong ones).
    """
    return _run(_describe(f"{host}:{port}", timeout, sasl_plain))


def brokers_registered(
    host: str, ports: list[int], expected: set[int], *, sasl_plain: tuple[str, str] | None = None
) -> bool:
    """True when every broker on ``ports`` answers and describes exactly the brokers ``expected``.

    A port not yet listening is "not yet" without a client: aiokafka logs every
    failed bootstrap at ERROR, which would fill a starting stack's output.
    """
    if not all(port_is_open(port, host) for port in ports):
        return False
    return all(describe_cluster(host, port, sasl_plain=sasl_plain).broker_ids == expected for port in ports)

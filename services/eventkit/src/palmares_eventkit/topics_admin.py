"""Explicit topic creation at start-up (the broker never auto-creates topics here)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.conn import create_conn
from aiokafka.errors import AuthenticationFailedError, KafkaConnectionError, KafkaError, SaslAuthenticationFailed
from palmares_contracts.topics import DLQ_SUFFIX

log = logging.getLogger(__name__)

_TOPIC_ALREADY_EXISTS = 36

# Dead letters keep the original record whole, plus the reason headers: their
# topics accept larger records than the events' topics (broker default ~1 MiB).
DLQ_MAX_MESSAGE_BYTES = 4 * 1024 * 1024

# The event topics are the log the services' state follows from (docs/architecture.md,
# "Retention"): they keep every record for ever. Not compacted: a key is a collectivité
# (or an edition), and compaction would keep only its last event, losing the other
# editions' dossiers and every earlier revision a rebuild replays.
EVENT_TOPIC_CONFIG = {"cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1"}
# Dead letters wait for an operator's replay: 90 days, then they go.
DLQ_RETENTION_MS = 90 * 24 * 3600 * 1000


async def ensure_topics(
    bootstrap_servers: str,
    names: Iterable[str],
    *,
    partitions: int,
    replication_factor: int,
    min_insync_replicas: int | None = None,
    timeout_s: float = 60.0,
    client_kwargs: Mapping[str, Any] | None = None,
) -> list[str]:
    """Create the topics that do not exist yet; returns the names created.

    Retries while the broker is not reachable yet, up to `timeout_s`, then
    fails with a clear error: a service must not start without its topics.
    """
    wanted = list(dict.fromkeys(names))
    configs = {"min.insync.replicas": str(min_insync_replicas)} if min_insync_replicas else {}
    deadline = asyncio.get_running_loop().time() + timeout_s
    delay = 0.2
    while True:
        admin = AIOKafkaAdminClient(
            bootstrap_servers=bootstrap_servers, request_timeout_ms=10_000, **(client_kwargs or {})
        )
        try:
            await admin.start()
            existing = set(await admin.list_topics())
            missing = [n for n in wanted if n not in existing]
            if not missing:
                return []
            response = await admin.create_topics(
                [NewTopic(n, partitions, replication_factor, topic_configs=_configs(n, configs)) for n in missing]
            )
            failures = [
                (name, code, msg)
                for name, code, msg in _topic_errors(response)
                if code not in (0, _TOPIC_ALREADY_EXISTS)
            ]
            if failures:
                raise RuntimeError(f"cannot create topics: {failures}")
            log.info("topics created", extra={"topics": missing})
            await _wait_for_leaders(admin, missing, deadline)
            return missing
        except (KafkaConnectionError, KafkaError, OSError) as exc:
            # aiokafka reports a refused login as a mere connection error, retried
            # forever: find out, and stop at once with the broker's own reason.
            await _refuse_bad_credentials(bootstrap_servers, client_kwargs or {})
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"Kafka at {bootstrap_servers} not reachable to create topics: {exc}") from exc
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
        finally:
            await admin.close()


async def _refuse_bad_credentials(bootstrap_servers: str, client_kwargs: Mapping[str, Any]) -> None:
    """Raise a clear error if the first bootstrap broker refuses our credentials."""
    if not str(client_kwargs.get("security_protocol", "")).startswith("SASL"):
        return
    host, _, port = bootstrap_servers.split(",")[0].strip().rpartition(":")
    try:
        conn = await create_conn(host, int(port), request_timeout_ms=10_000, **client_kwargs)
    except (AuthenticationFailedError, SaslAuthenticationFailed) as exc:
        raise RuntimeError(f"Kafka at {bootstrap_servers} refused our SASL credentials: {exc}") from exc
    except Exception:
        return  # unreachable, or another failure: the caller's retries deal with it
    conn.close()


def _configs(name: str, common: dict[str, str]) -> dict[str, str]:
    if name.endswith(DLQ_SUFFIX):
        return {**common, "max.message.bytes": str(DLQ_MAX_MESSAGE_BYTES), "retention.ms": str(DLQ_RETENTION_MS)}
    return {**common, **EVENT_TOPIC_CONFIG}


async def _wait_for_leaders(admin: AIOKafkaAdminClient, names: list[str], deadline: float) -> None:
    """Wait until every partition of new topics has a leader.

    Consumers that start before that log a burst of NotLeaderForPartition
    errors; waiting a few hundred milliseconds here keeps start-up quiet.
    """
    loop = asyncio.get_running_loop()
    while loop.time() < deadline:
        described = await admin.describe_topics(names)
        if all(
            t["error_code"] == 0 and t["partitions"] and all(p["leader"] >= 0 for p in t["partitions"])
            for t in described
        ):
            return
        await asyncio.sleep(0.1)


def _topic_errors(response: object) -> list[tuple[str, int, str | None]]:
    errors = []
    for entry in getattr(response, "topic_errors", []):
        name, code = entry[0], entry[1]
        msg = entry[2] if len(entry) > 2 else None
        errors.append((name, code, msg))
    return errors

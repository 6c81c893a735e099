"""Palmarès local infrastructure: Kafka (KRaft), PostgreSQL and an SMTP capture as processes.

Public API (imported lazily, so ``import palmares_stack`` stays cheap):

* :class:`palmares_stack.kafka.KafkaCluster`
* :class:`palmares_stack.postgres.PostgresServer`
* :class:`palmares_stack.smtp.SmtpCapture`
* :class:`palmares_stack.stack.LocalStack` (``python -m palmares_stack up|down|status``)
* :func:`palmares_stack.process.start_process`, :class:`palmares_stack.process.ManagedProcess`
* :func:`palmares_stack.kafka_artifacts.ensure_kafka_libs`
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "KafkaCluster": "kafka",
    "PostgresServer": "postgres",
    "SmtpCapture": "smtp",
    "LocalStack": "stack",
    "ServiceSpec": "stack",
    "ManagedProcess": "process",
    "start_process": "process",
    "ensure_kafka_libs": "kafka_artifacts",
    "free_port": "ports",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'palmares_stack' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)

"""Transport security of the Kafka clients (TLS, SASL), from `ServiceSettings`.

One source for every client a service opens, so they never disagree:
- `client_kwargs(settings)`: keyword arguments for `AIOKafkaProducer`,
  `AIOKafkaConsumer` and `AIOKafkaAdminClient`;
- `broker_security(settings)`: the `security=` object of FastStream's
  `KafkaBroker` (which turns it into the same aiokafka arguments).

| `KAFKA_SECURITY_PROTOCOL` | what | needs |
|---|---|---|
| `PLAINTEXT` (default) | no TLS, no authentication | — |
| `SSL` | TLS; optional client certificate | `KAFKA_SSL_CAFILE` (else the system CAs), `KAFKA_SSL_CERTFILE`/`KEYFILE` |
| `SASL_PLAINTEXT` | SASL authentication without TLS (local networks only) | `KAFKA_SASL_MECHANISM`, `_USERNAME`, `_PASSWORD` |
| `SASL_SSL` | both | both |

Mechanisms: `PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512`. See docs/security.md.
"""

from __future__ import annotations

import ssl
from typing import Any

from aiokafka.helpers import create_ssl_context
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from palmares_eventkit.settings import ServiceSettings

_SASL = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}


def ssl_context(settings: ServiceSettings) -> ssl.SSLContext | None:
    """The TLS context of the Kafka connections (None without TLS); verifies the brokers' certificates."""
    if not settings.kafka_security_protocol.endswith("SSL"):
        return None
    context: ssl.SSLContext = create_ssl_context(
        cafile=settings.kafka_ssl_cafile,
        certfile=settings.kafka_ssl_certfile,
        keyfile=settings.kafka_ssl_keyfile,
        password=settings.kafka_ssl_key_password.get_secret_value() if settings.kafka_ssl_key_password else None,
    )
    context.check_hostname = settings.kafka_ssl_check_hostname
    return context


def client_kwargs(settings: ServiceSettings) -> dict[str, Any]:
    """`**kwargs` of `AIOKafkaProducer(...)`, `AIOKafkaConsumer(...)`, `AIOKafkaAdminClient(...)`.

    Empty for `PLAINTEXT`, so that adding them changes nothing by default.
    """
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return {}
    kwargs: dict[str, Any] = {"security_protocol": protocol}
    context = ssl_context(settings)
    if context is not None:
        kwargs["ssl_context"] = context
    if protocol.startswith("SASL_"):
        assert settings.kafka_sasl_password is not None  # checked by ServiceSettings
        kwargs["sasl_mechanism"] = settings.kafka_sasl_mechanism
        kwargs["sasl_plain_username"] = settings.kafka_sasl_username
        kwargs["sasl_plain_password"] = settings.kafka_sasl_password.get_secret_value()
    return kwargs


def broker_security(settings: ServiceSettings) -> BaseSecurity | None:
    """`KafkaBroker(..., security=broker_security(settings))`: None for `PLAINTEXT`."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = ssl_context(settings)
    use_ssl = protocol.endswith("SSL")
    if protocol.startswith("SASL_"):
        assert settings.kafka_sasl_mechanism is not None and settings.kafka_sasl_password is not None
        return _SASL[settings.kafka_sasl_mechanism](
            username=settings.kafka_sasl_username or "",
            password=settings.kafka_sasl_password.get_secret_value(),
            ssl_context=context,
            use_ssl=use_ssl,
        )
    return BaseSecurity(ssl_context=context, use_ssl=True)

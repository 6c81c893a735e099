"""Transport security from configuration: Kafka TLS/SASL for every client, PostgreSQL sslmode."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import asyncpg.connect_utils
import certifi
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka import KafkaBroker
from faststream.kafka.security import parse_security
from faststream.security import SASLScram512
from palmares_eventkit import kafka_security
from palmares_eventkit.settings import ServiceSettings, postgres_sslmode
from pydantic import ValidationError

KAFKA_ENV = (
    "KAFKA_SECURITY_PROTOCOL",
    "KAFKA_SASL_MECHANISM",
    "KAFKA_SASL_USERNAME",
    "KAFKA_SASL_PASSWORD",
    "KAFKA_SSL_CAFILE",
    "KAFKA_SSL_CERTFILE",
    "KAFKA_SSL_KEYFILE",
    "KAFKA_SSL_KEY_PASSWORD",
    "KAFKA_SSL_CHECK_HOSTNAME",
    "DATABASE_URL",
)


def settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> ServiceSettings:
    for name in KAFKA_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return ServiceSettings()


def test_plaintext_by_default_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    s = settings(monkeypatch)
    assert kafka_security.client_kwargs(s) == {}
    assert kafka_security.broker_security(s) is None


def test_sasl_ssl_with_scram_and_a_private_ca(monkeypatch: pytest.MonkeyPatch) -> None:
    s = settings(
        monkeypatch,
        KAFKA_SECURITY_PROTOCOL="SASL_SSL",
        KAFKA_SASL_MECHANISM="SCRAM-SHA-512",
        KAFKA_SASL_USERNAME="palmares-submission",
        KAFKA_SASL_PASSWORD="kafka-s3cret",
        KAFKA_SSL_CAFILE=certifi.where(),
    )
    kwargs = kafka_security.client_kwargs(s)
    context = kwargs.pop("ssl_context")
    assert kwargs == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "palmares-submission",
        "sasl_plain_password": "kafka-s3cret",
    }
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert "kafka-s3cret" not in repr(s)

    security = kafka_security.broker_security(s)
    assert isinstance(security, SASLScram512)
    # FastStream turns the broker's security object into the same aiokafka arguments.
    parsed = parse_security(security)
    assert {k: v for k, v in parsed.items() if k != "ssl_context"} == kwargs
    assert parsed["ssl_context"] is not None


@pytest.mark.parametrize(
    ("env", "protocol", "mechanism"),
    [
        ({"KAFKA_SECURITY_PROTOCOL": "SSL"}, "SSL", None),
        (
            {
                "KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                "KAFKA_SASL_MECHANISM": "PLAIN",
                "KAFKA_SASL_USERNAME": "u",
                "KAFKA_SASL_PASSWORD": "p",
            },
            "SASL_PLAINTEXT",
            "PLAIN",
        ),
        (
            {
                "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "KAFKA_SASL_MECHANISM": "SCRAM-SHA-256",
                "KAFKA_SASL_USERNAME": "u",
                "KAFKA_SASL_PASSWORD": "p",
                "KAFKA_SSL_CHECK_HOSTNAME": "false",
            },
            "SASL_SSL",
            "SCRAM-SHA-256",
        ),
    ],
)
async def test_every_client_accepts_the_arguments(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], protocol: str, mechanism: str | None
) -> None:
    s = settings(monkeypatch, **env)
    kwargs: dict[str, Any] = kafka_security.client_kwargs(s)
    assert kwargs["security_protocol"] == protocol and kwargs.get("sasl_mechanism") == mechanism
    if protocol.endswith("SSL"):
        assert kwargs["ssl_context"].check_hostname is s.kafka_ssl_check_hostname
    # The clients validate their security arguments when built (no connection yet).
    admin = AIOKafkaAdminClient(bootstrap_servers="127.0.0.1:1", **kwargs)
    await admin.close()
    broker = KafkaBroker("127.0.0.1:1", security=kafka_security.broker_security(s))
    assert broker is not None
    parsed = parse_security(kafka_security.broker_security(s))
    assert parsed["security_protocol"] == protocol and parsed.get("sasl_mechanism") == mechanism


async def test_the_producer_accepts_the_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    s = settings(
        monkeypatch,
        KAFKA_SECURITY_PROTOCOL="SASL_SSL",
        KAFKA_SASL_MECHANISM="SCRAM-SHA-512",
        KAFKA_SASL_USERNAME="u",
        KAFKA_SASL_PASSWORD="p",
    )
    producer = AIOKafkaProducer(
        bootstrap_servers="127.0.0.1:1", enable_idempotence=True, acks="all", **kafka_security.client_kwargs(s)
    )
    assert producer.client._security_protocol == "SASL_SSL"
    await producer.stop()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL"},
            "needs KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD",
        ),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "KAFKA_SASL_MECHANISM": "PLAIN", "KAFKA_SASL_USERNAME": "u"},
            "needs KAFKA_SASL_PASSWORD",
        ),
        ({"KAFKA_SECURITY_PROTOCOL": "TLS"}, "KAFKA_SECURITY_PROTOCOL"),
        (
            {"KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "KAFKA_SASL_MECHANISM": "GSSAPI"},
            "KAFKA_SASL_MECHANISM",
        ),
        ({"KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": "p"}, "set SASL_SSL or SASL_PLAINTEXT"),
        ({"KAFKA_SSL_CAFILE": certifi.where()}, "set SSL or SASL_SSL"),
        ({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CAFILE": "/nonexistent/ca.pem"}, "no such file"),
        ({"KAFKA_SECURITY_PROTOCOL": "SSL", "KAFKA_SSL_CERTFILE": certifi.where()}, "go together"),
        ({"DATABASE_URL": "postgresql://u@h/db?sslmode=on"}, "sslmode='on'"),
    ],
)
def test_misconfiguration_fails_at_start_up(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("(", r"\(")):
        settings(monkeypatch, **env)


def _asyncpg_params(dsn: str) -> Any:
    _, params = asyncpg.connect_utils._parse_connect_dsn_and_args(  # type: ignore[attr-defined]
        dsn=dsn,
        host=None,
        port=None,
        user=None,
        password=None,
        passfile=None,
        database=None,
        ssl=None,
        service=None,
        servicefile=None,
        direct_tls=None,
        server_settings=None,
        target_session_attrs=None,
        krbsrvname=None,
        gsslib=None,
    )
    return params


@pytest.mark.parametrize(
    ("query", "sslmode", "verified"),
    [
        ("", None, False),
        ("?sslmode=disable", "disable", None),
        ("?sslmode=require", "require", False),
        (f"?sslmode=verify-full&sslrootcert={certifi.where()}", "verify-full", True),
    ],
)
def test_postgres_sslmode_is_read_from_database_url_by_asyncpg(
    monkeypatch: pytest.MonkeyPatch, query: str, sslmode: str | None, verified: bool | None
) -> None:
    url = f"postgresql://palmares:pw@db.example:5432/palmares{query}"
    assert settings(monkeypatch, DATABASE_URL=url).database_url == url
    assert postgres_sslmode(url) == sslmode
    params = _asyncpg_params(url)  # what create_pool(DATABASE_URL) will do
    if verified is None:
        assert params.ssl is False  # disable: never TLS
    else:
        assert isinstance(params.ssl, ssl.SSLContext)
        assert (params.ssl.verify_mode == ssl.CERT_REQUIRED) is verified
        assert params.ssl.check_hostname is verified


def test_postgres_verify_full_without_a_root_certificate_is_an_error(tmp_path: Path) -> None:
    with pytest.raises((FileNotFoundError, asyncpg.exceptions.ClientConfigurationError)):
        _asyncpg_params(f"postgresql://u@h/db?sslmode=verify-full&sslrootcert={tmp_path / 'missing.crt'}")

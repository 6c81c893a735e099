"""Tokens, contact emails and credentials never reach a log line, a span or a settings repr."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from palmares_eventkit import logs, redaction, telemetry
from palmares_eventkit.redaction import redact
from palmares_eventkit.settings import ServiceSettings
from palmares_notify.settings import NotifySettings
from palmares_submission.settings import SubmissionSettings

COLLECTIVITE_TOKEN = "pal_3q2-Zk9xJcW1yV8bTQmP0aL_rS5uHnGfE7dKoI4jB6c"
OPERATOR_TOKEN = "op_Yx81fQ2rL9sVbN4kPm7tZw"
CONTACT = "numerique@mairie-frehel.example"
SECRETS = (COLLECTIVITE_TOKEN, OPERATOR_TOKEN, CONTACT, "hunter2-db", "other.person+tag@sub.commune.example")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"token {COLLECTIVITE_TOKEN} refused", "token [token] refused"),
        (f"Authorization: Bearer {OPERATOR_TOKEN}", "Authorization: Bearer [token]"),
        ("authorization: bearer abc.DEF-123_xyz", "authorization: bearer [token]"),
        ("Basic dXNlcjpwYXNz", "Basic [token]"),
        ("Bearer\tabc.DEF-123", "Bearer [token]"),  # any blank, not only a space
        (f"550 5.1.1 <{CONTACT}>: user unknown", "550 5.1.1 <[email]>: user unknown"),
        ("to=Other.Person+tag@sub.commune.example,", "to=[email],"),
        (
            "postgresql://palmares:hunter2-db@db.example:5432/palmares",
            "postgresql://palmares:[secret]@db.example:5432/palmares",
        ),
        ("GET /v1/x?token=abc&format=csv", "GET /v1/x?token=[secret]&format=csv"),
        ("/v1/x?format=csv&access_token=abc#frag", "/v1/x?format=csv&access_token=[secret]#frag"),
        ("jeton « Bearer » manquant", "jeton « Bearer » manquant"),
        (
            "submission 2d3f0c2e-1111-4a5b-9c8d-000000000001 of 49007",
            "submission 2d3f0c2e-1111-4a5b-9c8d-000000000001 of 49007",
        ),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


# What each pattern's cheap test looks for, and what the patterns match around it.
_PIECES = (
    *("Bearer", "bAsIc", "diGest", "baſic", " ", "\t", "\n", "pal_", "op_", "abcDEF12", "@", "=", "_", "-", "."),
    *(
        "Bearer abc",
        "basic\tDEF",
        "pal_abcdef12",
        "op_abcdef12",
        "xop_abcdef12",
        "?token=",
        "&Key=",
        ";sig=",
        "=x",
        "é",
        "<",
        ">",
    ),
    *("https://", "user:pw@", "postgresql://u:pw@h", "x@mairie.example", "mairie.example"),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_PIECES) | st.text(max_size=3), max_size=14).map("".join))
def test_a_pattern_skipped_by_its_cheap_test_would_have_changed_nothing(text: str) -> None:
    every_pattern = text
    for pattern, replacement, _ in redaction._PATTERNS:
        every_pattern = pattern.sub(replacement, every_pattern)
    assert redact(text) == every_pattern


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The services' logging set-up, writing to a buffer instead of stderr."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    logs.setup_logging("submission", "DEBUG")
    (handler,) = root.handlers
    assert isinstance(handler, logging.StreamHandler) and handler.stream is sys.stderr
    handler.setStream(stream)
    try:
        yield stream
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])


def test_log_lines_carry_no_token_nor_email(json_log: io.StringIO) -> None:
    log = logging.getLogger("palmares.test")
    log.info("registered %s with token %s", CONTACT, COLLECTIVITE_TOKEN)
    log.warning(
        "email not sent",
        extra={"to": CONTACT, "headers": {"Authorization": f"Bearer {OPERATOR_TOKEN}"}, "recipients": [CONTACT]},
    )
    try:
        raise ValueError(f"cannot deliver to {CONTACT} (dsn postgresql://u:hunter2-db@h/db)")
    except ValueError:
        log.exception("handler failed for %s", "other.person+tag@sub.commune.example")
    log.debug("stack", stack_info=True, extra={"token": COLLECTIVITE_TOKEN})
    output = json_log.getvalue()
    lines = [json.loads(line) for line in output.splitlines()]
    assert len(lines) == 4
    for secret in SECRETS:
        assert secret not in output
    assert lines[0]["message"] == "registered [email] with token [token]"
    assert lines[1]["to"] == "[email]" and lines[1]["headers"] == {"Authorization": "Bearer [token]"}
    assert "ValueError: cannot deliver to [email]" in lines[2]["exc_info"]
    assert lines[2]["message"] == "handler failed for [email]" and lines[2]["service"] == "submission"


def test_exported_spans_carry_no_token_nor_email() -> None:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(telemetry.RedactingSpanExporter(memory)))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("smtp send", attributes={"palmares.submission_id": "x"}) as span:
        span.set_attribute("palmares.smtp.error", f"550 5.1.1 <{CONTACT}>: Recipient address rejected")
        span.set_attribute("http.url", f"http://127.0.0.1:8000/v1/submissions/x?token={COLLECTIVITE_TOKEN}")
        span.set_attribute("http.request.header.authorization", (f"Bearer {OPERATOR_TOKEN}",))
        span.add_event("sent", {"to": CONTACT})
        span.record_exception(RuntimeError(f"refused {CONTACT}"))
        span.set_status(trace.Status(trace.StatusCode.ERROR, f"refused {CONTACT}"))
    (finished,) = memory.get_finished_spans()
    dumped = json.dumps(telemetry.span_to_dict(finished)) + repr(finished.events) + str(finished.status.description)
    dumped += json.dumps([dict(e.attributes or {}) for e in finished.events])
    for secret in SECRETS:
        assert secret not in dumped
    assert finished.attributes is not None
    assert finished.attributes["palmares.smtp.error"] == "550 5.1.1 <[email]>: Recipient address rejected"
    assert finished.attributes["http.request.header.authorization"] == ("Bearer [token]",)
    assert finished.attributes["palmares.submission_id"] == "x"
    assert finished.get_span_context() is not None and finished.name == "smtp send"


def _finished_span(secret_in: str) -> Any:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with provider.get_tracer("test").start_as_current_span("consume", attributes={"topic": "scores.v1"}) as span:
        span.add_event("retry", {"attempt": 1, "to": CONTACT if secret_in == "event" else "x"})
        if secret_in == "status":
            span.set_status(trace.Status(trace.StatusCode.ERROR, f"refused {CONTACT}"))
        if secret_in == "attribute":
            span.set_attribute("error", f"refused {CONTACT}")
        if secret_in == "attribute list":
            span.set_attribute("recipients", ["x", CONTACT])
        if secret_in == "name":
            span.update_name(f"send to {CONTACT}")
    (finished,) = memory.get_finished_spans()
    return finished


def test_a_span_with_nothing_to_redact_is_exported_as_is() -> None:
    span = _finished_span("nowhere")
    assert telemetry.redacted_span(span) is span


@pytest.mark.parametrize("secret_in", ["event", "status", "attribute", "attribute list", "name"])
def test_a_span_with_a_secret_anywhere_is_copied_redacted(secret_in: str) -> None:
    span = _finished_span(secret_in)
    redacted = telemetry.redacted_span(span)
    assert redacted is not span
    dumped = json.dumps(telemetry.span_to_dict(redacted)) + str(redacted.status.description)
    dumped += json.dumps([dict(e.attributes or {}) for e in redacted.events])
    assert CONTACT not in dumped and "[email]" in dumped
    assert dict(redacted.attributes or {})["topic"] == "scores.v1"


def test_setup_tracing_redacts_the_local_trace_files(tmp_path: Any) -> None:
    provider = telemetry.setup_tracing("notify-test", tmp_path)
    with provider.get_tracer("t").start_as_current_span("smtp send") as span:
        span.set_attribute("palmares.smtp.error", f"550 <{CONTACT}>")
    provider.force_flush()
    written = (tmp_path / "notify-test.jsonl").read_text()
    assert "[email]" in written and CONTACT not in written
    provider.shutdown()


CLEAR_ENV = (
    "OPERATOR_TOKEN",
    "OPERATOR_TOKENS",
    "OPERATOR_TOKENS_FILE",
    "DATABASE_URL",
    "KAFKA_SECURITY_PROTOCOL",
    "KAFKA_SASL_MECHANISM",
    "KAFKA_SASL_USERNAME",
    "KAFKA_SASL_PASSWORD",
    "SMTP_PASSWORD",
    "SMTP_USERNAME",
    "SMTP_HOST",
)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in CLEAR_ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_settings_reprs_hide_every_secret(env: pytest.MonkeyPatch) -> None:
    env.setenv("OPERATOR_TOKEN", OPERATOR_TOKEN)
    env.setenv("OPERATOR_TOKENS", "op_second-operator-token-1,op_third-operator-token-22")
    env.setenv("DATABASE_URL", "postgresql://palmares:hunter2-db@db.example:5432/palmares?sslmode=verify-full")
    env.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    env.setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    env.setenv("KAFKA_SASL_USERNAME", "palmares")
    env.setenv("KAFKA_SASL_PASSWORD", "kafka-s3cret")
    env.setenv("SMTP_HOST", "127.0.0.1")
    env.setenv("SMTP_USERNAME", "palmares")
    env.setenv("SMTP_PASSWORD", "smtp-s3cret")
    submission = SubmissionSettings()
    notify = NotifySettings()
    shown = repr(submission) + str(submission) + repr(notify) + str(notify) + repr(ServiceSettings())
    for secret in (OPERATOR_TOKEN, "op_second-operator-token-1", "hunter2-db", "kafka-s3cret", "smtp-s3cret"):
        assert secret not in shown
    assert "postgresql://palmares:[secret]@db.example:5432/palmares?sslmode=verify-full" in shown
    assert submission.database_url.endswith("hunter2-db@db.example:5432/palmares?sslmode=verify-full")
    assert submission.operator_secrets() == (
        OPERATOR_TOKEN,
        "op_second-operator-token-1",
        "op_third-operator-token-22",
    )

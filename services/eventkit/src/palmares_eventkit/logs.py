"""Logs as JSON lines carrying the current trace and span ids, with secrets and emails redacted."""

from __future__ import annotations

import logging
import sys
import traceback

from opentelemetry import trace
from palmares_eventkit.redaction import redact, redact_value
from pythonjsonlogger.json import JsonFormatter

# Attributes every LogRecord has; anything else was passed in `extra=`.
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class _TraceIds(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = trace.get_current_span().get_span_context()
        record.service = self._service
        record.trace_id = format(ctx.trace_id, "032x") if ctx.is_valid else None
        record.span_id = format(ctx.span_id, "016x") if ctx.is_valid else None
        return True


class RedactSecrets(logging.Filter):
    """Masks email addresses, API tokens and credentials in a record before any handler writes it.

    The message is rendered (`msg % args`) and redacted; so are the `extra=`
    fields, the exception's traceback and the stack. See `redaction`.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        for name, value in list(record.__dict__.items()):
            if name not in _STANDARD:
                setattr(record, name, redact_value(value))
        if record.exc_info:
            # Rendered here so the traceback text (messages quoting addresses) is redacted too.
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def setup_logging(service: str, level: str = "INFO") -> None:
    """Route every logger of the process to stderr as JSON lines (secrets and emails redacted)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(trace_id)s %(span_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(_TraceIds(service))
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # aiokafka is chatty at INFO about every coordinator change.
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))
    logging.getLogger("uvicorn.access").setLevel(max(logging.WARNING, root.level))

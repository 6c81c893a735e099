"""Delivery of queued emails over SMTP, at least once, with bounded retries.

A notification is claimed with a lease (its `next_attempt_at` moves into the
future), sent, then marked `sent` together with a `NotificationSent` event in
one transaction. A crash after the SMTP server accepted the message and
before that commit sends it again after the lease: the only duplicate window
SMTP leaves open (RFC 1047); the resend is byte-identical, same Message-ID.
Temporary failures (4xx, connection lost) are retried with exponential
backoff; a permanent refusal (5xx) or exhausted retries end in
`NotificationFailed` with the reason.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

import aiosmtplib
import asyncpg
from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind
from palmares_contracts import NotificationFailed, NotificationKind, NotificationSent
from palmares_eventkit import telemetry
from palmares_eventkit.runtime import ServiceRuntime, Tx
from prometheus_client import Counter

from palmares_notify.settings import NotifySettings

log = logging.getLogger(__name__)
tracer = trace.get_tracer("palmares.notify.smtp")

EMAILS = Counter("palmares_emails_total", "Emails by outcome", ["kind", "outcome"])

LEASE_S = 120


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one delivery attempt."""

    sent: bool
    permanent: bool = False
    error: str = ""


class SmtpSender:
    """One persistent SMTP connection, reopened when it breaks."""

    def __init__(self, settings: NotifySettings) -> None:
        self._settings = settings
        self._smtp: aiosmtplib.SMTP | None = None
        self._envelope_from = parseaddr(settings.mail_from)[1]

    async def _connection(self) -> aiosmtplib.SMTP:
        if self._smtp is not None and self._smtp.is_connected:
            return self._smtp
        s = self._settings
        smtp = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            timeout=s.smtp_timeout_s,
            start_tls=s.smtp_starttls or None,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
        )
        await smtp.connect()
        self._smtp = smtp
        return smtp

    async def send(self, to: str, message: bytes) -> Outcome:
        try:
            smtp = await self._connection()
            errors, _ = await smtp.sendmail(self._envelope_from, [to], message)
            if errors:
                code, text = next(iter(errors.values()))
                return Outcome(False, permanent=code >= 500, error=f"{code} {text}")
            return Outcome(True)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            first = exc.recipients[0]
            return Outcome(False, permanent=first.code >= 500, error=f"{first.code} {first.message}")
        except aiosmtplib.SMTPResponseException as exc:
            await self.close()
            return Outcome(False, permanent=exc.code >= 500, error=f"{exc.code} {exc.message}")
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            await self.close()
            return Outcome(False, error=f"{type(exc).__name__}: {exc}")

    async def close(self) -> None:
        if self._smtp is not None:
            try:
                if self._smtp.is_connected:
                    await self._smtp.quit()
            except Exception:
                self._smtp.close()
            self._smtp = None


async def claim(pool: asyncpg.Pool, batch: int) -> list[asyncpg.Record]:
    """Due notifications, leased to this instance for `LEASE_S` seconds."""
    return await pool.fetch(
        """UPDATE notifications n SET attempts = n.attempts + 1,
                  next_attempt_at = now() + make_interval(secs => $2)
           WHERE n.notification_id IN (
               SELECT notification_id FROM notifications
               WHERE status = 'pending' AND next_attempt_at <= now()
               ORDER BY next_attempt_at, created_at LIMIT $1
               FOR UPDATE SKIP LOCKED)
           RETURNING n.*""",
        batch,
        float(LEASE_S),
    )


def _event_fields(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "notification_id": row["notification_id"],
        "kind": NotificationKind(row["kind"]),
        "collectivite_code": row["collectivite_code"],
        "edition": row["edition"],
        "to": row["to_addr"],
        "message_id": row["message_id"],
        "submission_id": row["submission_id"],
        "revision": row["revision"],
    }


async def record(runtime: ServiceRuntime, row: asyncpg.Record, outcome: Outcome, settings: NotifySettings) -> None:
    """Store the outcome of an attempt, and publish it when final."""
    async with runtime.transaction() as tx:
        if outcome.sent:
            await tx.conn.execute(
                "UPDATE notifications SET status = 'sent', sent_at = now(), last_error = NULL WHERE notification_id = $1",
                row["notification_id"],
            )
            await tx.publish(NotificationSent(**_event_fields(row)))
            EMAILS.labels(row["kind"], "sent").inc()
        elif outcome.permanent or row["attempts"] >= settings.send_max_attempts:
            await _fail(tx, row, outcome.error)
        else:
            delay = min(settings.send_base_delay_s * 2 ** (row["attempts"] - 1), settings.send_max_delay_s)
            await tx.conn.execute(
                "UPDATE notifications SET next_attempt_at = now() + make_interval(secs => $2), last_error = $3 "
                "WHERE notification_id = $1",
                row["notification_id"],
                float(delay),
                outcome.error,
            )
            EMAILS.labels(row["kind"], "retry").inc()


async def _fail(tx: Tx, row: asyncpg.Record, reason: str) -> None:
    await tx.conn.execute(
        "UPDATE notifications SET status = 'failed', last_error = $2 WHERE notification_id = $1",
        row["notification_id"],
        reason,
    )
    await tx.publish(NotificationFailed(**_event_fields(row), reason=reason or "échec de l'envoi"))
    EMAILS.labels(row["kind"], "failed").inc()


def sending_loop(settings: NotifySettings, idle_s: float = 0.2) -> Any:
    """The background task that delivers queued emails."""

    async def run(runtime: ServiceRuntime) -> None:
        smtp = SmtpSender(settings)
        try:
            while True:
                rows = await claim(runtime.pool, settings.send_batch)
                if not rows:
                    await asyncio.sleep(idle_s)
                    continue
                for row in rows:
                    await deliver(runtime, smtp, row, settings)
        finally:
            await smtp.close()

    return run


async def deliver(runtime: ServiceRuntime, smtp: SmtpSender, row: asyncpg.Record, settings: NotifySettings) -> None:
    """Send one notification within its dossier's trace."""
    links = [
        Link(trace.get_current_span(telemetry.extract(link)).get_span_context()) for link in json.loads(row["links"])
    ]
    with tracer.start_as_current_span(
        "smtp send",
        context=telemetry.extract(json.loads(row["trace_context"])),
        kind=SpanKind.CLIENT,
        links=links,
        attributes={
            "palmares.notification_id": str(row["notification_id"]),
            "palmares.notification_kind": row["kind"],
            "palmares.submission_id": str(row["submission_id"]),
            "palmares.attempt": row["attempts"],
        },
    ) as span:
        outcome = await smtp.send(row["to_addr"], bytes(row["message"]))
        span.set_attribute("palmares.smtp.sent", outcome.sent)
        if not outcome.sent:
            span.set_attribute("palmares.smtp.error", outcome.error)
            log.warning(
                "email not sent", extra={"notification_id": str(row["notification_id"]), "error": outcome.error}
            )
        await record(runtime, row, outcome, settings)

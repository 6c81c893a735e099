"""Delivery of queued emails over SMTP, at least once, with the smallest duplicate window.

Each delivery runs in one database transaction that locks the notification
row (`FOR UPDATE SKIP LOCKED`: several senders never take the same email),
writes its `sent` state and the `NotificationSent` event *before* the message
is sent, and commits right after the server's 250 reply. So:
- if the process dies before the 250, the transaction aborts with the
  connection, the row lock is released at once, and the email is retried;
- the only duplicate window is between the server accepting the message and
  our COMMIT reaching PostgreSQL: a network reply and an event-loop turn,
  which no SMTP client can close (RFC 1047). The resend is byte-identical,
  with the same Message-ID, so a mail store can recognise it.
Temporary failures (4xx, connection lost) undo the success in the same
transaction (the row stays locked, so no other sender takes the email at once)
and are retried with exponential backoff; a permanent refusal (5xx) or
exhausted retries end in `NotificationFailed` with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any
from uuid import UUID

import aiosmtplib
import asyncpg
from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind
from palmares_contracts import NotificationFailed, NotificationKind, NotificationSent
from palmares_eventkit import telemetry
from palmares_eventkit.db import Connection
from palmares_eventkit.runtime import ServiceRuntime, Tx
from prometheus_client import Counter

from palmares_notify.settings import NotifySettings
from palmares_notify.store import Email

log = logging.getLogger(__name__)
tracer = trace.get_tracer("palmares.notify.smtp")

EMAILS = Counter("palmares_emails_total", "Emails by outcome", ["kind", "outcome"])


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


# The next due email, taken and written `sent` (with its attempt) in one statement:
# the transaction commits only after the server's 250 (see the module's docstring).
# One round trip instead of three: each costs both sides more CPU than the work.
# `attempts` is the count before this attempt.
_TAKE_NEXT_DUE = """
WITH due AS (
    SELECT notification_id, attempts FROM notifications
    WHERE status = 'pending' AND next_attempt_at <= now()
    ORDER BY next_attempt_at, created_at
    LIMIT 1
    FOR UPDATE SKIP LOCKED
), taken AS (
    UPDATE notifications n SET status = 'sent', sent_at = now(), attempts = due.attempts + 1, last_error = NULL
    FROM due WHERE n.notification_id = due.notification_id
    RETURNING n.*
), attempt AS (
    INSERT INTO delivery_attempts (notification_id, attempt, outcome, detail)
    SELECT notification_id, attempts, 'sent', NULL FROM taken
    ON CONFLICT DO NOTHING
)
SELECT taken.notification_id, taken.kind, taken.submission_id, taken.revision, taken.edition,
       taken.collectivite_code, taken.to_addr, taken.message_id, taken.message, taken.trace_context,
       taken.links, due.attempts
FROM taken JOIN due USING (notification_id)"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Taken(Email):
    """An email taken for delivery (`_TAKE_NEXT_DUE`), its row locked until the transaction ends."""

    attempts: int  # before this attempt

    @classmethod
    def of(cls, row: asyncpg.Record) -> Taken:
        return cls(
            notification_id=row["notification_id"],
            kind=NotificationKind(row["kind"]),
            submission_id=row["submission_id"],
            revision=row["revision"],
            edition=row["edition"],
            collectivite_code=row["collectivite_code"],
            to=row["to_addr"],
            message_id=row["message_id"],
            message=bytes(row["message"]),
            trace=json.loads(row["trace_context"]),
            links=json.loads(row["links"]),
            attempts=row["attempts"],
        )


async def _record_failure(tx: Tx, row: Taken, sent_event_id: UUID, outcome: Outcome, settings: NotifySettings) -> None:
    """After a failed attempt, in the transaction that still holds the email's row lock.

    The writes that assumed success are undone first; then the email is either
    retried later (backoff) or given up with `NotificationFailed`. Holding the
    lock throughout matters: released in between, another sender would take
    the email at once, without backoff (and the two would deadlock on its rows).
    """
    attempts = row.attempts + 1
    await tx.withdraw(sent_event_id)
    await tx.conn.execute(
        "DELETE FROM delivery_attempts WHERE notification_id = $1 AND attempt = $2", row.notification_id, attempts
    )
    if outcome.permanent or attempts >= settings.send_max_attempts:
        await _record_attempt(tx.conn, row, attempts, "failed", outcome.error)
        await _fail(tx, row, attempts, outcome.error)
        return
    await _record_attempt(tx.conn, row, attempts, "retry", outcome.error)
    delay = min(settings.send_base_delay_s * 2 ** (attempts - 1), settings.send_max_delay_s)
    await tx.conn.execute(
        "UPDATE notifications SET status = 'pending', sent_at = NULL, attempts = $2, "
        "next_attempt_at = now() + make_interval(secs => $3), last_error = $4 WHERE notification_id = $1",
        row.notification_id,
        attempts,
        float(delay),
        outcome.error,
    )
    EMAILS.labels(row.kind.value, "retry").inc()


async def _record_attempt(conn: Connection, row: Taken, attempt: int, outcome: str, detail: str | None) -> None:
    await conn.execute(
        "INSERT INTO delivery_attempts (notification_id, attempt, outcome, detail) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT DO NOTHING",
        row.notification_id,
        attempt,
        outcome,
        detail,
    )


async def _fail(tx: Tx, row: Taken, attempts: int, reason: str) -> None:
    await tx.conn.execute(
        "UPDATE notifications SET status = 'failed', sent_at = NULL, attempts = $2, last_error = $3 "
        "WHERE notification_id = $1",
        row.notification_id,
        attempts,
        reason,
    )
    await tx.publish(NotificationFailed(**row.event_fields(), reason=reason or "échec de l'envoi"))
    EMAILS.labels(row.kind.value, "failed").inc()


MAIL_CHANNEL = "notify_mail"


def sending_loop(settings: NotifySettings, idle_s: float = 1.0) -> Any:
    """The background task that delivers queued emails, one SMTP connection per worker.

    Workers sleep until a handler queues an email (`LISTEN notify_mail`), or
    `idle_s` at most: retries that fall due are picked up by that poll.
    """

    async def run(runtime: ServiceRuntime) -> None:
        wake = asyncio.Event()
        listener = await runtime.pool.acquire()

        def on_notify(*_: Any) -> None:
            wake.set()

        async def worker() -> None:
            smtp = SmtpSender(settings)
            try:
                # At shutdown, the email being sent is finished (and recorded) first.
                while not runtime.stopping.is_set():
                    if not await deliver_next(runtime, smtp, settings):
                        wake.clear()
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(wake.wait(), idle_s)
            finally:
                await smtp.close()

        try:
            await listener.add_listener(MAIL_CHANNEL, on_notify)
            try:
                await asyncio.gather(*(worker() for _ in range(settings.send_workers)))
            finally:
                # The pool resets a released connection (UNLISTEN) but keeps the callback
                # registered on it: the next user of the connection would wake these workers.
                await listener.remove_listener(MAIL_CHANNEL, on_notify)
        finally:
            await runtime.pool.release(listener)

    return run


async def deliver_next(runtime: ServiceRuntime, smtp: SmtpSender, settings: NotifySettings) -> bool:
    """Deliver the next due email, if any (False when none is due)."""
    async with runtime.pool.acquire() as conn, conn.transaction():
        # The success is written first (one statement takes the email and marks it sent);
        # COMMIT right after the 250 makes it true.
        found = await conn.fetchrow(_TAKE_NEXT_DUE)
        if found is None:
            return False
        row = Taken.of(found)
        tx = Tx(conn, runtime.schema)
        with _send_span(row) as span:
            sent = NotificationSent(**row.event_fields())
            await tx.publish(sent)
            outcome = await smtp.send(row.to, row.message)
            if not outcome.sent:
                span.set_attribute("palmares.smtp.error", outcome.error)
                log.warning(
                    "email not sent", extra={"notification_id": str(row.notification_id), "error": outcome.error}
                )
                await _record_failure(tx, row, sent.event_id, outcome, settings)
    if outcome.sent:
        EMAILS.labels(row.kind.value, "sent").inc()
    runtime.wake_relay()
    return True


def _send_span(row: Taken) -> Any:
    """The SMTP send, as a span of the dossier's trace (linked to the palmarès for awards)."""
    links = [Link(trace.get_current_span(telemetry.extract(link)).get_span_context()) for link in row.links]
    return tracer.start_as_current_span(
        "smtp send",
        context=telemetry.extract(row.trace),
        kind=SpanKind.CLIENT,
        links=links,
        attributes={
            "palmares.notification_id": str(row.notification_id),
            "palmares.notification_kind": row.kind.value,
            "palmares.submission_id": str(row.submission_id),
            "palmares.attempt": row.attempts + 1,
        },
    )

"""Delivery of queued emails over SMTP, at least once, with a short, bounded duplicate window.

A sender takes the next due emails, up to `PALMARES_SEND_BATCH` (10), in one
database transaction that locks their rows (`FOR UPDATE SKIP LOCKED`: several
senders never take the same email). It sends them one after the other on its
SMTP connection; right after the last server reply it writes the `sent` state
of those the server accepted and their `NotificationSent` events (two
statements for the whole batch) and commits. So:
- if the process dies before the commit, the transaction aborts with the
  connection, the row locks are released at once, and the emails are retried;
- the only duplicate window is between the server accepting a message and
  that COMMIT reaching PostgreSQL: the rest of the batch (a few milliseconds
  per email on one machine), which no SMTP client can close (RFC 1047). A
  resend is byte-identical, with the same Message-ID, so a mail store can
  recognise it. A batch also ends once it has lasted
  `PALMARES_SEND_BATCH_WINDOW_MS` (50), whatever the server's pace.
  `PALMARES_SEND_BATCH=1` narrows the window to one email, at the price of
  four statements per email instead of four per batch.
Temporary failures (4xx, connection lost) are retried with exponential
backoff, written in the same transaction (the row stays locked, so no other
sender takes the email at once); the rest of the batch is left for the next
pass, untouched. A permanent refusal (5xx) or exhausted retries end in
`NotificationFailed` with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from email.utils import parseaddr
from typing import Any

import aiosmtplib
from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind
from palmares_contracts import NotificationFailed, NotificationSent
from palmares_eventkit import telemetry
from palmares_eventkit.db import keep_session_state
from palmares_eventkit.runtime import ServiceRuntime, Tx
from prometheus_client import Counter

from palmares_notify import store
from palmares_notify.delivery import GiveUp, Outcome, RetryPolicy, after_failure
from palmares_notify.settings import NotifySettings

log = logging.getLogger(__name__)
tracer = trace.get_tracer("palmares.notify.smtp")

EMAILS = Counter("palmares_emails_total", "Emails by outcome", ["kind", "outcome"])


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


async def _record_failure(tx: Tx, row: store.Taken, outcome: Outcome, policy: RetryPolicy) -> None:
    """After a failed attempt, in the transaction that still holds the email's row lock.

    The email is either retried later (backoff) or given up with
    `NotificationFailed`. Holding the lock throughout matters: released in
    between, another sender would take the email at once, without backoff.
    """
    decision = after_failure(row.attempts, outcome, policy)
    if isinstance(decision, GiveUp):
        await store.record_attempt(tx.conn, row.notification_id, decision.attempts, "failed", decision.error)
        await store.give_up(tx.conn, row.notification_id, decision.attempts, decision.error)
        await tx.publish(NotificationFailed(**row.event_fields(), reason=decision.reason))
        EMAILS.labels(row.kind.value, "failed").inc()
        return
    await store.record_attempt(tx.conn, row.notification_id, decision.attempts, "retry", decision.error)
    await store.retry_later(tx.conn, row.notification_id, decision.attempts, decision.delay_s, decision.error)
    EMAILS.labels(row.kind.value, "retry").inc()


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
                    wake.clear()  # before looking: an email queued while this one looks wakes the next look
                    if not await deliver_due(runtime, smtp, settings):
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(wake.wait(), idle_s)
            finally:
                await smtp.close()

        try:
            await listener.add_listener(store.MAIL_CHANNEL, on_notify)
            keep_session_state(listener)  # LISTEN is the session's: UNLISTEN on release
            try:
                await asyncio.gather(*(worker() for _ in range(settings.send_workers)))
            finally:
                # The pool resets a released connection (UNLISTEN) but keeps the callback
                # registered on it: the next user of the connection would wake these workers.
                await listener.remove_listener(store.MAIL_CHANNEL, on_notify)
        finally:
            await runtime.pool.release(listener)

    return run


async def deliver_due(runtime: ServiceRuntime, smtp: SmtpSender, settings: NotifySettings) -> int:
    """Deliver the next due emails, up to `settings.send_batch`, in one transaction; how many were taken (0: none due).

    The emails the server accepted are written `sent`, with their
    `NotificationSent`, after the last reply and committed at once (the
    module's docstring says why that order). The batch stops early after a
    temporary failure (the server or the connection is at fault) and once it
    has lasted `send_batch_window_ms` (a slow server would otherwise stretch
    the window of resends): the emails not tried yet stay due for the next
    pass, their attempts uncounted.
    """
    sent: list[store.Taken] = []
    async with runtime.pool.acquire() as conn, conn.transaction():
        taken = await store.take_due(conn, settings.send_batch)
        tx = Tx(conn, runtime.schema, deferred=True)  # the events of the batch in one outbox insert
        deadline = time.monotonic() + settings.send_batch_window_ms / 1000
        for row in taken:
            with _send_span(row) as span:
                event = NotificationSent(**row.event_fields())  # before sending: nothing may fail after the 250
                outcome = await smtp.send(row.to, row.message)
                if outcome.sent:
                    await tx.publish(event)  # in the send's span: its trace
                    sent.append(row)
                else:
                    span.set_attribute("palmares.smtp.error", outcome.error)
                    log.warning(
                        "email not sent", extra={"notification_id": str(row.notification_id), "error": outcome.error}
                    )
                    await _record_failure(tx, row, outcome, _policy(settings))
            if not (outcome.sent or outcome.permanent):
                break  # the server or the connection is at fault
            if time.monotonic() >= deadline:
                break  # a slow server: the window of resends after a crash stays this short
        if sent:
            await store.mark_sent(conn, [row.notification_id for row in sent])
        await tx.flush()
    for row in sent:
        EMAILS.labels(row.kind.value, "sent").inc()
    if taken:
        runtime.wake_relay()
    return len(taken)


def _policy(settings: NotifySettings) -> RetryPolicy:
    return RetryPolicy(settings.send_max_attempts, settings.send_base_delay_s, settings.send_max_delay_s)


def _send_span(row: store.Taken) -> Any:
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

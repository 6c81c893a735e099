"""Delivery of queued emails over SMTP, at least once, with a short, bounded duplicate window.

A sender takes the next due emails, up to `PALMARES_SEND_BATCH` (10), in one
database transaction that locks their rows (`FOR UPDATE SKIP LOCKED`: several
senders never take the same email). It sends them at once over its SMTP
connections (its share of `PALMARES_SEND_WORKERS`), the emails to one
recipient one after the other on one connection, in the order taken; right
after the last server reply it writes the `sent` state of those the server
accepted and their `NotificationSent` events (one statement for the whole
batch) and commits. So:
- if the process dies before the commit, the transaction aborts with the
  connection, the row locks are released at once, and the emails are retried;
- the only duplicate window is between the server accepting a message and
  that COMMIT reaching PostgreSQL: the rest of the batch, which no SMTP
  client can close (RFC 1047). A resend is byte-identical, with the same
  Message-ID, so a mail store can recognise it. A batch also starts no
  further email once it has lasted `PALMARES_SEND_BATCH_WINDOW_MS` (50),
  whatever the server's pace. `PALMARES_SEND_BATCH=1` narrows the window to
  one email, at the price of four statements per email instead of four per
  batch.
A replica runs two senders (`SENDERS`): while one talks to PostgreSQL, the
other's connections send. The emails of a batch go out together rather than
one after the other, so a batch fills in its window even when the machine is
busy: its statements are shared by ten emails instead of two or three.
Temporary failures (4xx, connection lost) are retried with exponential
backoff, written in the same transaction (the row stays locked, so no other
sender takes the email at once); the batch starts no further email, and those
not started are left for the next pass, untouched. A permanent refusal (5xx)
or exhausted retries end in `NotificationFailed` with the reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any
from uuid import UUID

import aiosmtplib
from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind
from palmares_contracts import NotificationFailed, NotificationSent
from palmares_eventkit import outbox, telemetry
from palmares_eventkit.db import Connection, keep_session_state
from palmares_eventkit.runtime import ServiceRuntime
from prometheus_client import Counter

from palmares_notify import store
from palmares_notify.delivery import GiveUp, Outcome, Retry, RetryPolicy, after_failure
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
        except asyncio.CancelledError:
            # Cut mid-exchange (another lane of the batch failed, or shutdown): the session's state is unknown.
            if self._smtp is not None:
                self._smtp.close()
                self._smtp = None
            raise

    async def close(self) -> None:
        if self._smtp is not None:
            try:
                if self._smtp.is_connected:
                    await self._smtp.quit()
            except Exception:
                self._smtp.close()
            self._smtp = None


# Senders per replica: while one talks to PostgreSQL (take, record, commit), the other's connections send.
SENDERS = 2


@dataclass(frozen=True, slots=True)
class _Attempt:
    """What a batch's send of one email gave, and the event it emits, prepared in the send's span (its trace)."""

    row: store.Taken
    outcome: Outcome
    decision: Retry | GiveUp | None  # None: sent
    event: outbox.OutboxRow | None  # `NotificationSent`, `NotificationFailed` (given up), or None (retried)


async def _record_failure(conn: Connection, attempt: _Attempt) -> None:
    """After a failed attempt, in the transaction that still holds the email's row lock.

    The email is either retried later (backoff) or given up (its
    `NotificationFailed` is written with the batch's events). Holding the lock
    throughout matters: released in between, another sender would take the
    email at once, without backoff.
    """
    row, decision = attempt.row, attempt.decision
    if isinstance(decision, GiveUp):
        await store.record_attempt(conn, row.notification_id, decision.attempts, "failed", decision.error)
        await store.give_up(conn, row.notification_id, decision.attempts, decision.error)
        EMAILS.labels(row.kind.value, "failed").inc()
    elif isinstance(decision, Retry):
        await store.record_attempt(conn, row.notification_id, decision.attempts, "retry", decision.error)
        await store.retry_later(conn, row.notification_id, decision.attempts, decision.delay_s, decision.error)
        EMAILS.labels(row.kind.value, "retry").inc()


def sending_loop(settings: NotifySettings, idle_s: float = 1.0) -> Any:
    """The background task that delivers queued emails: `SENDERS` senders sharing `send_workers` SMTP connections.

    Senders sleep until a handler queues an email (`LISTEN notify_mail`), or
    `idle_s` at most: retries that fall due are picked up by that poll.
    """

    async def run(runtime: ServiceRuntime) -> None:
        wake = asyncio.Event()
        listener = await runtime.pool.acquire()

        def on_notify(*_: Any) -> None:
            wake.set()

        async def send(connections: list[SmtpSender]) -> None:
            try:
                # At shutdown, the batch being sent is finished (and recorded) first.
                while not runtime.stopping.is_set():
                    wake.clear()  # before looking: an email queued while this one looks wakes the next look
                    if not await deliver_due(runtime, connections, settings):
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(wake.wait(), idle_s)
            finally:
                for smtp in connections:
                    await smtp.close()

        connections = [SmtpSender(settings) for _ in range(settings.send_workers)]
        shares = [connections[i::SENDERS] for i in range(min(SENDERS, len(connections)))]
        try:
            await listener.add_listener(store.MAIL_CHANNEL, on_notify)
            keep_session_state(listener)  # LISTEN is the session's: UNLISTEN on release
            try:
                await asyncio.gather(*(send(share) for share in shares))
            finally:
                # The pool resets a released connection (UNLISTEN) but keeps the callback
                # registered on it: the next user of the connection would wake these senders.
                await listener.remove_listener(store.MAIL_CHANNEL, on_notify)
        finally:
            await runtime.pool.release(listener)

    return run


async def deliver_due(runtime: ServiceRuntime, connections: Sequence[SmtpSender], settings: NotifySettings) -> int:
    """Deliver the next due emails, up to `settings.send_batch`, in one transaction; how many were taken (0: none due).

    The emails go out over `connections` at once (`_send`). Those the server
    accepted are written `sent`, with their `NotificationSent`, after the last
    reply and committed at once (the module's docstring says why that order);
    the failures are recorded in the same transaction. The emails a batch did
    not start (after a temporary failure, or once its window has passed) stay
    due for the next pass, their attempts uncounted.
    """
    async with runtime.pool.acquire() as conn, conn.transaction():
        taken = await store.take_due(conn, settings.send_batch)
        attempts = await _send(taken, connections, settings) if taken else []
        sent: list[store.Taken] = []
        events: list[outbox.OutboxRow] = []  # in the order taken
        for attempt in attempts:
            if attempt.decision is None:
                sent.append(attempt.row)
            else:
                await _record_failure(conn, attempt)
            if attempt.event is not None:
                events.append(attempt.event)
        if events:  # the sent emails, their events and those of the failures given up, in one statement
            await store.mark_sent(conn, [row.notification_id for row in sent], events, schema=runtime.schema)
    for row in sent:
        EMAILS.labels(row.kind.value, "sent").inc()
    if taken:
        runtime.wake_relay()
    return len(taken)


async def _send(
    taken: Sequence[store.Taken], connections: Sequence[SmtpSender], settings: NotifySettings
) -> list[_Attempt]:
    """Send `taken` over `connections` at once; what each email started gave, in the order taken.

    The emails to one recipient go one after the other on one connection, in
    the order taken: a collectivité never gets its receipts out of order. A
    connection takes the next recipient's emails when it is done with one
    recipient's. No email starts once one met a temporary failure (the server
    or the network is at fault) or once the batch has lasted
    `send_batch_window_ms`; the batch's first emails always start.
    """
    by_recipient: dict[str, list[store.Taken]] = {}
    for row in taken:
        by_recipient.setdefault(row.to.lower(), []).append(row)
    waiting = deque(by_recipient.values())
    deadline = time.monotonic() + settings.send_batch_window_ms / 1000
    policy = _policy(settings)
    done: dict[UUID, _Attempt] = {}
    stop = False

    async def lane(smtp: SmtpSender) -> None:
        nonlocal stop
        while waiting and not stop:
            for row in waiting.popleft():
                if stop:
                    break
                attempt = await _send_one(smtp, row, policy)
                done[row.notification_id] = attempt
                if not (attempt.outcome.sent or attempt.outcome.permanent):
                    stop = True  # the server or the connection is at fault
                if time.monotonic() >= deadline:
                    stop = True  # a slow server: the window of resends after a crash stays this short

    # A lane's error (a bug: `send` turns the server's and the network's into outcomes) cancels the
    # others and rolls the batch back: its emails are due again at once.
    async with asyncio.TaskGroup() as lanes:
        for smtp in connections[: len(by_recipient)]:
            lanes.create_task(lane(smtp))
    return [done[row.notification_id] for row in taken if row.notification_id in done]


async def _send_one(smtp: SmtpSender, row: store.Taken, policy: RetryPolicy) -> _Attempt:
    """One email over `smtp`, in its span; the decision and the event that follow, prepared in that span."""
    with _send_span(row) as span:
        sent = outbox.prepare(NotificationSent(**row.event_fields()))  # before sending: nothing may fail after the 250
        outcome = await smtp.send(row.to, row.message)
        if outcome.sent:
            return _Attempt(row, outcome, None, sent)
        span.set_attribute("palmares.smtp.error", outcome.error)
        log.warning("email not sent", extra={"notification_id": str(row.notification_id), "error": outcome.error})
        decision = after_failure(row.attempts, outcome, policy)
        failed = (
            outbox.prepare(NotificationFailed(**row.event_fields(), reason=decision.reason))
            if isinstance(decision, GiveUp)
            else None
        )
        return _Attempt(row, outcome, decision, failed)


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

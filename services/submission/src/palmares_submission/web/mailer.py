"""The emails of the espaces themselves: sign-in links and jury invitations (SMTP adapter).

These are sent by the submission service, not by notify: a sign-in link is a
credential for 15 minutes, and notify keeps every message it sends (and
would receive it through Kafka, which keeps records for days). Here the link
exists in clear only in this message, which is sent and forgotten.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import aiosmtplib
from jinja2 import Environment, PackageLoader, StrictUndefined
from palmares_contracts import utcnow

from palmares_submission.settings import SubmissionSettings

log = logging.getLogger(__name__)

_text = Environment(
    loader=PackageLoader("palmares_submission.web", "templates/emails"),
    autoescape=False,  # plain text: nothing is interpreted by a mail reader
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)
_html = Environment(
    loader=PackageLoader("palmares_submission.web", "templates/emails"),
    autoescape=True,
    undefined=StrictUndefined,
)


def message(*, sender: str, to: str, subject: str, template: str, **context: Any) -> EmailMessage:
    """A French email, text and HTML parts, from `templates/emails/<template>.{txt,html}.j2`."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(utcnow())
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(_text.get_template(f"{template}.txt.j2").render(**context))
    msg.add_alternative(_html.get_template(f"{template}.html.j2").render(**context), subtype="html")
    return msg


class Mailer:
    """Sends in the background: the page answers at once, and in the same time whatever the address."""

    def __init__(self, settings: SubmissionSettings) -> None:
        self._settings = settings
        self._tasks: set[asyncio.Task[None]] = set()

    async def send(self, msg: EmailMessage) -> None:
        s = self._settings
        await aiosmtplib.send(
            msg,
            hostname=s.smtp_host,
            port=s.smtp_port,
            start_tls=s.smtp_starttls,
            username=s.smtp_username,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            timeout=30,
        )

    def in_background(self, work: Coroutine[Any, Any, None], what: str) -> None:
        """Run `work` after the answer; a failure is logged (the address never is: logs are redacted)."""

        async def run() -> None:
            try:
                await work
            except Exception:
                log.exception("%s failed", what)

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for the emails under way (at shutdown)."""
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=10)

"""SMTP capture: a real SMTP server that stores every message as one ``.eml`` file.

Stands in for the mail relay in development and tests. Each accepted message
is written byte for byte as received (headers included, after SMTP dot
un-stuffing) to ``<mail_dir>/<UTC timestamp>-<uuid>.eml``, atomically (temp
file + rename): a reader never sees half a message, and names sort by arrival.

Fault injection, for the notify service's retry and dedup tests:

* **unknown users** — any recipient at ``unknown-user.example`` is refused
  with a permanent ``550 5.1.1`` at ``RCPT TO``.

* **refuse** — every new transaction gets a transient 4xx (421 by default,
  or 451) at ``MAIL FROM`` and again at end of ``DATA``; nothing is stored.
  With 421 the server also closes the connection, as RFC 5321 requires.
* **drop** — the message is stored, then the connection is cut before the
  ``250`` reply: the client cannot know it was delivered and will send it
  again (the RFC 1047 duplicate window).

Toggle in-process with :meth:`SmtpCapture.refuse` / :meth:`SmtpCapture.drop_after_data`
/ :meth:`SmtpCapture.clear_faults`, or, for any capture including the
standalone process, by creating files in the control directory (default: the
mail dir's parent, i.e. ``.run/`` for ``.run/mail``):

* ``smtp.refuse`` — refuse mode while it exists; its content may be the reply
  code (e.g. ``451``), default 421;
* ``smtp.drop`` — drop mode while it exists.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import time
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from .lifecycle import Server
from .ports import LOCALHOST

REFUSE_FILE = "smtp.refuse"
UNKNOWN_USER_DOMAIN = "unknown-user.example"  # every mailbox there is refused with 550
DROP_FILE = "smtp.drop"
DATA_SIZE_LIMIT = 32 * 1024 * 1024  # large HTML mails with inline images still fit
DEFAULT_REFUSE_CODE = 421
_REFUSE_TEXT = {
    421: "Service not available, closing transmission channel (palmares capture: refuse mode)",
    450: "Mailbox unavailable, try again later (palmares capture: refuse mode)",
    451: "Local error in processing, try again later (palmares capture: refuse mode)",
    452: "Insufficient system storage, try again later (palmares capture: refuse mode)",
}


def _accept_any_login(*_args: Any) -> AuthResult:
    # Lets services configured with SMTP credentials work against the capture too.
    return AuthResult(success=True)


def smtp_parameters(data_size_limit: int = DATA_SIZE_LIMIT) -> dict[str, Any]:
    """Keyword arguments for ``aiosmtpd.smtp.SMTP`` shared by both ways of running."""
    return {
        "data_size_limit": data_size_limit,
        "enable_SMTPUTF8": True,  # 8BITMIME is always advertised by aiosmtpd
        "decode_data": False,  # keep raw bytes: the .eml must be exactly what was sent
        # A fixed name avoids socket.getfqdn(), which can stall on DNS without network.
        "hostname": "smtp-capture.palmares.local",
        "ident": "Palmares SMTP capture",
        "authenticator": _accept_any_login,
        "auth_require_tls": False,
    }


def message_file_name() -> str:
    """``20261125T172301.123456Z-<uuid hex>.eml``: unique, sortable by arrival time."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"{stamp}-{uuid.uuid4().hex}.eml"


def write_message(mail_dir: Path, content: bytes) -> Path:
    """Write one message atomically and return its path.

    No fsync: the capture stands in for a remote relay; surviving a process
    kill (page cache) matters, surviving a power cut does not.
    """
    name = message_file_name()
    tmp = mail_dir / f".{name}.part"  # dot-prefixed and not *.eml: globbing readers skip it
    tmp.write_bytes(content)
    final = mail_dir / name
    os.replace(tmp, final)
    return final


class CaptureHandler:
    """aiosmtpd handler storing messages and applying the fault modes."""

    def __init__(self, mail_dir: Path, control_dir: Path | None = None) -> None:
        self.mail_dir = Path(mail_dir)
        self.control_dir = Path(control_dir) if control_dir else self.mail_dir.parent
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        # Set from another thread by SmtpCapture; plain attribute writes are atomic in CPython.
        self.refuse_code: int | None = None
        self.drop_after_data = False
        self.stored = 0

    # ---- fault state

    def current_refuse_code(self) -> int | None:
        """The 4xx/5xx code to refuse with, or None to accept."""
        if self.refuse_code is not None:
            return self.refuse_code
        try:
            text = (self.control_dir / REFUSE_FILE).read_text().strip()
        except FileNotFoundError:
            return None
        except OSError:
            return DEFAULT_REFUSE_CODE
        return int(text) if text.isdigit() and 400 <= int(text) < 600 else DEFAULT_REFUSE_CODE

    def dropping(self) -> bool:
        """True when stored messages must lose their 250 reply."""
        return self.drop_after_data or (self.control_dir / DROP_FILE).exists()

    @staticmethod
    def _refusal(server: SMTP, code: int) -> str:
        if code == 421 and server.transport is not None:
            # 421 means "closing the channel": close right after the reply is written
            # (push() writes synchronously before this callback can run).
            asyncio.get_running_loop().call_soon(server.transport.close)
        return f"{code} {_REFUSE_TEXT.get(code, 'Refused (palmares capture: refuse mode)')}"

    # ---- aiosmtpd hooks

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        code = self.current_refuse_code()
        if code is not None:
            return self._refusal(server, code)
        # Returning a status makes aiosmtpd skip its default bookkeeping: do it here.
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        # A permanent refusal for any address at the reserved domain, as a real
        # relay answers for a mailbox that does not exist.
        if address.lower().endswith("@" + UNKNOWN_USER_DOMAIN):
            return f"550 5.1.1 <{address}>: unknown user (palmares capture: {UNKNOWN_USER_DOMAIN})"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        code = self.current_refuse_code()
        if code is not None:  # switched on mid-transaction: refuse, store nothing
            return self._refusal(server, code)
        content = envelope.original_content or b""
        path = write_message(self.mail_dir, content)
        self.stored += 1
        if self.dropping() and isinstance(server.transport, asyncio.WriteTransport):
            # Stored, but the client never hears "250": it must retry -> duplicate.
            server.transport.abort()
            return f"250 Stored as {path.name} (connection dropped before this reply)"
        return f"250 Stored as {path.name}"


class _PortZeroController(Controller):
    """aiosmtpd Controller that binds port 0 and learns the port the kernel chose.

    The stock Controller needs a port up front; picking one in advance races
    with other processes. Relies on ``_factory_invoker`` (aiosmtpd 1.4.6, pinned).
    """

    def _create_server(self) -> Any:
        async def create() -> asyncio.AbstractServer:
            server = await self.loop.create_server(
                self._factory_invoker, host=self.hostname, port=self.port, ssl=self.ssl_context
            )
            self.port = int(server.sockets[0].getsockname()[1])
            return server

        return create()


class SmtpCapture(Server):
    """In-process SMTP capture (aiosmtpd ``Controller`` in a thread).

    >>> capture = SmtpCapture(tmp / "mail").start()
    >>> capture.host, capture.port        # ('127.0.0.1', 40127)
    >>> capture.refuse(451); capture.clear_faults()
    >>> capture.wait_for_messages(2)       # [Path(...eml), Path(...eml)]
    >>> capture.stop()
    """

    def __init__(
        self,
        mail_dir: Path,
        *,
        host: str = LOCALHOST,
        port: int = 0,
        control_dir: Path | None = None,
        data_size_limit: int = DATA_SIZE_LIMIT,
    ) -> None:
        self.handler = CaptureHandler(Path(mail_dir), control_dir)
        self.host = host
        self._requested_port = port
        self._data_size_limit = data_size_limit
        self._controller: _PortZeroController | None = None

    @property
    def mail_dir(self) -> Path:
        return self.handler.mail_dir

    @property
    def port(self) -> int:
        if self._controller is None:
            raise RuntimeError("SMTP capture not started")
        return int(self._controller.port)

    def start(self) -> SmtpCapture:
        """Start listening; returns self so ``SmtpCapture(d).start()`` reads naturally."""
        if self._controller is not None:
            return self
        params = smtp_parameters(self._data_size_limit)
        controller = _PortZeroController(
            self.handler,
            hostname=self.host,  # Controller's "hostname" is the bind address...
            port=self._requested_port,
            server_hostname=params.pop("hostname"),  # ...and this one the SMTP greeting name
            **params,
        )
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        """Stop listening and join the server thread."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    # ---- fault injection

    def refuse(self, code: int = DEFAULT_REFUSE_CODE) -> None:
        """Refuse every new transaction with ``code`` (421, 451, ...) until cleared."""
        if not 400 <= code < 600:
            raise ValueError("refuse code must be 4xx or 5xx")
        self.handler.refuse_code = code

    def drop_after_data(self, enabled: bool = True) -> None:
        """Store messages but cut the connection before the 250 reply."""
        self.handler.drop_after_data = enabled

    def clear_faults(self) -> None:
        """Back to normal acceptance (control files, if any, still apply)."""
        self.handler.refuse_code = None
        self.handler.drop_after_data = False

    # ---- reading what was captured

    def messages(self) -> list[Path]:
        """Paths of the stored messages, oldest first."""
        return list_messages(self.mail_dir)

    def wait_for_messages(self, count: int, timeout: float = 10.0) -> list[Path]:
        """Wait until at least ``count`` messages are stored; return them all."""
        return wait_for_messages(self.mail_dir, count, timeout)

    def clear_messages(self) -> int:
        """Delete the stored messages (tests sharing the session capture); return how many."""
        found = self.messages()
        for path in found:
            path.unlink(missing_ok=True)
        return len(found)


def list_messages(mail_dir: Path) -> list[Path]:
    """Stored ``.eml`` files in ``mail_dir``, oldest first (names sort by arrival)."""
    return sorted(Path(mail_dir).glob("*.eml"))


def wait_for_messages(mail_dir: Path, count: int, timeout: float = 10.0) -> list[Path]:
    """Poll ``mail_dir`` until it holds at least ``count`` messages; TimeoutError otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        found = list_messages(mail_dir)
        if len(found) >= count or time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    if len(found) < count:
        raise TimeoutError(f"{len(found)} message(s) in {mail_dir} after {timeout}s, wanted {count}")
    return found


def read_message(path: Path) -> EmailMessage:
    """Parse a stored ``.eml`` with the modern email policy (headers decoded)."""
    message = email.message_from_bytes(Path(path).read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message

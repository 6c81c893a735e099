"""Standalone SMTP capture process.

    python -m palmares_stack.smtp_capture --mail-dir .run/mail --port 0 --port-file .run/smtp.port

With ``--port 0`` the kernel picks a free port; it is printed and, with
``--port-file``, written to that file (atomically) once the server listens, so
a launcher can wait for the file. Fault injection works through the control
files described in :mod:`palmares_stack.smtp` (``<control-dir>/smtp.refuse``,
``<control-dir>/smtp.drop``; control dir defaults to the mail dir's parent).
SIGTERM or SIGINT stops it cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path

from aiosmtpd.smtp import SMTP

from .ports import LOCALHOST
from .smtp import DATA_SIZE_LIMIT, CaptureHandler, smtp_parameters


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m palmares_stack.smtp_capture",
        description="SMTP server writing every received message to <mail-dir>/*.eml",
    )
    parser.add_argument("--mail-dir", type=Path, required=True)
    parser.add_argument("--host", default=LOCALHOST)
    parser.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    parser.add_argument("--port-file", type=Path, help="write the chosen port here when ready")
    parser.add_argument("--control-dir", type=Path, help="where smtp.refuse / smtp.drop are looked for")
    parser.add_argument("--data-size-limit", type=int, default=DATA_SIZE_LIMIT)
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    """Listen until SIGTERM/SIGINT."""
    handler = CaptureHandler(args.mail_dir, args.control_dir)
    params = smtp_parameters(args.data_size_limit)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, **params), args.host, args.port)
    port = int(server.sockets[0].getsockname()[1])
    if args.port_file:
        tmp = args.port_file.with_name(args.port_file.name + ".tmp")
        tmp.write_text(f"{port}\n")
        tmp.replace(args.port_file)  # readers see no file or the whole number
    print(f"SMTP capture listening on {args.host}:{port}, writing to {args.mail_dir}", flush=True)

    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await stopping.wait()
    server.close()
    # Bounded: from Python 3.12 wait_closed() also waits for idle client connections.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(server.wait_closed(), timeout=2.0)
    print(f"SMTP capture stopped after storing {handler.stored} message(s)", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m palmares_stack.smtp_capture``."""
    asyncio.run(serve(_parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

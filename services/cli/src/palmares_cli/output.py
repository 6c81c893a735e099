"""Printing: results on stdout (human or `--json`), progress and errors on stderr.

Keeping stdout for results only means `palmares … --json | jq` works even
while a progress bar is drawn.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from palmares_cli.errors import ApiError, CliError

# When stdout is not a terminal (a pipe, a CI log) rich would assume 80 columns
# and squeeze the tables; logs have room, so give them some.
_NOT_A_TERMINAL_WIDTH = 160
stdout = Console(highlight=False)
if not stdout.is_terminal and "COLUMNS" not in os.environ:
    stdout = Console(highlight=False, width=_NOT_A_TERMINAL_WIDTH)
stderr = Console(stderr=True, soft_wrap=True, highlight=False)


def to_json(value: Any) -> str:
    """Stable, readable JSON (UTF-8 kept: the API's French text stays legible)."""
    return json.dumps(value, ensure_ascii=False, indent=2, default=str)


def emit_json(value: Any) -> None:
    # print() rather than rich: no markup interpretation, no wrapping of JSON.
    print(to_json(value), flush=True)


def print_lines(lines: Iterable[str]) -> None:
    """Human lines on stdout, printed as they are (a `[` in an API's text is not rich markup)."""
    for line in lines:
        stdout.print(escape(line))


def progress_bar(*, transient: bool, enabled: bool = True) -> Progress:
    """A progress bar on stderr: the task's description, the bar, done of total, time elapsed."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr,
        transient=transient,
        disable=not enabled,
    )


def error_payload(exc: CliError) -> dict[str, Any]:
    """The machine form of a failure, printed on stdout with `--json`."""
    payload: dict[str, Any] = {"error": {"message": exc.message, "exit_code": exc.exit_code}}
    if isinstance(exc, ApiError):
        payload["error"].update(
            status=exc.status,
            method=exc.method,
            path=exc.path,
            details=[{"field": d.field, "message": d.message} for d in exc.details],
        )
    return payload


def error_lines(exc: CliError) -> list[str]:
    """The human form of a failure; the API's French messages are kept verbatim."""
    if isinstance(exc, ApiError):
        where = f" ({exc.method} {exc.path})" if exc.method else ""
        # The API repeats its sentence as the detail when one field is at fault: name the field once.
        same = [d for d in exc.details if d.message == exc.message and d.field]
        field = f" [{same[0].field}]" if len(same) == 1 and len(exc.details) == 1 else ""
        lines = [f"error: the API answered {exc.status}{where}: {exc.message}{field}"]
        if not field:
            lines += [f"  - {d.field}: {d.message}" if d.field else f"  - {d.message}" for d in exc.details]
        return lines
    return [f"error: {exc.message}"]


def report_error(exc: CliError, *, as_json: bool) -> None:
    if as_json:
        emit_json(error_payload(exc))
    for line in error_lines(exc):
        stderr.print(escape(line), style="red")


def info(message: str) -> None:
    """A progress note for the operator (stderr, so it never pollutes `--json`)."""
    stderr.print(message)

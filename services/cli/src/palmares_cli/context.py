"""What every command shares: the resolved settings, `--json`, and the error-to-exit-code boundary.

Commands receive the typer context explicitly (`ctx: typer.Context`): typer
vendors its own click, so there is no global click context to look up.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, ParamSpec, TypeVar

import typer

from palmares_cli.api import ApiClient
from palmares_cli.config import Settings
from palmares_cli.errors import CliError
from palmares_cli.output import emit_json, report_error

P = ParamSpec("P")
R = TypeVar("R")

JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output (JSON on stdout).")]
EditionArgument = Annotated[int, typer.Argument(help="Edition, e.g. 2017.")]
CodeArgument = Annotated[str, typer.Argument(help="INSEE code of the commune or SIREN of the EPCI.")]


@dataclass
class State:
    """Set by the root callback, read by the commands (`ctx.obj`)."""

    settings: Settings
    json: bool = False

    def api(self, *, operator: bool = True) -> ApiClient:
        """A client of the API; `operator` requires the operator token (public reads do not)."""
        token = self.settings.require_token() if operator else self.settings.token
        return ApiClient(self.settings.require_api_url(), token)


def state(ctx: typer.Context) -> State:
    found = ctx.find_object(State)
    if found is None:  # only when a command is invoked without the root app
        raise RuntimeError("palmares: the root callback did not run")
    return found


def wants_json(ctx: Any, flag: bool) -> bool:
    """`--json` given on the command or before it (`palmares --json …`)."""
    found = ctx.find_object(State) if ctx is not None else None
    return flag or bool(found and found.json)


def emit(ctx: typer.Context, json_out: bool, value: Any, human: Callable[[], None]) -> None:
    """A command's result: `value` as JSON with `--json`, else what `human` prints."""
    if wants_json(ctx, json_out):
        emit_json(value)
    else:
        human()


def command(fn: Callable[P, R]) -> Callable[P, R]:
    """Run a command body; a `CliError` becomes its message and exit code, never a traceback."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except CliError as exc:
            # typer passes parameters by name; its context is a vendored click class, so look it up by name too.
            ctx = kwargs.get("ctx")
            report_error(
                exc, as_json=wants_json(ctx if hasattr(ctx, "find_object") else None, bool(kwargs.get("json_out")))
            )
            raise typer.Exit(exc.exit_code) from None

    return run

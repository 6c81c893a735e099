"""The `palmares` command line: the root options and the command tree.

Configuration is resolved once, in the root callback, before any command runs
(see `config`): options > environment > `.run/stack.env`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from palmares_cli import cmd_api, cmd_calibration, cmd_demo, cmd_dlq, cmd_ops, cmd_public, cmd_trace, progress
from palmares_cli.config import resolve
from palmares_cli.context import State
from palmares_cli.errors import CliError
from palmares_cli.output import report_error

app = typer.Typer(
    name="palmares",
    help=(
        "Operator command line of Palmarès (label Territoires, Villes et Villages Internet). "
        "Exit codes: 0 ok, 1 operation failed, 2 usage error, 3 API, Kafka or Jaeger unreachable."
    ),
    no_args_is_help=True,
    # `palmares --install-completion` (bash, zsh, fish, PowerShell); shellingham detects the shell.
    add_completion=True,
    # Never print local variables in a traceback: they may hold tokens.
    pretty_exceptions_show_locals=False,
)


@app.callback()
def root(
    ctx: typer.Context,
    api_url: Annotated[str | None, typer.Option(help="Submission API base URL \\[env: API_URL].")] = None,
    token: Annotated[str | None, typer.Option(help="Operator token \\[env: OPERATOR_TOKEN].")] = None,
    kafka: Annotated[
        str | None, typer.Option(help="Kafka bootstrap servers, for `dlq` \\[env: KAFKA_BOOTSTRAP_SERVERS].")
    ] = None,
    trace_dir: Annotated[
        Path | None,
        typer.Option(help="Span files directory, for `trace` \\[env: PALMARES_TRACE_DIR].", file_okay=False),
    ] = None,
    env_file: Annotated[
        Path | None,
        typer.Option(
            help="KEY=VALUE file filling in unset variables \\[default: .run/stack.env if it exists].", dir_okay=False
        ),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output for every command.")] = False,
) -> None:
    """Resolve the configuration shared by every command."""
    try:
        settings = resolve(
            api_url=api_url, token=token, kafka=kafka, trace_dir=trace_dir, env_file=env_file, environ=os.environ
        )
    except CliError as exc:
        report_error(exc, as_json=json_out)
        raise typer.Exit(exc.exit_code) from None
    ctx.obj = State(settings=settings, json=json_out)


cmd_api.grille_app.command("diff")(cmd_ops.grille_diff)
cmd_api.grille_app.command("calibrer")(cmd_calibration.grille_calibrer)
cmd_api.grille_app.command("tendances")(cmd_public.grille_tendances)
app.add_typer(cmd_api.grille_app, name="grille")
app.command("register")(cmd_api.register)
app.add_typer(cmd_ops.collectivite_app, name="collectivite")
app.command("submit")(cmd_api.submit)
app.command("status")(cmd_api.status)
app.add_typer(cmd_api.jury_app, name="jury")
app.command("sign-in-link")(cmd_api.sign_in_link)
app.add_typer(cmd_api.palmares_app, name="palmares")
app.command("progress")(progress.progress)
app.add_typer(cmd_dlq.dlq_app, name="dlq")
app.command("trace")(cmd_trace.trace)
app.command("demo")(cmd_demo.demo)
app.command("observatoire")(cmd_public.observatoire)


def main() -> None:
    """`python -m palmares_cli`."""
    app(prog_name="palmares")

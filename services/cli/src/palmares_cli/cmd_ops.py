"""`palmares grille diff A B` and `palmares collectivite revoke|category|reopen …`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from palmares_contracts import Category, GrilleBody
from pydantic import ValidationError
from rich.markup import escape
from rich.table import Table

from palmares_cli import output
from palmares_cli.api import ApiClient
from palmares_cli.context import CodeArgument, EditionArgument, JsonOption, command, emit, state, wants_json
from palmares_cli.errors import ApiError, OperationFailed, UsageProblem
from palmares_cli.files import load_grille
from palmares_cli.grille_changelog import compare, diff, entry_json, other_differences

collectivite_app = typer.Typer(
    help="Manage registered collectivités (their API tokens, their category for an edition, reopening their dossier).",
    no_args_is_help=True,
)

# `2018`, `2018@2`, `2018@current`: a grille served by the API.
_API_GRILLE = re.compile(r"^(?P<edition>\d{4})(?:@(?P<version>\d+|current))?$")


@dataclass(frozen=True, slots=True)
class GrilleSource:
    """Where one side of a diff comes from, and the grille read there."""

    label: str
    edition: int
    version: int | None
    grille: GrilleBody

    def as_json(self) -> dict[str, Any]:
        return {"source": self.label, "edition": self.edition, "version": self.version}


def parse_operand(text: str) -> tuple[int, int | None] | None:
    """`EDITION[@VERSION|@current]` as (edition, version or None for the current); None for a file path."""
    match = _API_GRILLE.match(text)
    if match is None:
        return None
    version = match["version"]
    return int(match["edition"]), None if version in (None, "current") else int(version)


def _from_api(api: ApiClient, text: str, edition: int, version: int | None) -> GrilleSource:
    try:
        served = api.grille(edition)
    except ApiError as exc:
        if exc.status == 404:
            raise OperationFailed(f"{text}: no grille published for edition {edition} ({exc.message})") from None
        raise
    current = served.get("version")
    if version is not None and version != current:
        # The API serves the current version only (GET /v1/editions/{edition}/grille).
        raise OperationFailed(
            f"{text}: the API serves only the current grille of {edition} (version {current}); "
            f"compare version {version} from its file instead"
        )
    try:
        grille = GrilleBody.model_validate(served)
    except ValidationError as exc:
        raise OperationFailed(f"{text}: the API's grille does not validate: {exc.error_count()} error(s)") from None
    return GrilleSource(f"API {edition}@{current}", edition, current if isinstance(current, int) else None, grille)


def _resolve(ctx: typer.Context, text: str, api: list[ApiClient]) -> GrilleSource:
    path = Path(text)
    parsed = None if path.exists() else parse_operand(text)
    if parsed is None:
        if not path.is_file():
            raise UsageProblem(f"{text}: neither a grille file nor EDITION@VERSION (e.g. 2018@2, 2018@current)")
        _, grille = load_grille(path)
        return GrilleSource(str(path), grille.edition, None, grille)
    if not api:  # one client for both operands; public read, no token needed
        api.append(state(ctx).api(operator=False))
    return _from_api(api[0], text, *parsed)


@command
def grille_diff(
    ctx: typer.Context,
    old: Annotated[str, typer.Argument(help="Previous grille: a JSON file, or EDITION@VERSION from the API.")],
    new: Annotated[str, typer.Argument(help="New grille: a JSON file, or EDITION@VERSION from the API.")],
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 when NEW's declared changelog differs from the computed diff.")
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """The changes of NEW's services against OLD's (the changelog a grille version must declare).

    Operands are files (`deploy/grilles/grille-2018.json`) or grilles served by
    the API: `2018@current` or `2018` (the current version), `2018@2` (accepted
    only if it is the current version: the API serves no older one).
    """
    clients: list[ApiClient] = []
    try:
        before = _resolve(ctx, old, clients)
        after = _resolve(ctx, new, clients)
    finally:
        for client in clients:
            client.close()
    computed = diff(before.grille, after.grille)
    notes = other_differences(before.grille, after.grille)
    problems = compare(after.grille.changelog, computed)
    if wants_json(ctx, json_out):
        output.emit_json(
            {
                "old": before.as_json(),
                "new": after.as_json(),
                "changes": [entry_json(e) for e in computed],
                "notes": notes,
                "declared_changelog_problems": problems,
            }
        )
    else:
        output.stdout.print(escape(f"{before.label} → {after.label}: {len(computed)} change(s)"))
        if computed:
            table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
            for column in ("change", "service", "detail"):
                table.add_column(column, overflow="fold")
            for entry in computed:
                subject = entry.service_code or (
                    f"thresholds of {entry.category.value}" if entry.category else "thresholds"
                )
                table.add_row(entry.change.value, escape(subject), escape(entry.detail))
            output.stdout.print(table)
        for note in notes:
            output.stdout.print(escape(f"note (outside the changelog): {note}"))
        if problems:
            output.info(f"{after.label}: its declared changelog differs from the computed diff:")
            for problem in problems:
                output.info(escape(f"  - {problem}"))
        elif after.grille.changelog or computed:
            output.info(f"{after.label}: its declared changelog matches the computed diff.")
    if check and problems:
        raise typer.Exit(1)


@collectivite_app.command("revoke")
@command
def collectivite_revoke(
    ctx: typer.Context,
    code: CodeArgument,
    json_out: JsonOption = False,
) -> None:
    """Revoke a collectivité's API token (a leak): it gets 401 until `register CODE EMAIL --rotate`."""
    with state(ctx).api() as api:
        api.revoke_token(code)
    revoked = f"Token of {code} revoked; `palmares register {code} EMAIL --rotate` issues a new one."
    emit(ctx, json_out, {"code": code, "revoked": True}, lambda: output.stdout.print(escape(revoked)))


@collectivite_app.command("category")
@command
def collectivite_category(
    ctx: typer.Context,
    code: CodeArgument,
    edition: EditionArgument,
    set_to: Annotated[
        Category | None, typer.Option("--set", help="Override the category for this edition (needs --reason, --by).")
    ] = None,
    reason: Annotated[str | None, typer.Option(help="Why, in French (kept in the audit trail).")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who decides.")] = None,
    json_out: JsonOption = False,
) -> None:
    """Show a collectivité's category for an edition (population then, decisions), or override it with a reason."""
    if set_to is not None and not (reason and by):
        raise UsageProblem("--set needs --reason and --by: every change of category is explained and signed")
    with state(ctx).api() as api:
        view = (
            api.set_category(edition, code, category=set_to.value, reason=reason or "", decided_by=by or "")
            if set_to is not None
            else api.category(edition, code)
        )
    if wants_json(ctx, json_out):
        output.emit_json(view)
        return
    millesime = view.get("millesime")
    lines = [
        f"{view.get('code')} in {view.get('edition')}: {view.get('category')}",
        f"  population     {view.get('population')} "
        + (f"(reference data of {millesime})" if millesime else "(as registered: unknown to that edition's data)"),
        f"  from population {view.get('category_from_population')}",
    ]
    for i, decision in enumerate(view.get("history") or []):
        head = "  decisions      " if i == 0 else "                 "
        lines.append(
            f"{head}{decision.get('category')} by {decision.get('decided_by')} at {decision.get('decided_at')}: "
            f"{decision.get('reason')}"
        )
    if view.get("revision"):
        lines.append(f"  dossier        revision {view['revision']} made with the new category (re-evaluated)")
    output.print_lines(lines)


@collectivite_app.command("reopen")
@command
def collectivite_reopen(
    ctx: typer.Context,
    code: CodeArgument,
    edition: EditionArgument,
    until: Annotated[
        datetime | None,
        typer.Option(
            help="Until when (ISO 8601 with its offset, e.g. 2017-12-15T18:00:00+01:00); default: until the palmarès.",
            formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"],
        ),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Reopen a collectivité's dossier after the campaign closed: it may deposit or revise it again."""
    if until is not None and until.tzinfo is None:
        raise UsageProblem("--until needs its offset (e.g. +01:00): it is an instant")
    with state(ctx).api() as api:
        view = api.reopen(edition, code, until.isoformat() if until else None)
    term = f"until {view.get('until')}" if view.get("until") else "until the palmarès is published"
    emit(
        ctx,
        json_out,
        view,
        lambda: output.stdout.print(escape(f"Dossier of {code} for {edition} reopened {term}.")),
    )

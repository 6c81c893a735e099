"""Commands that are one or two API calls: grille, register, submit, status, jury, palmarès."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from palmares_cli import output
from palmares_cli import progress as work
from palmares_cli.context import CodeArgument, EditionArgument, JsonOption, command, emit, state, wants_json
from palmares_cli.errors import ApiError, UsageProblem
from palmares_cli.files import load_grille, read_object
from palmares_cli.views import grille_lines, palmares_tables, status_lines
from palmares_cli.waiting import check_target, wait_for

grille_app = typer.Typer(help="Publish and read an edition's grille.", no_args_is_help=True)
jury_app = typer.Typer(help="The jury: its members (invite, list, revoke) and its decisions.", no_args_is_help=True)
palmares_app = typer.Typer(help="Publish and read an edition's palmarès.", no_args_is_help=True)

ExistingFile = typer.Argument(exists=True, dir_okay=False, readable=True, help="JSON file.")


# --- grille ----------------------------------------------------------------------------------


@grille_app.command("publish")
@command
def grille_publish(
    ctx: typer.Context,
    file: Annotated[Path, ExistingFile],
    edition: Annotated[int | None, typer.Option(help="Edition (default: the file's `edition`).")] = None,
    wait: work.WaitOption = False,
    timeout: work.TimeoutOption = 0,
    interval: work.IntervalOption = 5.0,
    json_out: JsonOption = False,
) -> None:
    """Publish FILE as the next version of the edition's grille (PUT /v1/editions/{edition}/grille).

    Scoring and mentions then re-evaluate every dossier of the edition: `--wait`
    follows them until they are done (`palmares progress EDITION` at any time).
    """
    data, grille = load_grille(file)
    with state(ctx).api() as api:
        published = api.publish_grille(edition or grille.edition, data)
        summary: dict[str, Any] = {
            "edition": published.get("edition"),
            "version": published.get("version"),
            "title": published.get("title"),
            "services": len(published.get("services") or []),
        }
        done = f"Published grille {summary['edition']} version {summary['version']} ({summary['services']} services)."
        if wait:
            output.info(done + " Re-evaluating every dossier…")
            version = summary["version"]
            summary["progress"] = work.follow(
                lambda: api.progress(summary["edition"]),
                work.EVALUATION,
                grille_version=version if isinstance(version, int) else None,
                timeout_s=timeout,
                interval_s=interval,
            )

    work.emit_followed(ctx, json_out, summary, done)


@grille_app.command("show")
@command
def grille_show(ctx: typer.Context, edition: EditionArgument, json_out: JsonOption = False) -> None:
    """Show the current grille of an edition (public)."""
    with state(ctx).api(operator=False) as api:
        grille = api.grille(edition)
    emit(ctx, json_out, grille, lambda: output.print_lines(grille_lines(grille)))


# --- collectivités and dossiers ------------------------------------------------------------------


@command
def register(
    ctx: typer.Context,
    code: CodeArgument,
    email: Annotated[str, typer.Argument(help="Contact email of the collectivité.")],
    rotate: Annotated[
        bool, typer.Option("--rotate", help="If already registered, issue a new token (the old one stops working).")
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """Register a collectivité and print its API token (shown once)."""
    with state(ctx).api() as api:
        try:
            result: dict[str, Any] = api.register(code, email)
            result["rotated"] = False
        except ApiError as exc:
            if exc.status != 409:
                raise
            if not rotate:
                output.info(
                    f"hint: {code} is already registered; `palmares register {code} {email} --rotate` issues a new token"
                )
                raise
            result = api.rotate_token(code)
            result["rotated"] = True
    if wants_json(ctx, json_out):
        output.emit_json(result)
        return
    verb = "New token for" if result["rotated"] else "Registered"
    output.stdout.print(
        escape(
            f"{verb} {result.get('code')} {result.get('name')} ({result.get('category')}, {result.get('kind')}, "
            f"population {result.get('population')})."
        )
    )
    output.stdout.print(f"Token (shown once, store it now): {result.get('token')}")


@command
def submit(
    ctx: typer.Context,
    file: Annotated[Path, ExistingFile],
    token: Annotated[
        str, typer.Option("--token", envvar="COLLECTIVITE_TOKEN", help="The collectivité's token (from `register`).")
    ],
    edition: Annotated[int | None, typer.Option(help="Edition (default: the file's `edition` field).")] = None,
    idempotency_key: Annotated[
        str | None, typer.Option(help="Makes a retry safe: the same key and content return the same submission.")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Submit a dossier: FILE is {"actions": [...], "narrative": ..., "contact_email"?}."""
    body = read_object(file, "dossier")
    # An `edition` field is accepted in the file for convenience; the API does not want it in the body.
    file_edition = body.pop("edition", None)
    chosen = edition if edition is not None else file_edition
    if not isinstance(chosen, int):
        raise UsageProblem('which edition? pass --edition N (or put "edition": N in the file)')
    with state(ctx).api(operator=False) as api:
        accepted = api.submit(chosen, body, token=token, idempotency_key=idempotency_key)
    if wants_json(ctx, json_out):
        output.emit_json(accepted)
        return
    replay = " (same key and content: the earlier submission)" if accepted.get("idempotent_replay") else ""
    output.stdout.print(f"Submitted: {accepted['submission_id']} revision {accepted['revision']}{replay}")
    output.stdout.print(f"Follow it with: palmares status {accepted['submission_id']}")


@command
def status(
    ctx: typer.Context,
    submission_id: Annotated[str, typer.Argument(help="The submission id returned by `submit`.")],
    wait_for_status: Annotated[
        str | None,
        typer.Option("--wait-for", metavar="received|evaluated|notified", help="Wait until the dossier gets that far."),
    ] = None,
    timeout: Annotated[float, typer.Option(min=0, help="Seconds to wait with --wait-for.")] = 60.0,
    json_out: JsonOption = False,
) -> None:
    """Show a dossier's status and results (operator token: every dossier is readable)."""
    with state(ctx).api() as api:
        if wait_for_status:
            target = check_target(wait_for_status)
            with output.stderr.status(f"waiting for {submission_id} to be {target}…"):
                view = wait_for(api.submission, {submission_id: submission_id}, target, timeout_s=timeout)[
                    submission_id
                ]
        else:
            view = api.submission(submission_id)
    emit(ctx, json_out, view, lambda: output.print_lines(status_lines(view)))


# --- jury ----------------------------------------------------------------------------------------


@jury_app.command("decide")
@command
def jury_decide(
    ctx: typer.Context,
    submission_id: Annotated[str, typer.Argument(help="The dossier's submission id.")],
    arobases: Annotated[int, typer.Option(min=1, max=5, help="The jury's arobases (1–5).")],
    by: Annotated[str, typer.Option("--by", help="Who decided (recorded with the decision).")],
    comment: Annotated[str, typer.Option(help="The jury's comment (French: it goes to the collectivité).")] = "",
    mention: Annotated[
        list[str] | None,
        typer.Option(
            "--mention",
            help="A mention the jury grants (its code; repeat for several): the detected ones left out are removed.",
        ),
    ] = None,
    no_mentions: Annotated[bool, typer.Option("--no-mentions", help="The jury grants no mention at all.")] = False,
    json_out: JsonOption = False,
) -> None:
    """Record the jury's decision on a dossier: arobases, comment and, optionally, the mentions it grants."""
    if mention and no_mentions:
        raise UsageProblem("--mention and --no-mentions exclude each other")
    mentions = [] if no_mentions else (mention or None)
    with state(ctx).api() as api:
        decision = api.jury_decide(submission_id, arobases=arobases, comment=comment, decided_by=by, mentions=mentions)
    recorded = f"Jury decision recorded: {arobases} @ for {submission_id} by {by}."
    if mentions is not None:
        recorded += f" Mentions granted: {', '.join(mentions) or 'none'}."
    emit(ctx, json_out, decision, lambda: output.stdout.print(escape(recorded)))


@jury_app.command("invite")
@command
def jury_invite(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="The jury member's address (they sign in to the espace jury with it).")],
    name: Annotated[str, typer.Argument(help="Their name, as shown with their decisions.")],
    json_out: JsonOption = False,
) -> None:
    """Invite a jury member: an invitation email, and an API token shown once (inviting again issues a new one)."""
    with state(ctx).api() as api:
        member = api.invite_jury_member(email, name)
    if wants_json(ctx, json_out):
        output.emit_json(member)
    else:
        output.stdout.print(escape(f"Jury member {member['name']} invited (id {member['member_id']})."))
        output.stdout.print(escape(f"API token (shown once): {member['token']}"))


@jury_app.command("members")
@command
def jury_members(ctx: typer.Context, json_out: JsonOption = False) -> None:
    """The jury members, revoked ones included."""
    with state(ctx).api() as api:
        members = api.jury_members()
    if wants_json(ctx, json_out):
        output.emit_json(members)
        return
    for m in members:
        revoked = f" (revoked {m['revoked_at']})" if m.get("revoked_at") else ""
        output.stdout.print(escape(f"{m['member_id']}  {m['name']}  {m['email']}{revoked}"))


@jury_app.command("revoke")
@command
def jury_revoke(
    ctx: typer.Context,
    member_id: Annotated[str, typer.Argument(help="The member's id (`palmares jury members`).")],
    json_out: JsonOption = False,
) -> None:
    """Revoke a jury member: their token and sessions stop at once."""
    with state(ctx).api() as api:
        api.revoke_jury_member(member_id)
    if wants_json(ctx, json_out):
        output.emit_json({"member_id": member_id, "revoked": True})
    else:
        output.stdout.print(escape(f"Jury member {member_id} revoked."))


@command
def sign_in_link(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="A collectivité's contact address or a jury member's.")],
    json_out: JsonOption = False,
) -> None:
    """A single-use link that opens the espaces for that address (valid 15 minutes)."""
    with state(ctx).api() as api:
        link = api.sign_in_link(email)
    if wants_json(ctx, json_out):
        output.emit_json(link)
    else:
        output.stdout.print(escape(f"{link['url']}  (single use, until {link['expires_at']})"))


# --- palmarès ------------------------------------------------------------------------------------


def ceremony_of(place: str | None, when: str | None) -> dict[str, str] | None:
    """`--place` and `--date` go together (the API's ceremony has both)."""
    if place is None and when is None:
        return None
    if place is None or when is None:
        raise UsageProblem("give both --place and --date for the ceremony, or neither")
    try:
        day = date.fromisoformat(when)
    except ValueError:
        raise UsageProblem(f"--date {when!r}: expected YYYY-MM-DD") from None
    return {"place": place, "date": day.isoformat()}


@palmares_app.command("publish")
@command
def palmares_publish(
    ctx: typer.Context,
    edition: EditionArgument,
    place: Annotated[str | None, typer.Option(help="Ceremony place, e.g. Lille.")] = None,
    when: Annotated[str | None, typer.Option("--date", help="Ceremony date, YYYY-MM-DD.")] = None,
    wait: work.WaitOption = False,
    timeout: work.TimeoutOption = 0,
    interval: work.IntervalOption = 5.0,
    json_out: JsonOption = False,
) -> None:
    """Publish the palmarès: the campaign closes and the award emails follow (`--wait` follows them)."""
    ceremony = ceremony_of(place, when)
    with state(ctx).api() as api:
        published = api.publish_palmares(edition, ceremony)
        done = f"Palmarès {edition} published at {published.get('published_at')}; award emails follow."
        if published.get("catalogue_built") is False:
            done += " The catalogue of actions and the observatoire are still being built; they appear when done."
        if wait:
            output.info(done)
            published["progress"] = work.follow(
                lambda: api.progress(edition), work.AWARDS, timeout_s=timeout, interval_s=interval
            )

    work.emit_followed(ctx, json_out, published, done)


@palmares_app.command("show")
@command
def palmares_show(ctx: typer.Context, edition: EditionArgument, json_out: JsonOption = False) -> None:
    """Show a published palmarès (public)."""
    with state(ctx).api(operator=False) as api:
        palmares = api.palmares(edition)

    def human() -> None:
        heading, tables = palmares_tables(palmares)
        output.stdout.print(escape(heading))
        for table in tables:
            output.stdout.print(table)

    emit(ctx, json_out, palmares, human)

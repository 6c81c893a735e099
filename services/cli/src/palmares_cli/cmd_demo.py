"""`palmares demo`: load the demo campaign into a running stack, safely re-runnable.

Steps: check the palmarès is not published yet; publish the grille unless the
same content is already current; register each collectivité (rotating its
token when it already is); submit its dossier with an idempotency key; wait
until every dossier is evaluated; record the article's arobases as jury
decisions (unless `--no-jury-from-article`); publish the palmarès; wait until
every award email left. The closing table shows the pré-notation and the
jury's arobases side by side.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from palmares_contracts import GrilleBody
from rich.markup import escape

from palmares_cli import output
from palmares_cli.api import ApiClient
from palmares_cli.cmd_api import ceremony_of
from palmares_cli.context import JsonOption, command, state, wants_json
from palmares_cli.demo import (
    DEFAULT_CAMPAIGN,
    DEFAULT_CEREMONY,
    DEFAULT_GRILLE,
    DEFAULT_THEMES,
    DEFAULT_TOKENS,
    DemoEntry,
    load_themes,
    load_tokens,
    prepare,
    same_grille,
    save_tokens,
)
from palmares_cli.errors import ApiError, UsageProblem
from palmares_cli.files import load_grille, locate, read_object
from palmares_cli.views import mention_labels, palmares_tables, results_table
from palmares_cli.waiting import wait_for

# The jury's comment goes to the collectivité in its award email: French.
ARTICLE_JURY_COMMENT = "Arobases attribuées par le jury du label (palmarès publié, article de Club Techni.Cités)."
ARTICLE_JURY_BY = "jury du label (démo)"
# The demo's jury member: signs in to the espace jury (the address only receives the capture's emails).
DEMO_JURY = {"email": "jury@villes-internet.example", "name": "Jury du label (démo)"}


@contextmanager
def _progress(description: str, total: int, *, enabled: bool = True) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr; yields `update(done, total)`."""
    progress = output.progress_bar(transient=False, enabled=enabled)
    with progress:
        task = progress.add_task(description, total=total)

        def update(done: int, of: int) -> None:
            progress.update(task, completed=done, total=of)

        yield update


def _get_or_none(call: Callable[[], dict[str, Any]]) -> dict[str, Any] | None:
    try:
        return call()
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise


def _register(api: ApiClient, entry: DemoEntry) -> dict[str, Any]:
    try:
        return api.register(entry.code, entry.contact_email)
    except ApiError as exc:
        if exc.status != 409:
            raise
    # Already registered (a previous run): its token was shown once and is gone, so issue a new one.
    return api.rotate_token(entry.code)


def _row(entry: DemoEntry, record: Mapping[str, Any], view: Mapping[str, Any] | None) -> dict[str, Any]:
    view = view or {}
    jury = view.get("jury") or {}
    return {
        "code": entry.code,
        "name": entry.name,
        "category": record.get("category"),
        "submission_id": record.get("submission_id"),
        "score": view.get("score"),
        "arobases": view.get("arobases"),
        "jury_arobases": jury.get("arobases"),
        "article": entry.article,
        "mentions": mention_labels(view) if view else [],
        "status": view.get("status"),
    }


def _show(rows: list[dict[str, Any]], extra: Mapping[str, Any], as_json: bool) -> None:
    if as_json:
        output.emit_json({**extra, "dossiers": rows})
    else:
        output.stdout.print(results_table(rows))


@command
def demo(
    ctx: typer.Context,
    campaign: Annotated[
        Path | None, typer.Option(help=f"Campaign file \\[default: {DEFAULT_CAMPAIGN}].", dir_okay=False)
    ] = None,
    grille: Annotated[
        Path | None, typer.Option(help=f"Grille file \\[default: {DEFAULT_GRILLE}].", dir_okay=False)
    ] = None,
    themes: Annotated[
        Path | None, typer.Option(help=f"Themes → service codes \\[default: {DEFAULT_THEMES}].", dir_okay=False)
    ] = None,
    tokens_file: Annotated[
        Path, typer.Option(help="Where to keep the collectivités' tokens (mode 0600).")
    ] = DEFAULT_TOKENS,
    no_publish: Annotated[bool, typer.Option("--no-publish", help="Stop once every dossier is evaluated.")] = False,
    timeout: Annotated[
        float, typer.Option(min=1, help="Seconds to wait for each phase (evaluated, notified).")
    ] = 120.0,
    place: Annotated[str, typer.Option(help="Ceremony place.")] = DEFAULT_CEREMONY["place"],
    when: Annotated[str, typer.Option("--date", help="Ceremony date, YYYY-MM-DD.")] = DEFAULT_CEREMONY["date"],
    jury_from_article: Annotated[
        bool,
        typer.Option(
            "--jury-from-article/--no-jury-from-article",
            help="Record the 2017 press article's arobases as jury decisions before publishing (the pré-notation stays).",
        ),
    ] = True,
    json_out: JsonOption = False,
) -> None:
    """Load the demo campaign into a running stack (safe to re-run)."""
    as_json = wants_json(ctx, json_out)
    campaign_path = campaign or locate(DEFAULT_CAMPAIGN)
    grille_path = grille or locate(DEFAULT_GRILLE)
    themes_path = themes or locate(DEFAULT_THEMES)
    ceremony = ceremony_of(place, when)

    # Everything local is checked before the first call: a bad mapping must not leave half a campaign.
    campaign_data = read_object(campaign_path, "campaign")
    edition = campaign_data.get("edition")
    if not isinstance(edition, int) or not isinstance(campaign_data.get("collectivites"), list):
        raise UsageProblem(f'{campaign_path}: expected {{"edition": N, "collectivites": [...]}}')
    grille_data, grille_body = load_grille(grille_path)
    if grille_body.edition != edition:
        raise UsageProblem(f"{grille_path} is the grille of {grille_body.edition}, the campaign is {edition}")
    entries = prepare(campaign_data, load_themes(themes_path), grille=grille_body, mapping_path=themes_path)

    saved = load_tokens(tokens_file)
    records: dict[str, dict[str, Any]] = (
        dict(saved.get("collectivites") or {}) if saved.get("edition") == edition else {}
    )

    with state(ctx).api() as api:
        published = _get_or_none(lambda: api.palmares(edition))
        if published is not None:
            # A published palmarès closes the campaign: nothing can be submitted any more.
            _show_published(api, published, entries, records, as_json)
            espaces = _espace_accounts(api, entries)
            if as_json:
                output.emit_json({"espaces": espaces})
            else:
                _print_espaces(espaces)
            return
        grille_version = _ensure_grille(api, grille_body, grille_data, grille_path)
        _register_and_submit(api, edition, entries, records, tokens_file, progress=not as_json)
        ids = {e.code: records[e.code]["submission_id"] for e in entries}
        with _progress("evaluated", len(ids), enabled=not as_json) as update:
            views = wait_for(api.submission, ids, "evaluated", timeout_s=timeout, on_update=update)
        if jury_from_article:
            _record_article_jury(api, entries, ids, views)
        if no_publish:
            views = {code: api.submission(sid) for code, sid in ids.items()}
        else:
            api.publish_palmares(edition, ceremony)
            output.info(f"Published the palmarès {edition} (ceremony {place}, {when}); waiting for the award emails.")
            with _progress("notified", len(ids), enabled=not as_json) as update:
                views = wait_for(api.submission, ids, "notified", timeout_s=timeout, on_update=update)

        espaces = _espace_accounts(api, entries)

    rows = [_row(e, records[e.code], views[e.code]) for e in entries]
    extra = {"edition": edition, "grille_version": grille_version, "palmares_published": not no_publish}
    _show(rows, {**extra, "espaces": espaces}, as_json)
    if not as_json:
        _print_espaces(espaces)
        output.stdout.print(
            "Next: `palmares status <submission_id>`, `palmares trace <submission_id>`, "
            f"`palmares palmares show {edition}`; ids in {tokens_file}."
        )


def _espace_accounts(api: ApiClient, entries: list[DemoEntry]) -> dict[str, Any]:
    """A jury member invited, and a sign-in link for them and for the first collectivité of the campaign."""
    api.invite_jury_member(DEMO_JURY["email"], DEMO_JURY["name"])
    first = entries[0]
    return {
        "collectivite": {
            "email": first.contact_email,
            "name": first.name,
            "sign_in_link": api.sign_in_link(first.contact_email)["url"],
        },
        "jury": {"email": DEMO_JURY["email"], "sign_in_link": api.sign_in_link(DEMO_JURY["email"])["url"]},
    }


def _print_espaces(espaces: Mapping[str, Any]) -> None:
    collectivite, jury = espaces["collectivite"], espaces["jury"]
    output.stdout.print(
        escape(
            "Espaces — sign-in links (single use, valid 15 minutes; `palmares sign-in-link EMAIL` gives another):\n"
            f"  espace collectivité  {collectivite['name']} <{collectivite['email']}>\n"
            f"                       {collectivite['sign_in_link']}\n"
            f"  espace jury          {jury['email']}\n"
            f"                       {jury['sign_in_link']}"
        ),
        soft_wrap=True,
    )


def _show_published(
    api: ApiClient,
    published: Mapping[str, Any],
    entries: list[DemoEntry],
    records: Mapping[str, Mapping[str, Any]],
    as_json: bool,
) -> None:
    """The campaign is closed: show the dossiers a previous run saved, else the palmarès itself."""
    edition = published.get("edition")
    output.info(f"The palmarès {edition} is already published ({published.get('published_at')}): nothing to load.")
    known = [e for e in entries if (records.get(e.code) or {}).get("submission_id")]
    if known:
        rows = [_row(e, records[e.code], api.submission(records[e.code]["submission_id"])) for e in known]
        _show(rows, {"edition": edition, "palmares_published": True}, as_json)
    elif as_json:
        output.emit_json({"edition": edition, "palmares_published": True, "palmares": published})
    else:
        heading, tables = palmares_tables(published)
        output.stdout.print(escape(heading))
        for table in tables:
            output.stdout.print(table)


def _ensure_grille(api: ApiClient, grille: GrilleBody, data: Mapping[str, Any], path: Path) -> Any:
    """Publish the grille unless the current version has the same content; its version.

    Republishing identical content would still make a new version, and every
    service re-evaluates every dossier of the edition on a new version.
    """
    current = _get_or_none(lambda: api.grille(grille.edition))
    if current is not None and same_grille(grille, current):
        output.info(f"Grille {grille.edition} version {current.get('version')} is already this file: not republished.")
        return current.get("version")
    version = api.publish_grille(grille.edition, data).get("version")
    output.info(f"Published grille {grille.edition} version {version} from {path}.")
    return version


def _register_and_submit(
    api: ApiClient,
    edition: int,
    entries: list[DemoEntry],
    records: dict[str, dict[str, Any]],
    tokens_file: Path,
    *,
    progress: bool,
) -> None:
    """Register each collectivité (or rotate its token) and submit its dossier; `records` gets the results."""
    with _progress("registering and submitting", len(entries), enabled=progress) as update:
        for i, entry in enumerate(entries):
            try:
                registered = _register(api, entry)
                accepted = api.submit(
                    edition, entry.body, token=registered["token"], idempotency_key=entry.idempotency_key(edition)
                )
            except ApiError:
                output.info(f"failed on {entry.code} {entry.name}")
                raise
            records[entry.code] = {
                "name": entry.name,
                "category": registered.get("category"),
                "token": registered["token"],
                "submission_id": accepted["submission_id"],
                "revision": accepted["revision"],
            }
            # Saved after each one: an interrupted run still leaves every token it obtained.
            save_tokens(tokens_file, _tokens_document(api.base_url, edition, records))
            update(i + 1, len(entries))
    output.info(f"Tokens and submission ids saved in {tokens_file} (mode 0600).")


def _record_article_jury(
    api: ApiClient, entries: list[DemoEntry], ids: Mapping[str, str], views: Mapping[str, Mapping[str, Any]]
) -> None:
    """The article's arobases as jury decisions; already-recorded ones are not repeated (each is an event)."""
    decided = 0
    for entry in entries:
        jury = views[entry.code].get("jury") or {}
        if entry.article_arobases is not None and jury.get("arobases") != entry.article_arobases:
            api.jury_decide(
                ids[entry.code],
                arobases=entry.article_arobases,
                comment=ARTICLE_JURY_COMMENT,
                decided_by=ARTICLE_JURY_BY,
            )
            decided += 1
    output.info(f"Jury decisions from the article: {decided} recorded.")


def _tokens_document(api_url: str, edition: int, records: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "about": "Written by `palmares demo`: API tokens of the demo collectivités (secret) and their submission ids.",
        "api_url": api_url,
        "edition": edition,
        "updated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "collectivites": dict(records),
    }

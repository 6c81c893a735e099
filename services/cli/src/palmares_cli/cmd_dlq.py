"""`palmares dlq list|replay`: see and replay dead letters."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from palmares_cli import output
from palmares_cli.context import JsonOption, command, state, wants_json
from palmares_cli.dlq import (
    default_dlq_topics,
    distinct_sources,
    dlq_topic,
    known_dlq_topics,
    parse_offset,
    select,
    summary_row,
)
from palmares_cli.errors import OperationFailed
from palmares_cli.kafka_io import Replayed, read_topics, replay

dlq_app = typer.Typer(
    help=(
        "Dead letters: records a consumer could not process, set aside on <topic>.dlq. "
        "Replay them after the fix; replaying twice is harmless (consumers deduplicate on event_id)."
    ),
    no_args_is_help=True,
)

_COLUMNS = ("offset", "key", "x-error-type", "x-error", "x-source", "x-consumer")


def _topics(names: list[str] | None) -> list[str]:
    topics = [dlq_topic(n) for n in names] if names else default_dlq_topics()
    unknown = [t for t in topics if t not in known_dlq_topics()]
    if unknown:
        output.info(f"note: not in the topic registry: {', '.join(unknown)}")
    return list(dict.fromkeys(topics))


@dlq_app.command("list")
@command
def dlq_list(
    ctx: typer.Context,
    topics: Annotated[
        list[str] | None,
        typer.Argument(help="Topics (`submissions.v1` or `submissions.v1.dlq`); default: every registry topic."),
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="Show at most the N most recent dead letters per topic.")] = 50,
    json_out: JsonOption = False,
) -> None:
    """List dead letters, read from the beginning (no consumer group, nothing committed)."""
    names = _topics(topics)
    with output.stderr.status(f"reading {len(names)} dead-letter topic(s)…"):
        contents = asyncio.run(read_topics(state(ctx).settings.require_kafka(), names))
    if wants_json(ctx, json_out):
        output.emit_json(
            [
                {
                    "topic": c.topic,
                    "exists": c.exists,
                    "count": len(c.letters),
                    "dead_letters": [d.as_json() for d in c.letters[-limit:]],
                }
                for c in contents
            ]
        )
        return
    total = 0
    for content in contents:
        total += len(content.letters)
        if not content.exists:
            output.stdout.print(f"{content.topic}: topic does not exist")
            continue
        if not content.letters:
            output.stdout.print(f"{content.topic}: empty")
            continue
        shown = content.letters[-limit:]
        hidden = len(content.letters) - len(shown)
        table = Table(
            title=f"{content.topic}: {len(content.letters)} dead letter(s)"
            + (f", {hidden} older not shown (--limit)" if hidden else ""),
            title_justify="left",
        )
        for column in _COLUMNS:
            table.add_column(column, overflow="fold")
        for letter in shown:
            row = summary_row(letter)
            table.add_row(*(escape(row[c]) for c in _COLUMNS))
        output.stdout.print(table)
    output.stdout.print(f"{total} dead letter(s) in {len(contents)} topic(s).")


@dlq_app.command("replay")
@command
def dlq_replay(
    ctx: typer.Context,
    topic: Annotated[str, typer.Argument(help="The topic (`submissions.v1` or `submissions.v1.dlq`).")],
    offsets: Annotated[
        list[str] | None,
        typer.Option("--offset", help="A dead letter: OFFSET or PARTITION:OFFSET of the .dlq topic (repeatable)."),
    ] = None,
    take_all: Annotated[bool, typer.Option("--all", help="Replay every dead letter of the topic.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be replayed; send nothing.")] = False,
    json_out: JsonOption = False,
) -> None:
    """Send dead letters back to their source topic (same key, value and headers; reason headers removed).

    Do it after the cause is fixed. Each replayed event keeps its event_id, so
    a consumer that already processed it skips it (inbox): replaying twice is harmless.
    """
    name = _topics([topic])[0]
    specs = [parse_offset(o) for o in offsets or []]
    bootstrap = state(ctx).settings.require_kafka()
    with output.stderr.status(f"reading {name}…"):
        (content,) = asyncio.run(read_topics(bootstrap, [name]))
    if not content.exists:
        raise OperationFailed(f"topic {name} does not exist on {bootstrap}")
    chosen, copies = distinct_sources(select(content.letters, specs, take_all=take_all))
    done: list[Replayed] = []
    if chosen and not dry_run:
        with output.progress_bar(transient=True) as progress:
            bar = progress.add_task("replaying", total=len(chosen))
            done = asyncio.run(replay(bootstrap, chosen, on_sent=lambda _sent: progress.advance(bar)))
    report = [
        {
            "dlq": f"{letter.topic} {letter.position}",
            "to": letter.source_topic,
            "key": summary_row(letter)["key"],
            "event_type": letter.event_type,
            "event_id": letter.event_id,
            "error_type": letter.reason()["error-type"],
        }
        for letter in chosen
    ]
    for entry, sent in zip(report, done, strict=False):
        entry["written_to"] = f"{sent.topic} {sent.partition}:{sent.offset}"
    skipped = [f"{c.topic} {c.position}" for c in copies]
    if wants_json(ctx, json_out):
        output.emit_json(
            {
                "dry_run": dry_run,
                "replayed": [] if dry_run else report,
                "selected": report,
                "same_record_skipped": skipped,
            }
        )
        return
    if not chosen:
        output.stdout.print(f"{name}: nothing to replay.")
        return
    if skipped:
        output.info(
            f"Skipped {len(skipped)} copies of the same original records (one per consumer): {', '.join(skipped)}"
        )
    verb = "Would replay" if dry_run else "Replayed"
    for entry in report:
        where = f" → {entry['written_to']}" if "written_to" in entry else f" → {entry['to']}"
        output.stdout.print(
            escape(
                f"{verb} {entry['dlq']}{where}  key={entry['key']} {entry['event_type'] or '?'} "
                f"event_id={entry['event_id'] or '?'} (was: {entry['error_type'] or '?'})"
            )
        )
    output.stdout.print(f"{verb} {len(report)} dead letter(s).")
    if not dry_run:
        output.info("Consumers skip events they already processed (same event_id): a second replay is harmless.")

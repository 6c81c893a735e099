"""Following an edition's long work: `palmares progress EDITION` and the `--wait` of the publications.

`palmares grille publish FILE --wait` waits until scoring and mentions have
re-evaluated every dossier under the new version; `palmares palmares publish
EDITION --wait` until notify has sent (or given up on) every award email. Both
poll `GET /v1/editions/{edition}/progress` and draw one progress bar per job on
stderr, with the rate and the time left the API measured, then print a summary.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from palmares_cli import output
from palmares_cli.context import EditionArgument, JsonOption, command, emit, state
from palmares_cli.errors import OperationFailed

Fetch = Callable[[], dict[str, Any]]
OnUpdate = Callable[[dict[str, Any]], None]

EVALUATION = ("scoring", "mentions")
AWARDS = ("notify",)

WaitOption = Annotated[
    bool, typer.Option("--wait", help="Wait until the work it starts is done: progress bars on stderr, then a summary.")
]
TimeoutOption = Annotated[float, typer.Option(min=0, help="Seconds to wait with --wait (0: no limit).")]
IntervalOption = Annotated[float, typer.Option(min=0.1, help="Seconds between two looks at the progress.")]


def jobs_of(view: Mapping[str, Any], services: Iterable[str]) -> list[dict[str, Any]]:
    wanted = set(services)
    return [j for j in view.get("jobs") or [] if j.get("service") in wanted]


def finished(view: Mapping[str, Any], services: Iterable[str]) -> bool:
    """Every job of `services` reports finished (a job that has not started is not finished)."""
    services = tuple(services)
    jobs = jobs_of(view, services)
    return len(jobs) == len(services) and all(j.get("finished") for j in jobs)


def describe(job: Mapping[str, Any]) -> str:
    return f"{job.get('service')} {job.get('job')}: {job.get('done')}/{job.get('total')}"


def wait_until_finished(
    fetch: Fetch,
    services: Iterable[str],
    *,
    grille_version: int | None = None,
    timeout_s: float = 0,
    interval_s: float = 5.0,
    on_update: OnUpdate | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Poll the progress until the jobs of `services` are finished; the last view.

    With `grille_version`, the wait is for that version's evaluation: if a later
    version is published meanwhile, its re-evaluation replaces this one and the
    wait stops (`OperationFailed`). `timeout_s` 0 waits as long as it takes.
    """
    services = tuple(services)
    deadline = clock() + timeout_s if timeout_s > 0 else None
    while True:
        view = fetch()
        if on_update is not None:
            on_update(view)
        current = view.get("grille_version")
        if grille_version is not None and isinstance(current, int) and current > grille_version:
            raise OperationFailed(
                f"grille version {current} was published while version {grille_version} was being evaluated: "
                f"follow it with `palmares progress {view.get('edition')} --wait`"
            )
        if finished(view, services):
            return view
        if deadline is not None and clock() >= deadline:
            behind = ", ".join(describe(j) for j in jobs_of(view, services) if not j.get("finished"))
            raise OperationFailed(f"timed out after {timeout_s:g} s: {behind or 'not started'}")
        sleep(interval_s if deadline is None else min(interval_s, max(0.0, deadline - clock())))


def _eta(seconds: Any) -> str:
    if not isinstance(seconds, int | float):
        return "time left unknown"
    whole = round(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d} left"


class Bars:
    """One rich progress bar per job, fed by the API's views (its rate and time left, not rich's guesses)."""

    def __init__(self, services: Iterable[str]) -> None:
        self._services = tuple(services)
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}/s"),
            TextColumn("{task.fields[eta]}"),
            console=output.stderr,
        )
        self._tasks: dict[str, TaskID] = {}
        self._dead_letters: int | None = None

    def update(self, view: Mapping[str, Any]) -> None:
        # A dossier dead-lettered on the way is never done: say so while waiting, not only at the end.
        dead = (view.get("dead_letters") or {}).get("total")
        if isinstance(dead, int):
            if self._dead_letters is not None and dead > self._dead_letters:
                self.progress.console.print(
                    f"{dead - self._dead_letters} new dead letter(s) while waiting: `palmares dlq list` shows why"
                )
            self._dead_letters = dead
        for job in jobs_of(view, self._services):
            name = f"{job['service']} {job['job']}"
            rate, eta = f"{job.get('rate_per_s') or 0:g}", _eta(job.get("eta_s"))
            if name not in self._tasks:
                self._tasks[name] = self.progress.add_task(name, total=job.get("total") or 0, rate=rate, eta=eta)
            self.progress.update(
                self._tasks[name], completed=job.get("done") or 0, total=job.get("total"), rate=rate, eta=eta
            )


def follow(
    fetch: Fetch,
    services: Iterable[str],
    *,
    grille_version: int | None = None,
    timeout_s: float = 0,
    interval_s: float = 5.0,
) -> dict[str, Any]:
    """`wait_until_finished` with the progress bars drawn on stderr."""
    bars = Bars(services)
    with bars.progress:
        return wait_until_finished(
            fetch,
            services,
            grille_version=grille_version,
            timeout_s=timeout_s,
            interval_s=interval_s,
            on_update=bars.update,
        )


def summary_lines(view: Mapping[str, Any]) -> list[str]:
    """The human summary of a progress view."""
    evaluated = view.get("evaluated") or {}
    awards = view.get("awards") or {}
    dead = view.get("dead_letters")
    lines = [
        f"Edition {view.get('edition')}, grille version {view.get('grille_version')}: {view.get('dossiers')} dossier(s)",
        f"  evaluated      scoring {evaluated.get('scoring')}, mentions {evaluated.get('mentions')}",
        f"  awards         {awards.get('sent')} sent, {awards.get('failed')} failed, {awards.get('queued')} queued"
        + ("" if view.get("palmares_published_at") else " (palmarès not published)"),
        "  dead letters   "
        + (
            "unknown (Kafka not readable by the API)"
            if dead is None
            else f"{dead.get('total')}"
            + (
                " (" + ", ".join(f"{t} {n}" for t, n in (dead.get("topics") or {}).items()) + ")"
                if dead.get("total")
                else ""
            )
        ),
    ]
    for job in view.get("jobs") or []:
        state_ = "finished" if job.get("finished") else "not started" if job.get("started_at") is None else "running"
        rate = f", {job.get('rate_per_s'):g}/s, {_eta(job.get('eta_s'))}" if state_ == "running" else ""
        lines.append(
            f"  {job.get('service'):<9}{job.get('job'):<11}{job.get('done')}/{job.get('total')} {state_}{rate}"
        )
    return lines


def print_summary(view: Mapping[str, Any]) -> None:
    output.print_lines(summary_lines(view))


def warn_if_failures(view: Mapping[str, Any]) -> None:
    """What needs an operator after the work is done: failed emails, dead letters."""
    failed = (view.get("awards") or {}).get("failed") or 0
    if failed:
        output.info(f"{failed} award email(s) failed: `palmares status SUBMISSION_ID` shows each one's reason")
    dead = view.get("dead_letters") or {}
    if dead.get("total"):
        output.info(f"{dead['total']} dead letter(s) held: `palmares dlq list` shows them with their reason")


def emit_followed(ctx: typer.Context, json_out: bool, result: dict[str, Any], done: str) -> None:
    """A command's result that `--wait` may have followed: its progress summary under `progress`, else `done`."""
    if "progress" not in result:
        emit(ctx, json_out, result, lambda: output.stdout.print(done))
        return
    emit(ctx, json_out, result, lambda: print_summary(result["progress"]))
    warn_if_failures(result["progress"])


@command
def progress(
    ctx: typer.Context,
    edition: EditionArgument,
    wait: Annotated[
        bool, typer.Option("--wait", help="Wait until the re-evaluation and the awards started are done.")
    ] = False,
    timeout: TimeoutOption = 0,
    interval: IntervalOption = 5.0,
    json_out: JsonOption = False,
) -> None:
    """The progress of an edition's re-evaluation (after `grille publish`) and awards (after `palmares publish`)."""
    with state(ctx).api() as api:
        view = api.progress(edition)
        if wait:
            # The awards are waited for only once the palmarès is out.
            services = EVALUATION + (AWARDS if view.get("palmares_published_at") else ())
            view = follow(lambda: api.progress(edition), services, timeout_s=timeout, interval_s=interval)
    emit(ctx, json_out, view, lambda: print_summary(view))
    warn_if_failures(view)

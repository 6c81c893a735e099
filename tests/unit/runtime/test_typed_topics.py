"""Topics are typed: mypy refuses a subscription whose handler takes another event type than its topic's.

The proof is mypy itself, run on a small service module: it must report an
error on each line marked `# wrong`, and nowhere else.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from mypy import api

REPO = Path(__file__).resolve().parents[3]

SERVICE = textwrap.dedent(
    """
    from palmares_contracts import (
        NOTIFICATIONS, SCORES, SUBMISSIONS, Event, Notification, NotificationSent, SubmissionReceived, SubmissionScored,
    )
    from palmares_eventkit.runtime import ServiceRuntime, Subscription, Tx


    async def on_scored(tx: Tx, event: SubmissionScored) -> None: ...
    async def on_notification(tx: Tx, event: Notification) -> None: ...
    async def on_sent(tx: Tx, event: NotificationSent) -> None: ...
    async def on_any(tx: Tx, event: Event) -> None: ...


    SUBSCRIPTIONS = (
        Subscription(SCORES, on_scored),
        Subscription(NOTIFICATIONS, on_notification),
        Subscription(SUBMISSIONS, on_any),
    )
    WRONG = Subscription(SUBMISSIONS, on_scored)  # wrong


    def wire(runtime: ServiceRuntime, dossier: SubmissionReceived) -> bytes:
        runtime.subscribe(SCORES, on_scored)
        runtime.subscribe(SUBMISSIONS, on_scored)  # wrong
        runtime.subscribe(NOTIFICATIONS, on_sent)  # wrong: the topic carries NotificationFailed too
        return SCORES.key_of(dossier)  # wrong
    """
)


def test_mypy_refuses_a_handler_of_another_event_type_than_its_topics(tmp_path: Path) -> None:
    module = tmp_path / "service.py"
    module.write_text(SERVICE, encoding="utf-8")
    wrong = {number for number, line in enumerate(SERVICE.splitlines(), start=1) if "# wrong" in line}
    # The repository's configuration (strict), and its cache: warm after `make typecheck`.
    report, errors, _ = api.run(["--config-file", str(REPO / "pyproject.toml"), str(module)])
    assert not errors, errors
    flagged = {int(m[1]) for m in re.finditer(r"service\.py:(\d+): error", report)}
    assert flagged == wrong, report

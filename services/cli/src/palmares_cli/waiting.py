"""Polling dossiers until they reach a status (`status --wait-for`, and the demo).

The status only moves forward for one revision — `received` → `evaluated` →
`notified` — except that publishing the palmarès turns `notified` (receipt
sent) back into `evaluated` until the award email leaves. Callers that need
the award wait after publishing, and the status view already accounts for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from palmares_cli.demo import STATUS_ORDER, reached
from palmares_cli.errors import OperationFailed, UsageProblem

Fetch = Callable[[str], dict[str, Any]]
OnUpdate = Callable[[int, int], None]


def check_target(target: str) -> str:
    if target not in STATUS_ORDER:
        raise UsageProblem(f"--wait-for {target!r}: expected one of {', '.join(STATUS_ORDER)}")
    return target


def _straggler(label: str, view: Mapping[str, Any] | None) -> str:
    if view is None:
        return f"{label} (no answer yet)"
    failed = [n for n in view.get("notifications") or [] if n.get("status") == "failed"]
    why = f", last failed {failed[-1].get('kind')}: {failed[-1].get('reason')}" if failed else ""
    return f"{label} ({view.get('status')}{why})"


def wait_for(
    fetch: Fetch,
    ids: Mapping[str, str],
    target: str,
    *,
    timeout_s: float,
    interval_s: float = 1.0,
    on_update: OnUpdate | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, dict[str, Any]]:
    """Poll each dossier (`label → submission_id`) until all have reached `target`; their last views.

    Raises `OperationFailed` naming the dossiers still behind when `timeout_s` passes.
    """
    check_target(target)
    deadline = clock() + timeout_s
    views: dict[str, dict[str, Any]] = {}
    pending = dict(ids)
    while True:
        for label, submission_id in list(pending.items()):
            view = fetch(submission_id)
            views[label] = view
            if reached(view.get("status"), target):
                del pending[label]
        if on_update is not None:
            on_update(len(ids) - len(pending), len(ids))
        if not pending:
            return views
        if clock() >= deadline:
            behind = ", ".join(_straggler(label, views.get(label)) for label in pending)
            raise OperationFailed(
                f"timed out after {timeout_s:g} s: {len(pending)} of {len(ids)} dossier(s) not yet {target}: {behind}"
            )
        sleep(min(interval_s, max(0.0, deadline - clock())))

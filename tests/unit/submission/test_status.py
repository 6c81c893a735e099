"""The status of a dossier: received → evaluated → notified."""

from __future__ import annotations

import pytest
from palmares_submission.status import Progress, dossier_status


@pytest.mark.parametrize(
    ("progress", "status"),
    [
        (Progress(1, None, None, False, False, False), "received"),
        (Progress(1, 1, None, True, False, False), "received"),
        (Progress(2, 1, 1, True, False, False), "received"),  # results of an older revision
        (Progress(1, 1, 1, False, False, False), "evaluated"),
        (Progress(1, 1, 1, True, False, False), "notified"),
        (Progress(1, 1, 1, True, True, False), "evaluated"),  # palmarès out, award not sent yet
        (Progress(1, 1, 1, True, True, True), "notified"),
    ],
)
def test_status(progress: Progress, status: str) -> None:
    assert dossier_status(progress) == status

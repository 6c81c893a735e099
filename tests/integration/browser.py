"""Debian's headless Chromium as a visitor's browser: the DOM after rendering, and a screenshot."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tools.chromium import CHROMIUM_FLAGS


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("Chromium is needed for the browser tests: apt-get install chromium (.ci/run does it)")
    return path


def browse(
    url: str,
    screenshot: Path,
    *,
    shown: Callable[[str], bool] = lambda dom: "</title>" in dom,
    budget_ms: int = 10_000,
    window: str = "1100,1400",
    timeout: float = 90,
) -> str:
    """The DOM once Chromium shows what `shown` looks for; also saves a screenshot of the page."""
    with tempfile.TemporaryDirectory() as profile:
        common = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={budget_ms}"]
        for _ in range(3):
            # A loaded machine can make headless Chromium give up on the first load: try again.
            dom = subprocess.run(
                [*common, "--dump-dom", url], capture_output=True, text=True, timeout=timeout, check=False
            )
            if shown(dom.stdout):
                break
        else:
            raise AssertionError(
                f"Chromium did not show {url} as expected: {dom.stdout[-1500:]!r} {dom.stderr[-1500:]}"
            )
        subprocess.run(
            [*common, f"--screenshot={screenshot}", f"--window-size={window}", url],
            capture_output=True,
            timeout=timeout,
            check=True,
        )
    return dom.stdout

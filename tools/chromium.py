"""Headless Chromium (Debian's `chromium`) as the tools and the browser tests start it.

Without the background-networking flags, Chromium tries hosts this machine
cannot reach, many at a time; `--no-sandbox` because the tests run as root.
"""

from __future__ import annotations

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

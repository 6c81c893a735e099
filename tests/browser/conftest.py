"""Fixtures of the browser tests: one Chromium per session, a fresh context (no cookies) per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, async_playwright

from tests.browser.harness import CHROMIUM_ARGS, AxeLog, axe_source, chromium_path
from tests.integration.harness import Stack


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture(scope="session")
def shots(stack: Stack) -> Path:
    """Screenshots of every page checked, kept with the session's logs."""
    return Path(stack.log_dir) / "pages"


@pytest.fixture(scope="session")
def axe_log(shots: Path) -> Iterator[AxeLog]:
    """What axe-core found on every page of the session: written to `<logs>/pages/axe.txt` (and printed with -s)."""
    log = AxeLog()
    yield log
    lines = [f"axe-core checked {len(log.checked)} pages: {', '.join(log.checked)}"]
    lines += [f"  {v.impact}: {v.rule} on {v.page} — {v.help} {v.targets}" for v in log.violations]
    shots.mkdir(parents=True, exist_ok=True)
    (shots / "axe.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n" + "\n".join(lines))


@pytest.fixture
async def context(browser: Browser, stack: Stack) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(base_url=stack.api_url, locale="fr-FR", viewport={"width": 1100, "height": 900})
    await ctx.add_init_script(script=axe_source())
    try:
        yield ctx
    finally:
        await ctx.close()

"""The espaces driven in a real browser: Debian's Chromium through Playwright, axe-core on every page.

Playwright never downloads a browser here: it launches `/usr/bin/chromium`
(`executable_path`). axe-core comes from npm (`make axe`, pinned by
tests/browser/package-lock.json) and is added to every page of a context as
an init script, which the pages' Content-Security-Policy does not apply to.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.async_api import Page

from tests.integration.harness import Mail, eventually, read_mails

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / ".cache" / "node" / "node_modules" / "axe-core" / "axe.min.js"
# Screenshots for the documentation (docs/pages/) when set; always kept with the session's logs.
SCREENSHOTS_ENV = "PALMARES_PAGE_SCREENSHOTS"

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        raise AssertionError("the browser tests need Debian's Chromium: apt-get install chromium (make test does it)")
    return path


def axe_source() -> str:
    if not AXE.exists():
        raise AssertionError(f"axe-core is missing ({AXE}): `make axe` installs it from npm")
    return AXE.read_text(encoding="utf-8")


@dataclass
class Violation:
    page: str
    rule: str
    impact: str
    help: str
    targets: list[str]


@dataclass
class AxeLog:
    """Every page checked in the session, and what axe-core found on it."""

    checked: list[str] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)


async def check_page(page: Page, name: str, log: AxeLog, shots: Path) -> list[Violation]:
    """axe-core on the page as it stands (WCAG 2.x A and AA rules); a screenshot named `name`.

    Returns the serious and critical violations (the tests assert there are none);
    minor and moderate ones are logged for the report.
    """
    await page.wait_for_load_state("load")
    result: dict[str, Any] = await page.evaluate(
        """async () => await axe.run(document, {
               runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']},
               resultTypes: ['violations'],
           })"""
    )
    found = [
        Violation(name, v["id"], v.get("impact") or "", v["help"], [str(n["target"]) for n in v["nodes"]][:5])
        for v in result["violations"]
    ]
    log.checked.append(name)
    log.violations += found
    await screenshot(page, name, shots)
    return [v for v in found if v.impact in ("serious", "critical")]


async def screenshot(page: Page, name: str, shots: Path) -> None:
    path = _prepare(shots) / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    _copy_for_docs(path)


def _prepare(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _copy_for_docs(path: Path) -> None:
    docs = os.environ.get(SCREENSHOTS_ENV)
    if docs:
        shutil.copy(path, _prepare(Path(docs)) / path.name)


def links_in(mail: Mail) -> list[str]:
    return re.findall(r"https?://[^\s<>\"']+", mail.text())


async def mail_to(mail_dir: Path, to: str, subject_has: str, after: int = 0, within: float = 30) -> Mail:
    """The first message to `to` whose subject holds `subject_has`, among those after the first `after`."""

    async def check() -> Mail | None:
        mails = [m for m in read_mails(mail_dir, [to]) if subject_has in str(m.message["Subject"])]
        return mails[after] if len(mails) > after else None

    return await eventually(check, within=within, what=f"an email « {subject_has} » to {to}")


def count_mails(mail_dir: Path, to: str, subject_has: str) -> int:
    return len([m for m in read_mails(mail_dir, [to]) if subject_has in str(m.message["Subject"])])

"""Screenshots of the sample letters as a mail client shows them: `python -m tools.french.screenshots`.

Each letter's HTML part, its inline image (the panneau) given as a data URL in
place of its `cid:` link, is rendered by headless Chromium (Debian's
`chromium`) into `docs/emails/<letter>.png`, cropped to the letter.
"""

from __future__ import annotations

import base64
import email
import email.policy
import io
import shutil
import subprocess
import sys
import tempfile
from email.message import EmailMessage
from pathlib import Path

from PIL import Image, ImageChops

from tools.chromium import CHROMIUM_FLAGS
from tools.french import samples
from tools.repository import repository_root

WIDTH, HEIGHT = 720, 2400


def html_with_inline_images(message: samples.Raw) -> str:
    """The HTML part, each `cid:` image replaced by a data URL (as a mail client resolves it)."""
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    html_part = parsed.get_body(("html",))
    assert html_part is not None
    html = str(html_part.get_content())
    for part in parsed.walk():
        content_id = part["Content-ID"]
        if content_id and part.get_content_maintype() == "image":
            data = base64.b64encode(part.get_content()).decode()
            html = html.replace(f"cid:{content_id.strip('<>')}", f"data:{part.get_content_type()};base64,{data}")
    return html


def _cropped(png: bytes) -> Image.Image:
    """The screenshot cut at the end of the letter (the page below it is background)."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    background = Image.new("RGB", image.size, image.getpixel((image.width - 1, image.height - 1)))
    box = ImageChops.difference(image, background).getbbox()
    return image if box is None else image.crop((0, 0, image.width, min(image.height, box[3] + 24)))


def screenshot(html: str, chromium: str) -> Image.Image:
    with tempfile.TemporaryDirectory() as scratch:
        page = Path(scratch) / "letter.html"
        page.write_text(html, encoding="utf-8")
        shot = Path(scratch) / "shot.png"
        subprocess.run(
            [
                chromium,
                *CHROMIUM_FLAGS,
                "--hide-scrollbars",
                f"--user-data-dir={scratch}/profile",
                f"--window-size={WIDTH},{HEIGHT}",
                f"--screenshot={shot}",
                page.as_uri(),
            ],
            capture_output=True,
            timeout=120,
            check=True,
        )
        return _cropped(shot.read_bytes())


def main(out: Path | None = None) -> int:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("Chromium is needed: apt-get install chromium (make browser)", file=sys.stderr)
        return 1
    folder = out or repository_root() / "docs" / "emails"
    folder.mkdir(parents=True, exist_ok=True)
    for name, message in samples.letters().items():
        target = folder / f"{name}.png"
        screenshot(html_with_inline_images(message), chromium).save(target, optimize=True)
        print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())

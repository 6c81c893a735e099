"""The dated entry sign (« panneau millésimé ») drawn as a PNG, for the award email.

Labelled collectivités put a sign at the entrance of the town: « Ville
Internet » (or Village, Territoire), the arobases, the year. Drawn with
Pillow (pure, deterministic: same input, same bytes), with Pillow's bundled
font so no system font is needed.
"""

from __future__ import annotations

import io
from functools import cache

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 480, 300
RED = (200, 16, 46)
BLACK = (20, 20, 20)
WHITE = (255, 255, 255)

_TITLES = {"village": "Village Internet", "ville": "Ville Internet", "territoire": "Territoire Internet"}


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def title_of(category: str) -> str:
    """« Ville Internet », « Village Internet » or « Territoire Internet »."""
    return _TITLES.get(category, "Ville Internet")


@cache  # 3 categories × 5 arobases per edition: drawn once, not once per email
def draw_panneau(category: str, edition: int, arobases: int) -> bytes:
    """The sign as PNG bytes: a white panel with a red border, the title, the arobases, the year."""
    if not 1 <= arobases <= 5:
        raise ValueError(f"arobases must be 1 to 5, not {arobases}")
    image = Image.new("RGB", (WIDTH, HEIGHT), WHITE)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((6, 6, WIDTH - 7, HEIGHT - 7), radius=28, outline=RED, width=14)
    _centered(draw, title_of(category), 62, _font(40), BLACK)
    _centered(draw, "@" * arobases, 150, _font(84), RED)
    _centered(draw, str(edition), 240, _font(40), BLACK)
    out = io.BytesIO()
    # Three colours and their anti-aliased edges: a 16-colour palette looks the same and weighs a third
    # (3.2 kB instead of 9.4), which every award email carries in base64 and the SMTP client re-reads.
    image.quantize(colors=16).save(out, format="PNG", optimize=True)
    return out.getvalue()


def _centered(
    draw: ImageDraw.ImageDraw,
    text: str,
    y: int,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    fill: tuple[int, int, int],
) -> None:
    draw.text((WIDTH // 2, y), text, font=font, fill=fill, anchor="mm")

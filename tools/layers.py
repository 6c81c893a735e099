"""The picture of the layers in docs/architecture.md, drawn from the import rules themselves.

    .venv/bin/python -m tools.layers            # rewrites docs/layers.svg (make layers)
    .venv/bin/python -m tools.layers --check    # exit 1 when docs/layers.svg is not what the rules draw

The rows are the `layers` contract of `[tool.importlinter]` in pyproject.toml, top to bottom:
a package may import the packages of the rows below it, never those above; packages joined by
`|` in a row are independent of each other (they never import one another). The folder of each
package is found in the repository. Drawn with matplotlib (already pinned for the benchmark's
chart) so that the picture is regenerated and checked on any machine, with no Graphviz.
"""

from __future__ import annotations

import argparse
import io
import itertools
import sys
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from tools.repository import repository_root

ROOT = repository_root()
PICTURE = ROOT / "docs" / "layers.svg"
# What a row is, for a reader of the picture, named after a package it holds (the rows come from the rules).
ROW_TITLES = {
    "palmares_cli": "tools and entry points",
    "palmares_submission": "services",
    "palmares_evaluation": "shared by scoring and mentions",
    "palmares_eventkit": "runtime and label's rules",
    "palmares_contracts": "contracts",
}


@dataclass(frozen=True)
class Row:
    packages: tuple[str, ...]
    independent: bool


def rows(pyproject: Path = ROOT / "pyproject.toml") -> list[Row]:
    """The rows of the `layers` contract, top to bottom."""
    contracts = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c["id"] == "layers"]
    found = []
    for layer in layers:
        separator = "|" if "|" in layer else ":"
        found.append(Row(tuple(p.strip().strip("()") for p in layer.split(separator)), separator == "|"))
    return found


def folders(root: Path = ROOT) -> dict[str, str]:
    """The repository folder of each package: `palmares_scoring` → `services/scoring`."""
    sources = [
        root / "contracts" / "src",
        root / "deploy" / "stack" / "src",
        *sorted((root / "services").glob("*/src")),
    ]
    found = {p.name: str(src.parent.relative_to(root)) for src in sources for p in src.iterdir() if p.is_dir()}
    return {**found, "bench": "bench", "tools": "tools"}


def draw(layer_rows: Sequence[Row], where: dict[str, str]) -> str:
    """The SVG text of the picture (deterministic: same rules, same bytes)."""
    plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "palmares-layers", "font.family": "DejaVu Sans"})
    width = max(len(r.packages) for r in layer_rows) * 3.2 + 3.8
    height = len(layer_rows) * 1.6 + 0.4
    fig, ax = plt.subplots(figsize=(width, height))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    centres: list[float] = []
    for index, row in enumerate(layer_rows):
        y = height - 0.9 - index * 1.6
        centres.append(y)
        title = next((ROW_TITLES[p] for p in row.packages if p in ROW_TITLES), "")
        if row.independent and len(row.packages) > 1:
            title += "\n(independent)"
        ax.text(0.1, y, title, fontsize=9, color="#555555", va="center", ha="left", wrap=True)
        span = (width - 3.8) / len(row.packages)
        for column, package in enumerate(row.packages):
            x = 3.0 + column * span
            box = FancyBboxPatch(
                (x + 0.1, y - 0.45),
                span - 0.2,
                0.9,
                boxstyle="round,pad=0.02",
                linewidth=1.2,
                edgecolor="#1f4e79",
                facecolor="#dbe8f5" if row.independent and len(row.packages) > 1 else "#eef3f8",
            )
            ax.add_patch(box)
            ax.text(x + span / 2, y + 0.12, package, fontsize=10, ha="center", va="center", weight="bold")
            ax.text(x + span / 2, y - 0.2, where.get(package, "?") + "/", fontsize=8, ha="center", va="center")
    for upper, lower in itertools.pairwise(centres):
        arrow = FancyArrowPatch(
            (width - 0.4, upper - 0.45), (width - 0.4, lower + 0.45), arrowstyle="-|>", mutation_scale=12
        )
        ax.add_patch(arrow)
    ax.text(width - 0.4, height - 0.25, "may import ↓", fontsize=8, ha="center", va="center", color="#555555")
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    plt.close(fig)
    return out.getvalue()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Draw docs/layers.svg from the import rules of pyproject.toml.")
    parser.add_argument("--check", action="store_true", help="exit 1 when the committed picture is stale")
    args = parser.parse_args(argv)
    svg = draw(rows(), folders())
    if args.check:
        if not PICTURE.is_file() or PICTURE.read_text(encoding="utf-8") != svg:
            print(f"{PICTURE.relative_to(ROOT)} is stale: run make layers and commit it", file=sys.stderr)
            return 1
        return 0
    PICTURE.write_text(svg, encoding="utf-8")
    print(f"wrote {PICTURE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

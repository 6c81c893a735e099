"""Where the repository is, found by its content rather than by counting parent folders."""

from __future__ import annotations

from pathlib import Path

# What only the repository's root holds: the tool configuration and the grilles the benchmark publishes.
MARKERS = ("pyproject.toml", "deploy/grilles", "contracts/pyproject.toml")


def repository_root(start: Path | None = None) -> Path:
    """The nearest folder at or above `start` (default: this package) that holds every marker."""
    origin = (start or Path(__file__)).resolve()
    for folder in (origin, *origin.parents):
        if all((folder / marker).exists() for marker in MARKERS):
            return folder
    raise RuntimeError(f"no Palmarès repository at or above {origin} (looked for {', '.join(MARKERS)})")

"""Where the repository is, whatever the current directory: shared by the tools and the benchmark (bench/)."""

from __future__ import annotations

from pathlib import Path


def repository_root(start: Path | None = None) -> Path:
    """The checkout this file belongs to: the nearest folder above it holding the Makefile and `deploy/grilles/`.

    Found by its content rather than by a fixed depth, so that moving the
    tools, or running them from another directory, still finds the data.
    """
    here = (start or Path(__file__)).resolve()
    for folder in here.parents:
        if (folder / "Makefile").is_file() and (folder / "deploy" / "grilles").is_dir():
            return folder
    raise FileNotFoundError(f"no repository (a Makefile beside deploy/grilles/) above {here}")

"""Where the launcher finds the repository, its Kafka pom and the artifact cache."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_DIR_ENV = "PALMARES_CACHE_DIR"
REPO_ROOT_ENV = "PALMARES_REPO_ROOT"


class RepositoryNotFound(RuntimeError):
    """Raised when no enclosing git checkout can be found."""


def _walk_up_for_git(start: Path) -> Path | None:
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


def repo_root() -> Path:
    """Return the Palmarès repository root.

    Order: ``$PALMARES_REPO_ROOT``; the git checkout enclosing the current
    directory; the one enclosing this package (editable installs). The second
    rule lets a wheel-installed launcher work from anywhere inside the repo.
    """
    explicit = os.environ.get(REPO_ROOT_ENV)
    if explicit:
        return Path(explicit).resolve()
    for start in (Path.cwd().resolve(), Path(__file__).resolve().parent):
        found = _walk_up_for_git(start)
        if found is not None:
            return found
    raise RepositoryNotFound(
        "cannot find the Palmarès repository (no .git above the current directory): "
        f"run from inside the checkout or set {REPO_ROOT_ENV}"
    )


def cache_dir() -> Path:
    """Return the download cache (``$PALMARES_CACHE_DIR`` or ``<repo>/.cache``).

    It lives outside ``.run/`` on purpose: deleting ``.run/`` resets state
    without downloading the Kafka jars again.
    """
    explicit = os.environ.get(CACHE_DIR_ENV)
    if explicit:
        return Path(explicit).resolve()
    return repo_root() / ".cache"

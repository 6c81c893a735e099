"""Reading the JSON files an operator hands to the CLI, with errors that name the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from palmares_contracts import GrilleBody
from pydantic import ValidationError

from palmares_cli.errors import OperationFailed


def read_json(path: Path, what: str) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise OperationFailed(f"{what} {path} not found") from None
    except IsADirectoryError:
        raise OperationFailed(f"{what} {path} is a directory") from None
    except json.JSONDecodeError as exc:
        raise OperationFailed(f"{what} {path} is not valid JSON: {exc}") from None


def read_object(path: Path, what: str) -> dict[str, Any]:
    data = read_json(path, what)
    if not isinstance(data, dict):
        raise OperationFailed(f"{what} {path}: a JSON object is expected")
    return data


def load_grille(path: Path) -> tuple[dict[str, Any], GrilleBody]:
    """A grille file as written (what is sent) and validated as the API will (so errors show before any call)."""
    data = read_object(path, "grille")
    try:
        return data, GrilleBody.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()[:10])
        more = f" (+{exc.error_count() - 10} more)" if exc.error_count() > 10 else ""
        raise OperationFailed(f"grille {path} is invalid: {problems}{more}") from None


def locate(path: Path) -> Path:
    """A default repository path (`deploy/...`), found from the working directory or one of its parents.

    So `palmares demo` works from a sub-directory of the checkout too; an
    explicit path given by the operator is never searched for.
    """
    if path.is_absolute() or path.exists():
        return path
    for parent in Path.cwd().resolve().parents:
        candidate = parent / path
        if candidate.exists():
            return candidate
    return path

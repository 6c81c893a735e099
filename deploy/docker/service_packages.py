"""Print the folders installed into a service's image: the service and the Palmarès packages it needs.

Usage: `python service_packages.py <repository root> <service>`. The closure is read from the
packages' own pyproject.toml files (`[project] dependencies`), so an image follows its service's
declared dependencies with no list to keep in step. Every `palmares-*` dependency must be a folder of
the repository: pip would otherwise look that name up on the package index. Hand-written because pip
cannot be told that a name is served by a local folder (constraints refuse paths and URLs) without
also naming every local package, which would install all of them into every image.
Runs in the image's build stage: standard library only.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PREFIX = "palmares-"
# The distribution name at the start of a PEP 508 requirement ("faststream[kafka]==0.7.8" → "faststream").
NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def project(folder: Path) -> dict[str, object]:
    with (folder / "pyproject.toml").open("rb") as file:
        table: dict[str, object] = tomllib.load(file)["project"]
    return table


def scripts(folder: Path) -> dict[str, str]:
    table = project(folder).get("scripts", {})
    return dict(table) if isinstance(table, dict) else {}


def local_packages(root: Path) -> dict[str, Path]:
    """The Palmarès packages of the repository by distribution name: contracts/ and services/*/."""
    folders = [root / "contracts", *sorted(p.parent for p in (root / "services").glob("*/pyproject.toml"))]
    return {normalized(str(project(folder)["name"])): folder for folder in folders if folder.is_dir()}


def closure(root: Path, service: str) -> list[Path]:
    """The service's folder and the folders of the Palmarès packages it depends on, transitively."""
    packages = local_packages(root)
    start = normalized(PREFIX + service)
    # A service is a package that runs: it declares the console script the image's entrypoint links to.
    runnable = sorted(name.removeprefix(PREFIX) for name, folder in packages.items() if name in scripts(folder))
    if service not in runnable:
        raise SystemExit(f"SERVICE={service!r} is not a service of the repository (one of: {', '.join(runnable)})")
    seen: dict[str, Path] = {}
    pending = [start]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        if name not in packages:
            raise SystemExit(f"{name}: a Palmarès dependency with no folder in the repository")
        seen[name] = packages[name]
        requirements = project(packages[name]).get("dependencies", [])
        for requirement in requirements if isinstance(requirements, list) else []:
            match = NAME.match(str(requirement))
            if match and normalized(match[1]).startswith(PREFIX):
                pending.append(normalized(match[1]))
    return sorted(seen.values())


def main(argv: list[str]) -> None:
    if len(argv) != 2 or not argv[1]:
        raise SystemExit("usage: service_packages.py <repository root> <service>  (build with --build-arg SERVICE=…)")
    root = Path(argv[0])
    print(" ".join(str(folder) for folder in closure(root, argv[1])))


if __name__ == "__main__":
    main(sys.argv[1:])

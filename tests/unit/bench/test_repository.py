"""The benchmark finds the repository by its content, wherever it runs from."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.repository import MARKERS, repository_root

REPO = Path(__file__).resolve().parents[3]


def test_the_repository_is_found_from_the_benchmark_package() -> None:
    assert repository_root() == REPO
    assert (repository_root() / "bench" / "repository.py").is_file()


def test_the_nearest_folder_with_every_marker_wins(tmp_path: Path) -> None:
    for marker in MARKERS:
        target = tmp_path / marker
        if target.suffix:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("", encoding="utf-8")
        else:
            target.mkdir(parents=True)
    deep = tmp_path / "bench" / "sub"
    deep.mkdir(parents=True)
    assert repository_root(deep / "module.py") == tmp_path
    # A folder with only some of the markers is not the repository.
    (deep / "pyproject.toml").write_text("", encoding="utf-8")
    assert repository_root(deep / "module.py") == tmp_path


def test_no_repository_is_an_error_that_says_what_was_looked_for(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"no Palmarès repository at or above .*deploy/grilles"):
        repository_root(tmp_path / "x.py")


def test_make_bench_entry_point_imports_and_parses_its_options() -> None:
    """`python -m bench --help`, as `make bench` runs it (no stack started)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--help"], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "--dossiers" in done.stdout

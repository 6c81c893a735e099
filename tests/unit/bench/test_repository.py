"""The benchmark finds the repository by its content (tools.repository), wherever it runs from."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench import bench

REPO = Path(__file__).resolve().parents[3]


def test_the_benchmark_reads_this_checkouts_grilles() -> None:
    assert bench.REPO == REPO
    assert (bench.GRILLES / "grille-2018.json").is_file()


def test_make_bench_entry_point_imports_and_parses_its_options() -> None:
    """`python -m bench --help`, as `make bench` runs it (no stack started)."""
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--help"], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "--dossiers" in done.stdout

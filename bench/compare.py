"""`--compare-commit REV`: the CPU per dossier of another commit, measured on this machine after this run.

Machines of the same kind differ by half (issue 16): a CPU figure alone says
little, its ratio to another commit measured on the same machine says what
changed. The other commit is checked out as a git worktree under /tmp with its
own venv (`make install` there; the Kafka jars come from this repository's
`.cache/`), and its own `make bench` runs the campaign phases on the same
sample (`--dossiers`, same seed; no latency phase, a short baseline). Its
report's CPU of the bulk phase, per dossier and per process, is read back.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

STACK_PROCESSES = ("submission", "scoring", "mentions", "notify", "kafka", "postgres", "smtp")


def worktree_for(repo: Path, rev: str) -> Path:
    """A worktree of `rev` under /tmp (reused when it is already there), its venv installed."""
    commit = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--verify", f"{rev}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    path = Path("/tmp") / f"palmares-compare-{commit[:12]}"
    if not (path / ".git").exists():
        subprocess.run(["git", "-C", str(repo), "worktree", "add", "--detach", str(path), commit], check=True)
    cache = path / ".cache"
    if not cache.exists():
        cache.symlink_to((repo / ".cache").resolve())
    subprocess.run(["make", "-C", str(path), "install"], check=True)
    return path


def bulk_cpu_ms_per_dossier(report: dict[str, Any]) -> dict[str, float]:
    """process → CPU ms per dossier over the bulk phase, and `stack` (every process of the stack)."""
    n = report["dossiers"]
    bulk = report.get("cpu_s_by_phase", {}).get("bulk", {})
    row = {name: round(bulk[name] * 1000 / n, 2) for name in STACK_PROCESSES if name in bulk}
    row["stack"] = round(sum(bulk[name] for name in STACK_PROCESSES if name in bulk) * 1000 / n, 2)
    return row


def measure(repo: Path, rev: str, dossiers: int, seed: int, out: Path) -> dict[str, Any]:
    """Run `rev`'s benchmark on the campaign phases; its commit, bulk CPU per dossier and main figures."""
    path = worktree_for(repo, rev)
    out.mkdir(parents=True, exist_ok=True)
    args = f"--latency-seconds 0 --baseline-messages 2000 --seed {seed} --out {out}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")}
    result = subprocess.run(
        ["make", "-C", str(path), "bench", f"DOSSIERS={dossiers}", f"BENCH_ARGS={args}"], env=env, check=False
    )
    report_path = out / "report.json"
    if not report_path.exists():
        raise RuntimeError(f"{rev}: its benchmark wrote no report (exit {result.returncode})")
    report = json.loads(report_path.read_text())
    return {
        "commit": report.get("git", {}).get("commit"),
        "rev": rev,
        "dossiers": report["dossiers"],
        "error": report.get("error"),
        "bulk_cpu_ms_per_dossier": bulk_cpu_ms_per_dossier(report),
        "pipeline_per_s": report.get("pipeline_per_s"),
        "regrade_s": report.get("regrade_s"),
        "emails_per_s": report.get("emails_per_s"),
        "report": str(report_path),
    }

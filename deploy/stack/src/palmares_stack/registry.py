"""Pid registry: one JSON file per started process under ``<state-dir>/pids/``.

``palmares_stack down`` stops exactly what ``up`` recorded here, by pid (and
start time, so a recycled pid is never signalled), nothing found by name.
The registry is generic: infrastructure and application services alike.
"""

from __future__ import annotations

import json
from pathlib import Path

from .process import ManagedProcess


class ProcessRegistry:
    """Records of processes started for one state directory."""

    def __init__(self, pids_dir: Path) -> None:
        self.pids_dir = Path(pids_dir)

    def _path(self, name: str) -> Path:
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"bad process name {name!r}")
        return self.pids_dir / f"{name}.json"

    def record(self, process: ManagedProcess) -> None:
        """Write (or overwrite) the record of ``process``, atomically."""
        self.pids_dir.mkdir(parents=True, exist_ok=True)
        path = self._path(process.name)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(process.to_record(), indent=2) + "\n")
        tmp.replace(path)

    def forget(self, name: str) -> None:
        """Remove the record of ``name`` (after it was stopped)."""
        self._path(name).unlink(missing_ok=True)

    def processes(self) -> list[ManagedProcess]:
        """Every recorded process, in start order."""
        if not self.pids_dir.is_dir():
            return []
        found = []
        for path in self.pids_dir.glob("*.json"):
            try:
                found.append(ManagedProcess.from_record(json.loads(path.read_text())))
            except (OSError, ValueError, KeyError):
                continue  # a torn or foreign file: ignore rather than guess a pid
        return sorted(found, key=lambda p: (p.started_at, p.name))

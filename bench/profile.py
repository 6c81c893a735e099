"""Flame graphs of the services, phase by phase (`--profile DIR`): py-spy attached to each service's pid.

One `py-spy record` per service and phase, stopped with SIGINT at the phase's
end (py-spy then writes its SVG): `DIR/<phase>-<service>.svg`. `--nonblocking`
reads the target's memory without pausing it, so the profile perturbs the
figures as little as a sampler can; py-spy's own CPU is not counted in any
service's (it is a process of its own). Idle time is left out: the graphs show
where each service spends CPU, the figure the issue's targets are about.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

RATE = 100  # samples per second: enough for a phase of a few seconds, cheap for py-spy itself


def py_spy() -> str:
    """The py-spy installed with the venv (requirements/dev.txt)."""
    beside = Path(sys.executable).with_name("py-spy")
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if found is None:
        raise RuntimeError("py-spy is not installed: run make install")
    return found


class Profiler:
    """Starts py-spy on every service at a phase's start, stops it at its end."""

    def __init__(self, out_dir: Path, pids: Mapping[str, int]) -> None:
        self.out_dir = out_dir
        self.pids = dict(pids)
        self.written: list[Path] = []

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        running: list[tuple[subprocess.Popen[bytes], Path]] = []
        for service, pid in self.pids.items():
            svg = self.out_dir / f"{name}-{service}.svg"
            command = [py_spy(), "record", "--nonblocking", "--rate", str(RATE), "--format", "flamegraph"]
            command += ["--output", str(svg), "--pid", str(pid)]
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            running.append((process, svg))
        try:
            yield
        finally:
            for process, _ in running:
                process.send_signal(signal.SIGINT)
            for process, svg in running:
                try:
                    _, err = process.communicate(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
                    err = b"py-spy did not stop within 60 s"
                if svg.exists():
                    self.written.append(svg)
                else:
                    print(f"no flame graph {svg.name}: {err.decode(errors='replace').strip()[-300:]}", file=sys.stderr)

"""CPU time and memory of the stack's processes, from /proc (Linux only).

A component is a process and its descendants (PostgreSQL: the postmaster and
its backends; a service: its single Python process). Its CPU time is utime +
stime of every live member plus cutime + cstime of the root (children that
exited and were reaped, e.g. a backend whose connection closed). Memory:
VmHWM (the kernel's peak RSS) of a single process; for PostgreSQL, whose
backends share their buffers, the sum of PSS (/proc/<pid>/smaps_rollup),
sampled, so shared pages are counted once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # Field 2 (comm) may hold spaces and parentheses: split after the last ')'.
    return raw[raw.rindex(")") + 2 :].split()


def cpu_ticks(pid: int, *, with_reaped: bool = False) -> int:
    """utime + stime of `pid` (+ cutime + cstime of its reaped children), in clock ticks; 0 if gone."""
    fields = _stat_fields(pid)
    if fields is None:
        return 0
    # After comm: state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
    ticks = int(fields[11]) + int(fields[12])
    if with_reaped:
        ticks += int(fields[13]) + int(fields[14])
    return ticks


def children(pid: int) -> list[int]:
    """Direct children of `pid` (every thread's list, /proc/<pid>/task/<tid>/children)."""
    found: list[int] = []
    try:
        tasks = list((PROC / str(pid) / "task").iterdir())
    except OSError:
        return found
    for task in tasks:
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def descendants(pid: int) -> list[int]:
    """`pid` and all its descendants."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo += children(current)
    return pids


def status_kb(pid: int, keys: tuple[str, ...] = ("VmRSS", "VmHWM")) -> dict[str, int]:
    """Selected `kB` fields of /proc/<pid>/status (absent when the process is gone)."""
    values: dict[str, int] = {}
    try:
        lines = (PROC / str(pid) / "status").read_text().splitlines()
    except OSError:
        return values
    for line in lines:
        key, _, rest = line.partition(":")
        if key in keys:
            values[key] = int(rest.split()[0])
    return values


def pss_kb(pid: int) -> int:
    """Proportional set size of `pid` in kB (0 when unknown)."""
    try:
        for line in (PROC / str(pid) / "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def machine_busy_ticks() -> int:
    """Busy clock ticks of all CPUs since boot, from the first line of /proc/stat."""
    values = [int(v) for v in (PROC / "stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    total = sum(values[:8])  # guest time is already counted in user
    return total - idle


def loadavg() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [float(v) for v in (PROC / "loadavg").read_text().split()[:3]]


@dataclass
class Component:
    """A named process tree to account for."""

    name: str
    pid: int
    tree: bool = False  # include descendants (PostgreSQL backends)
    pss: bool = False  # memory as summed PSS, sampled (shared buffers counted once)
    peak_rss_kb: int = 0
    last_ticks: int = 0

    def ticks(self) -> int:
        if not self.tree:
            ticks = cpu_ticks(self.pid, with_reaped=True)
        else:
            ticks = cpu_ticks(self.pid, with_reaped=True) + sum(cpu_ticks(p) for p in descendants(self.pid)[1:])
        # A member that exited between two reads is briefly counted nowhere: never go backwards.
        self.last_ticks = max(self.last_ticks, ticks)
        return self.last_ticks

    def sample_memory(self) -> int:
        if self.pss:
            kb = sum(pss_kb(p) for p in descendants(self.pid))
        else:
            status = status_kb(self.pid)
            kb = max(status.get("VmHWM", 0), status.get("VmRSS", 0))
        self.peak_rss_kb = max(self.peak_rss_kb, kb)
        return kb


@dataclass
class Snapshot:
    """CPU seconds of every component and of the whole machine at one instant."""

    at: float
    cpu_s: dict[str, float]
    machine_busy_s: float


@dataclass
class Sampler:
    """Samples the components' CPU and memory; marks phase boundaries."""

    components: list[Component]
    samples: list[tuple[float, dict[str, float]]] = field(default_factory=list)
    marks: dict[str, Snapshot] = field(default_factory=dict)

    def snapshot(self) -> Snapshot:
        busy = machine_busy_ticks()
        # The benchmark's own process and its children (the baseline relay) count as "client".
        own = os.times()
        cpu = {c.name: c.ticks() / CLOCK_TICKS for c in self.components}
        cpu["client"] = own.user + own.system + own.children_user + own.children_system
        return Snapshot(time.time(), cpu, busy / CLOCK_TICKS)

    def sample(self) -> None:
        """One point of the CPU time series, and the memory peaks."""
        for component in self.components:
            component.sample_memory()
        snap = self.snapshot()
        self.samples.append((snap.at, {**snap.cpu_s, "machine_busy": snap.machine_busy_s}))

    def mark(self, name: str) -> Snapshot:
        snap = self.snapshot()
        self.marks[name] = snap
        return snap

    def peak_rss_mb(self) -> dict[str, float]:
        """The highest memory seen by `sample` (call it once more before the processes stop)."""
        return {c.name: round(c.peak_rss_kb / 1024, 1) for c in self.components}


def cpu_between(start: Snapshot, end: Snapshot) -> dict[str, float]:
    """CPU seconds used by each component between two snapshots, plus the machine's and others' share.

    `machine_busy` is every core's busy time; `others` is what is left after
    our components and the benchmark client: other users of the machine.
    """
    used = {name: round(end.cpu_s[name] - start.cpu_s.get(name, 0.0), 2) for name in end.cpu_s}
    busy = end.machine_busy_s - start.machine_busy_s
    used["machine_busy"] = round(busy, 2)
    used["others"] = round(max(0.0, busy - sum(v for k, v in used.items() if k != "machine_busy")), 2)
    used["wall"] = round(end.at - start.at, 2)
    return used


def add_up(parts: Mapping[str, Mapping[str, float]], phases: tuple[str, ...]) -> dict[str, float]:
    """Sum the per-component CPU of several phases."""
    total: dict[str, float] = {}
    for phase in phases:
        for name, value in parts.get(phase, {}).items():
            total[name] = round(total.get(name, 0.0) + value, 2)
    return total

"""CPU time and memory of the stack's processes, read with psutil.

A component is a process and its descendants (PostgreSQL: the postmaster and
its backends; a service: its single Python process). Its CPU time is user +
system of every live member plus the children's user + system of the root
(children that exited and were reaped, e.g. a backend whose connection
closed). Memory: the RSS of a single process; for PostgreSQL, whose backends
share their buffers, the sum of PSS, so shared pages are counted once. Both
are sampled (every second, and at each phase boundary): the peak is the
highest sample.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import psutil


def cpu_seconds(pid: int, *, with_reaped: bool = False) -> float:
    """user + system CPU seconds of `pid` (+ those of its reaped children); 0 if gone."""
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    seconds = times.user + times.system
    if with_reaped:
        seconds += times.children_user + times.children_system
    return float(seconds)


def descendants(pid: int) -> list[int]:
    """`pid` and all its descendants (empty when `pid` is gone)."""
    try:
        root = psutil.Process(pid)
        return [pid, *(child.pid for child in root.children(recursive=True))]
    except psutil.Error:
        return []


def rss_kb(pid: int) -> int:
    """Resident set size of `pid` in kB (0 when it is gone)."""
    try:
        return int(psutil.Process(pid).memory_info().rss) // 1024
    except psutil.Error:
        return 0


def pss_kb(pid: int) -> int:
    """Proportional set size of `pid` in kB (0 when unknown)."""
    try:
        return int(psutil.Process(pid).memory_full_info().pss) // 1024
    except psutil.Error:
        return 0


def machine_busy_seconds() -> float:
    """Busy CPU seconds of all cores since boot (everything but idle and iowait; guest is inside user)."""
    times = psutil.cpu_times()
    total = sum(
        getattr(times, name, 0.0) for name in ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
    )
    return float(total - times.idle - getattr(times, "iowait", 0.0))


def loadavg() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [float(v) for v in psutil.getloadavg()]


@dataclass
class Component:
    """A named process tree to account for."""

    name: str
    pid: int
    tree: bool = False  # include descendants (PostgreSQL backends)
    pss: bool = False  # memory as summed PSS, sampled (shared buffers counted once)
    replicas: tuple[int, ...] = ()  # other processes of the same service (`--replicas`): CPU added up
    peak_rss_kb: int = 0
    last_cpu_s: float = 0.0

    def cpu_s(self) -> float:
        seconds = sum(cpu_seconds(pid, with_reaped=True) for pid in (self.pid, *self.replicas))
        if self.tree:
            seconds += sum(cpu_seconds(p) for p in descendants(self.pid)[1:])
        # A member that exited between two reads is briefly counted nowhere: never go backwards.
        self.last_cpu_s = max(self.last_cpu_s, seconds)
        return self.last_cpu_s

    def sample_memory(self) -> int:
        """Memory now (kB); with replicas, that of the largest process: the limit is per process."""
        if self.pss:
            kb = sum(pss_kb(p) for p in descendants(self.pid))
        else:
            kb = max(rss_kb(pid) for pid in (self.pid, *self.replicas))
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
    memory: list[tuple[float, dict[str, int]]] = field(default_factory=list)  # (time, kB of each component)

    def snapshot(self) -> Snapshot:
        busy = machine_busy_seconds()
        # The benchmark's own process and its children (the baseline relay) count as "client".
        own = os.times()
        cpu = {c.name: c.cpu_s() for c in self.components}
        cpu["client"] = own.user + own.system + own.children_user + own.children_system
        return Snapshot(time.time(), cpu, busy)

    def sample(self) -> None:
        """One point of the CPU time series, and the memory peaks."""
        kb = {component.name: component.sample_memory() for component in self.components}
        snap = self.snapshot()
        self.memory.append((snap.at, kb))
        self.samples.append((snap.at, {**snap.cpu_s, "machine_busy": snap.machine_busy_s}))

    def mark(self, name: str) -> Snapshot:
        snap = self.snapshot()
        self.marks[name] = snap
        return snap

    def peak_rss_mb(self) -> dict[str, float]:
        """The highest memory seen by `sample` (call it once more before the processes stop)."""
        return {c.name: round(c.peak_rss_kb / 1024, 1) for c in self.components}

    def peak_rss_mb_by_phase(self) -> dict[str, dict[str, float]]:
        """The highest memory `sample` saw in each phase (between a mark and the next, named after the next),
        by component: where a service's peak comes from."""
        names = list(self.marks)
        out: dict[str, dict[str, float]] = {}
        for begin, end in itertools.pairwise(names):
            start, stop = self.marks[begin].at, self.marks[end].at
            seen = [kb for at, kb in self.memory if start <= at <= stop]
            out[end] = {
                c.name: round(max((k.get(c.name, 0) for k in seen), default=0) / 1024, 1) for c in self.components
            }
        return out


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

"""The benchmark's chart (PNG, matplotlib's Agg backend: no display needed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

from bench.stats import per_second


@dataclass
class Series:
    """Event times (epoch seconds) of the run, for the chart."""

    origin: float
    submitted: list[float] = field(default_factory=list)
    evaluated: list[float] = field(default_factory=list)
    latency_sent: list[float] = field(default_factory=list)
    latency_evaluated: list[float] = field(default_factory=list)
    regraded: list[float] = field(default_factory=list)
    emails: list[float] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    cpu: list[tuple[float, dict[str, float]]] = field(default_factory=list)
    phases: list[tuple[str, float, float]] = field(default_factory=list)  # name, start, end (epoch)


def _throughput(ax: Any, series: Series) -> None:
    curves = (
        ("submissions (bulk POST)", series.submitted, "tab:blue"),
        ("evaluated (bulk)", series.evaluated, "tab:green"),
        ("submissions at 100/s", series.latency_sent, "tab:cyan"),
        ("evaluated at 100/s", series.latency_evaluated, "tab:olive"),
        ("re-evaluated (grille v2)", series.regraded, "tab:orange"),
        ("award emails", series.emails, "tab:red"),
    )
    for label, times, color in curves:
        if times:
            rates = per_second(times, series.origin)
            ax.plot(range(len(rates)), rates, label=label, color=color, linewidth=1)
    for i, (name, start, end) in enumerate(series.phases):
        ax.axvspan(start - series.origin, end - series.origin, color="grey", alpha=0.08 if i % 2 else 0.16, lw=0)
        ax.text(
            start - series.origin,
            0.98,
            f" {name}",
            transform=ax.get_xaxis_transform(),
            fontsize=7,
            va="top",
            rotation=90,
        )
    ax.set_title("Throughput per second over the run")
    ax.set_xlabel("seconds since the first registration")
    ax.set_ylabel("per second")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=3)


def _latency(ax: Any, series: Series, latency: Mapping[str, Any], offered: float) -> None:
    if series.latencies_ms:
        ax.hist(series.latencies_ms, bins=60, color="tab:olive")
        for key, style in (("p50", ":"), ("p95", "--"), ("p99", "-")):
            if key in latency:
                ax.axvline(
                    latency[key], color="black", linestyle=style, linewidth=1, label=f"{key} {latency[key]:.0f} ms"
                )
        ax.legend(fontsize=8)
    ax.set_title(f"POST → evaluated at {offered:g} dossiers/s offered")
    ax.set_xlabel("milliseconds")
    ax.set_ylabel("dossiers")


def _cpu(ax: Any, series: Series, names: Sequence[str]) -> None:
    times = [t for t, _ in series.cpu]
    # What the machine's cores did that is neither the stack nor this benchmark: other users.
    ours = [*names, "client"]
    others = [cpu.get("machine_busy", 0.0) - sum(cpu.get(n, 0.0) for n in ours) for _, cpu in series.cpu]
    for name in (*ours, "others"):
        values = others if name == "others" else [cpu.get(name, 0.0) for _, cpu in series.cpu]
        if len(times) < 2:
            continue
        xs, ys = [], []
        for i in range(1, len(times)):
            dt = times[i] - times[i - 1]
            if dt > 0:
                xs.append(times[i] - series.origin)
                # max(0, …): a child's CPU is counted when it is reaped, which can make "others" dip.
                ys.append(max(0.0, 100 * (values[i] - values[i - 1]) / dt))
        ax.plot(xs, ys, label=name, linewidth=1, linestyle=":" if name in ("client", "others") else "-")
    ax.set_title("CPU per process (100 % = one core; client = this benchmark, others = other programs)")
    ax.set_xlabel("seconds since the first registration")
    ax.set_ylabel("% of a core")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=5)


def _ratios(ax: Any, ratios: Mapping[str, float | None], baseline: float | None) -> None:
    names = [k for k, v in ratios.items() if v is not None]
    values = [float(ratios[k] or 0.0) for k in names]
    bars = ax.barh(names, values, color="tab:purple")
    ax.bar_label(bars, labels=[f"{v:.3f}" for v in values], fontsize=8)
    ax.set_title(f"Throughput / raw Kafka baseline ({baseline or 0:.0f} msg/s)")
    ax.set_xlabel("ratio")


def draw(path: Path, series: Series, report: Mapping[str, Any], cpu_names: Sequence[str]) -> None:
    """Four panels: throughput over time, latency histogram, CPU per process, ratios to the baseline."""
    fig, axes = plt.subplots(2, 2, figsize=(15, 10))
    _throughput(axes[0][0], series)
    _latency(axes[0][1], series, report.get("latency_ms", {}), report.get("config", {}).get("latency_rate", 100))
    _cpu(axes[1][0], series, cpu_names)
    _ratios(axes[1][1], report.get("ratios_to_baseline", {}), report.get("baseline_per_s"))
    fig.suptitle(
        f"Palmarès benchmark: {report.get('dossiers')} dossiers, load average "
        f"{report.get('machine', {}).get('loadavg_start')} → {report.get('machine', {}).get('loadavg_end')}"
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)

"""Pure helpers of the benchmark: percentiles, rates over time, targets, the report's schema."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


def percentile(values: Sequence[float], q: float) -> float:
    """The `q`-th percentile (0–100) with linear interpolation between ranks (numpy's default)."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} outside 0–100")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary_ms(values_s: Sequence[float]) -> dict[str, float | int]:
    """p50/p95/p99/max/mean in milliseconds (rounded to 0.1 ms) of durations given in seconds."""
    if not values_s:
        return {"count": 0}
    ms = [v * 1000 for v in values_s]
    return {
        "p50": round(percentile(ms, 50), 1),
        "p95": round(percentile(ms, 95), 1),
        "p99": round(percentile(ms, 99), 1),
        "max": round(max(ms), 1),
        "mean": round(sum(ms) / len(ms), 1),
        "count": len(ms),
    }


def rate(count: int, seconds: float) -> float | None:
    """`count / seconds`, None when the duration is not positive."""
    return round(count / seconds, 1) if seconds > 0 else None


def sustained_rate(times: Sequence[float], low: float = 0.1, high: float = 0.9) -> float | None:
    """Events per second between the `low` and `high` quantiles of their times (ramp-up and tail left out)."""
    if len(times) < 10:
        return None
    ordered = sorted(times)
    i, j = int(low * (len(ordered) - 1)), int(high * (len(ordered) - 1))
    return rate(j - i, ordered[j] - ordered[i])


def per_second(times: Sequence[float], origin: float, bin_s: float = 1.0) -> list[float]:
    """Events per second in consecutive bins of `bin_s` seconds from `origin` (for charts)."""
    if not times:
        return []
    bins = [0] * (int((max(times) - origin) // bin_s) + 1)
    for t in times:
        if t >= origin:
            bins[int((t - origin) // bin_s)] += 1
    return [count / bin_s for count in bins]


@dataclass(frozen=True)
class Target:
    """A target of issue 16 and the report figure it applies to.

    Machines differ, so a target may also be given as a ratio (to the raw
    Kafka relay of the same run, or to another commit measured on the same
    machine): when the report has that ratio, the ratio decides.
    """

    name: str
    figure: str  # dotted path in the report
    op: str  # "<=", "<" or ">="
    threshold: float
    unit: str
    ratio: str | None = None  # dotted path of the ratio in the report
    ratio_op: str = ">="
    ratio_threshold: float = 0.0

    @staticmethod
    def holds(value: float | None, op: str, threshold: float) -> bool | None:
        if value is None:
            return None
        return {"<=": value <= threshold, "<": value < threshold, ">=": value >= threshold}[op]

    def check(self, value: float | None, ratio: float | None = None) -> str:
        by_ratio = self.holds(ratio, self.ratio_op, self.ratio_threshold) if self.ratio else None
        ok = by_ratio if by_ratio is not None else self.holds(value, self.op, self.threshold)
        return "PASS" if ok else "MISS"


TARGETS = (
    Target(
        "CPU per dossier, bulk phase, whole stack",
        "cpu_ms_per_dossier.bulk.stack",
        "<=",
        8,
        "ms",
        ratio="compare.cpu_ratio",
        ratio_op="<=",
        ratio_threshold=0.36,
    ),
    Target(
        "pipeline: dossiers evaluated",
        "pipeline_per_s",
        ">=",
        250,
        "/s",
        ratio="ratios_to_baseline.pipeline",
        ratio_threshold=0.055,
    ),
    Target("campaign evaluated after the last submission", "drain_after_last_submission_s", "<=", 120, "s"),
    Target(
        "re-evaluation after a grille update",
        "regrade_s",
        "<=",
        30,
        "s",
        ratio="ratios_to_baseline.regrade",
        ratio_threshold=0.26,
    ),
    Target(
        "award emails into the SMTP capture",
        "emails_per_s",
        ">=",
        400,
        "/s",
        ratio="ratios_to_baseline.emails",
        ratio_threshold=0.086,
    ),
    Target("first award email after the publication", "emails_first_after_s", "<=", 2, "s"),
    Target("p99 POST → evaluated at 100 dossiers/s", "latency_ms.p99", "<=", 1000, "ms"),
    Target("peak RSS of a service", "peak_service_rss_mb", "<", 250, "MB"),
)


def lookup(report: Mapping[str, Any], path: str) -> Any:
    """`lookup(report, "latency_ms.p99")`; None when any part is missing."""
    value: Any = report
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def check_targets(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each target with the measured value, its ratio, and PASS or MISS (a missing figure is a MISS)."""
    rows = []
    for target in TARGETS:
        value = lookup(report, target.figure)
        ratio = lookup(report, target.ratio) if target.ratio else None
        goal = f"{target.op} {target.threshold:g} {target.unit}"
        if target.ratio:
            goal += f" (ratio {target.ratio_op} {target.ratio_threshold:g} decides)"
        rows.append(
            {
                "target": target.name,
                "figure": target.figure,
                "goal": goal,
                "value": value,
                "ratio": ratio,
                "result": target.check(value, ratio),
            }
        )
    return rows


SERVICES = ("submission", "scoring", "mentions", "notify")

# The keys issue 7 requires in .run/bench/report.json (dotted paths), and those this benchmark adds.
REQUIRED_KEYS = (
    "dossiers",
    "intake_per_s",
    "pipeline_per_s",
    "drain_after_last_submission_s",
    "latency_ms.p50",
    "latency_ms.p95",
    "latency_ms.p99",
    "regrade_s",
    "emails_per_s",
    "baseline_per_s",
    "ratio_pipeline_to_baseline",
    "ratios_to_baseline",
    "targets",
    "machine.loadavg_start",
    "machine.loadavg_end",
    *(f"services.{s}.{k}" for s in SERVICES for k in ("cpu_s_per_1000", "peak_rss_mb")),
)


def missing_keys(report: Mapping[str, Any]) -> list[str]:
    """The required keys absent from `report` (a key present with the value None counts as present)."""
    missing = []
    for path in REQUIRED_KEYS:
        node: Any = report
        for part in path.split("."):
            if not isinstance(node, Mapping) or part not in node:
                missing.append(path)
                break
            node = node[part]
    return missing

"""Small helpers shared by the benchmarks: percentiles and a uniform report line."""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def report(name: str, samples_ms: list[float], baseline_ms: list[float] | None = None,
           target: str = "", baseline_name: str = "baseline") -> dict[str, float]:
    p50, p99 = statistics.median(samples_ms), percentile(samples_ms, 99)
    line = f"{name}: n={len(samples_ms)} p50={p50:.2f} ms p99={p99:.2f} ms"
    figures = {"p50_ms": p50, "p99_ms": p99}
    if baseline_ms:
        b50 = statistics.median(baseline_ms)
        figures["ratio"] = p50 / b50 if b50 else float("inf")
        line += f" | {baseline_name} p50={b50:.3f} ms, ratio {figures['ratio']:.1f}x"
    if target:
        line += f" | target {target}"
    print(line)
    return figures



"""Sweep throughput: trials per minute with one worker, then with two, on the same study.

A synthetic recording (bench/_recording.py) and one study in a temporary sweeps file: the
first N trials run with `--jobs 1` (the baseline), the next N of the same study with
`--jobs 2`. Printed: each phase's trial time (median, p99 of the trials' own durations) and
trials per minute over the phase's wall time (worker start-up included), their ratio, and
the largest peak RSS of any worker. Target: >= 1.7x on 2 cores, each worker <= 250 MB.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from _common import report
from _recording import write_recording

from engine.backtest.sweep import open_study, run_sweep, sweeps_url
from engine.backtest.sweep_spec import SweepSpec, parse_space

SPACE = {"half_spread": [0.005, 0.03], "size": [5, 40, "int"]}
TARGET_RATIO, TARGET_RSS_MB = 1.7, 250


def phase(spec: SweepSpec, path: Path, jobs: int, work: Path) -> tuple[float, list[float]]:
    """Wall seconds to bring the study to `spec.trials`, and the new trials' durations (ms)."""
    url = sweeps_url(path)
    before = {t.number for t in open_study(spec, url).trials}
    began = time.perf_counter()
    run_sweep(spec, url, path, jobs=jobs, work_root=work)
    wall = time.perf_counter() - began
    new = [t for t in open_study(spec, url).trials if t.number not in before and t.datetime_complete]
    return wall, [(t.datetime_complete - t.datetime_start).total_seconds() * 1000 for t in new]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=24, help="trials per phase (default 24)")
    parser.add_argument("--events", type=int, default=30_000, help="market events in the recording")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trader.db"
        markets, start, end = write_recording(path, markets=3, events=args.events, events_per_decision=50)
        os.environ.update({"TRADER_DB": str(path), "TRADER_ENV_FILE": os.devnull})
        spec = SweepSpec("bench", "market_making", parse_space(SPACE, "market_making"), start, end,
                         {"max_spread": 0.5}, tuple(sorted(markets)), trials=args.trials, objective="return", seed=1)
        one_wall, one = phase(spec, path, 1, Path(tmp) / "work")
        two_wall, two = phase(SweepSpec(**{**spec.__dict__, "trials": 2 * args.trials}), path, 2, Path(tmp) / "work")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    report("sweep trial, 2 workers", two, one, target=f">= {TARGET_RATIO}x trials/min", baseline_name="1 worker")
    one_rate, two_rate = len(one) * 60 / one_wall, len(two) * 60 / two_wall
    print(f"    1 worker: {len(one)} trials in {one_wall:.1f} s = {one_rate:.1f} trials/min | 2 workers: {len(two)} "
          f"trials in {two_wall:.1f} s = {two_rate:.1f} trials/min | ratio {two_rate / one_rate:.2f}x "
          f"(target >= {TARGET_RATIO}x) | largest worker peak RSS {peak_mb:,.0f} MB (target <= {TARGET_RSS_MB})")


if __name__ == "__main__":
    main()

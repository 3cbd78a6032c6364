"""Sweep throughput: trials per minute with one worker and with two, on the same study.

A synthetic recording (bench/_recording.py) and one study in a temporary sweeps file. The
study grows in rounds that alternate `--jobs 1` (the baseline) and `--jobs 2`, N trials each,
so that a change in the machine's load (it is shared) falls on both sides. Printed: the trial
time (median, p99 of the trials' own durations) with two workers against one, trials per
minute over each phase's wall time (worker start-up included), the ratio per round and
overall, the load average around each phase, the workers' CPU seconds per trial (equal with
one and two workers when nothing serializes them), and the largest peak RSS of any worker.
Target: >= 1.7x on 2 cores, each worker <= 250 MB.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from _common import report
from _recording import write_recording

from engine.backtest.sweep import open_study, run_sweep, sweeps_url
from engine.contracts.sweep_spec import SweepSpec, parse_space

SPACE = {"half_spread": [0.005, 0.03], "size": [5, 40, "int"]}
TARGET_RATIO, TARGET_RSS_MB = 1.7, 250


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def phase(spec: SweepSpec, path: Path, jobs: int, work: Path) -> tuple[float, float, list[float]]:
    """Wall seconds to bring the study to `spec.trials`, the workers' CPU seconds, and the new
    trials' durations (ms)."""
    url = sweeps_url(path)
    before = {t.number for t in open_study(spec, url).trials}
    began, cpu = time.perf_counter(), _children_cpu()
    run_sweep(spec, url, path, jobs=jobs, work_root=work)
    wall, cpu = time.perf_counter() - began, _children_cpu() - cpu
    new = [t for t in open_study(spec, url).trials if t.number not in before and t.datetime_complete
           and t.state.name == "COMPLETE"]
    return wall, cpu, [(t.datetime_complete - t.datetime_start).total_seconds() * 1000 for t in new]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=24, help="trials per phase (default 24)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of one 1-worker and one 2-worker phase")
    parser.add_argument("--events", type=int, default=30_000, help="market events in the recording")
    args = parser.parse_args()
    ones: list[float] = []
    twos: list[float] = []
    walls = {1: 0.0, 2: 0.0}
    counts = {1: 0, 2: 0}
    cpus = {1: 0.0, 2: 0.0}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trader.db"
        markets, start, end = write_recording(path, markets=3, events=args.events, events_per_decision=50)
        os.environ.update({"TRADER_DB": str(path), "TRADER_ENV_FILE": os.devnull})
        spec = SweepSpec("bench", "market_making", parse_space(SPACE, "market_making"), start, end,
                         {"max_spread": 0.5}, tuple(sorted(markets)), trials=0, objective="return", seed=1)
        total = 0
        for round_ in range(1, args.rounds + 1):
            rates = {}
            for jobs in (1, 2):
                total += args.trials
                load = os.getloadavg()[0]
                wall, cpu, samples = phase(replace(spec, trials=total), path, jobs, Path(tmp) / "work")
                cpus[jobs] += cpu
                (ones if jobs == 1 else twos).extend(samples)
                walls[jobs] += wall
                counts[jobs] += len(samples)
                rates[jobs] = len(samples) * 60 / wall
                print(f"    round {round_}, {jobs} worker{'s' if jobs > 1 else ''}: {len(samples)} trials in "
                      f"{wall:.1f} s = {rates[jobs]:.1f} trials/min, {cpu / max(1, len(samples)):.2f} CPU s a "
                      f"trial (load average {load:.2f} -> {os.getloadavg()[0]:.2f})")
            print(f"    round {round_} ratio {rates[2] / rates[1]:.2f}x")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    report("sweep trial, 2 workers", twos, ones, target=f">= {TARGET_RATIO}x trials/min", baseline_name="1 worker")
    one_rate, two_rate = counts[1] * 60 / walls[1], counts[2] * 60 / walls[2]
    print(f"    overall: 1 worker {one_rate:.1f} trials/min, 2 workers {two_rate:.1f} trials/min, ratio "
          f"{two_rate / one_rate:.2f}x (target >= {TARGET_RATIO}x) | CPU a trial (workers, start-up included): "
          f"{cpus[1] / counts[1]:.2f} s with 1 worker, {cpus[2] / counts[2]:.2f} s with 2 (the difference is the "
          f"second worker's own start-up: nothing serializes them, so a ratio below 2x is start-up and cores "
          f"taken by other programs) | largest worker peak RSS {peak_mb:,.0f} MB "
          f"(target <= {TARGET_RSS_MB})")


if __name__ == "__main__":
    main()

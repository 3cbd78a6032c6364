"""Sweep throughput: trials per minute with one worker and with two, on the same study.

A synthetic recording (bench/_recording.py) and one study in a temporary sweeps file. The
study grows in rounds that alternate `--jobs 1` (the baseline) and `--jobs 2`, 50 trials each
(the default sweep's size: with fewer, the last trial of a phase, run while the other worker
has none left, weighs more), so that a change in the machine's load falls on both sides. Printed: the trial
time (median, p99 of the trials' own durations) with two workers against one, trials per
minute over each phase's wall time (worker start-up included), the ratio per round and
overall, the load average around each phase and how many cores other programs took meanwhile
(the machine's busy time from /proc/stat less this process's and its workers'), the workers'
CPU seconds per trial (equal with one and two workers when nothing serializes them), and the
largest peak RSS of any worker. The workers are started as `engine sweep` starts them (forked
from the sweep process, which has imported the trading core and Optuna already).
Target: >= 1.7x on 2 cores, each worker <= 250 MB.
On a shared machine the ratio measures the other programs as much as the sweep: when they take
most of a core during the two-worker phases it falls far below 1.7x. Read the cores-taken line
beside it, or give the bench's shell the CPU first (as root: `echo -20 > /proc/$$/autogroup`).
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from _common import report
from _recording import write_recording

from contracts.sweep_spec import SweepSpec, parse_space
from engine.backtest.sweep import open_study, run_sweep, sweeps_url

SPACE = {"half_spread": [0.005, 0.03], "size": [5, 40, "int"]}
TARGET_RATIO, TARGET_RSS_MB = 1.7, 250


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _own_cpu() -> float:
    """CPU seconds of this process and its finished children (the sweep's workers)."""
    return sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))


def _machine_busy() -> float | None:
    """CPU seconds every program on the machine has used since boot (Linux /proc/stat), or None."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class OtherLoad:
    """How many cores other programs took while a phase ran: the machine's busy time less ours."""

    def __init__(self) -> None:
        self.busy, self.ours, self.began = _machine_busy(), _own_cpu(), time.perf_counter()

    def cores(self) -> float | None:
        busy = _machine_busy()
        if busy is None or self.busy is None:
            return None
        return max(0.0, (busy - self.busy) - (_own_cpu() - self.ours)) / (time.perf_counter() - self.began)


def phase(spec: SweepSpec, path: Path, jobs: int, work: Path) -> tuple[float, float, list[float]]:
    """Wall seconds to bring the study to `spec.trials`, the workers' CPU seconds, and the new
    trials' durations (ms)."""
    url = sweeps_url(path)
    before = {t.number for t in open_study(spec, url).trials}
    began, cpu = time.perf_counter(), _children_cpu()
    run_sweep(spec, url, path, jobs=jobs, work_root=work)
    wall, cpu = time.perf_counter() - began, _children_cpu() - cpu
    spans = [(t.datetime_start, t.datetime_complete) for t in open_study(spec, url).trials
             if t.number not in before and t.state.name == "COMPLETE"]
    return wall, cpu, [(end - start).total_seconds() * 1000 for start, end in spans if start and end]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=50,
                        help="trials per phase (default 50, the size of `engine sweep`'s default sweep)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of one 1-worker and one 2-worker phase")
    parser.add_argument("--events", type=int, default=30_000, help="market events in the recording")
    args = parser.parse_args()
    ones: list[float] = []
    twos: list[float] = []
    walls = {1: 0.0, 2: 0.0}
    counts = {1: 0, 2: 0}
    cpus = {1: 0.0, 2: 0.0}
    other_cores: list[float] = []
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
                load, others = os.getloadavg()[0], OtherLoad()
                wall, cpu, samples = phase(replace(spec, trials=total), path, jobs, Path(tmp) / "work")
                taken = others.cores()
                other_cores.append(taken if taken is not None else math.nan)
                cpus[jobs] += cpu
                (ones if jobs == 1 else twos).extend(samples)
                walls[jobs] += wall
                counts[jobs] += len(samples)
                rates[jobs] = len(samples) * 60 / wall
                print(f"    round {round_}, {jobs} worker{'s' if jobs > 1 else ''}: {len(samples)} trials in "
                      f"{wall:.1f} s = {rates[jobs]:.1f} trials/min, {cpu / max(1, len(samples)):.2f} CPU s a "
                      f"trial (load average {load:.2f} -> {os.getloadavg()[0]:.2f}; other programs took "
                      f"{taken if taken is not None else math.nan:.2f} of {os.cpu_count()} cores)")
            print(f"    round {round_} ratio {rates[2] / rates[1]:.2f}x")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    report("sweep trial, 2 workers", twos, ones, target=f">= {TARGET_RATIO}x trials/min", baseline_name="1 worker")
    one_rate, two_rate = counts[1] * 60 / walls[1], counts[2] * 60 / walls[2]
    print(f"    overall: 1 worker {one_rate:.1f} trials/min, 2 workers {two_rate:.1f} trials/min, ratio "
          f"{two_rate / one_rate:.2f}x (target >= {TARGET_RATIO}x) | CPU a trial (workers, start-up included): "
          f"{cpus[1] / counts[1]:.2f} s with 1 worker, {cpus[2] / counts[2]:.2f} s with 2 (nothing in the sweep "
          f"serializes the workers: below 2x is the last trial of a phase, run while the other worker has none "
          f"left, two workers sharing caches, and cores taken by other programs) | largest worker peak RSS "
          f"{peak_mb:,.0f} MB "
          f"(target <= {TARGET_RSS_MB}) | other programs took {statistics.fmean(other_cores):.2f} of "
          f"{os.cpu_count()} cores on average (a ratio of 2x needs both cores free)")


if __name__ == "__main__":
    main()

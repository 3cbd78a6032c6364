"""How many sweep workers this machine takes: one per core it may use, and no more than its
free memory holds with room to spare for the engine and the dashboard. A typo in `--jobs`
(or the Sweep tab's worker count) must not starve a live desk on a small VPS.

Shared by the CLI (which refuses more) and the dashboard (whose form stops there)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

WORKER_MB = 250  # a worker's peak memory: one backtest at a time (bench/sweep.py measures ~190 MB)
MEMORY_SHARE = 0.75  # of the memory available now: the rest stays free for everything else


@dataclass(frozen=True)
class WorkerBudget:
    cores: int
    available_mb: int | None  # None where the system does not say
    most: int  # workers allowed: at least 1

    def why(self) -> str:
        memory = (f"; {self.available_mb:,} MB of memory available and each worker needs up to {WORKER_MB} MB"
                  if self.available_mb is not None else "")
        return f"{self.cores} core{'s' if self.cores != 1 else ''} to use{memory}"


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity, and a container's CPU quota)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    quota = _cgroup_cpu_quota()
    return max(1, min(cores, quota) if quota else cores)


def _cgroup_cpu_quota() -> int | None:
    """A cgroup v2 CPU limit (`cpu.max`: "quota period", or "max"), rounded up to whole cores."""
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        return None if quota == "max" else max(1, -(-int(quota) // int(period)))
    except (OSError, ValueError):
        return None


def available_mb() -> int | None:
    """MemAvailable from /proc/meminfo (Linux), in MB; None elsewhere."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def worker_budget(cores: int | None = None, memory_mb: int | None = -1) -> WorkerBudget:
    """The machine's budget (arguments stand in for the machine in tests: memory_mb None means
    unknown, -1 means read it)."""
    cores = usable_cores() if cores is None else cores
    memory = available_mb() if memory_mb == -1 else memory_mb
    most = cores if memory is None else min(cores, int(memory * MEMORY_SHARE) // WORKER_MB)
    return WorkerBudget(cores, memory, max(1, most))


def check_jobs(jobs: int, budget: WorkerBudget | None = None) -> str:
    """"" if `jobs` workers fit the budget, else what is wrong (for the CLI and the form)."""
    budget = budget or worker_budget()
    if jobs < 1:
        return "--jobs: at least 1 worker"
    if jobs > budget.most:
        return (f"--jobs {jobs}: at most {budget.most} worker{'s' if budget.most != 1 else ''} on this machine "
                f"({budget.why()})")
    return ""

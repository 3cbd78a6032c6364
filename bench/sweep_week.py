"""What a sweep over a week of imported history costs: 100 trials on one market, two workers.

Builds a week of hourly files in the PMXT archive's v2 layout (bench/pmxt_import.py's market at
the density of a busy archive market, ~1,100 rows an hour, among OTHERS rows of other markets),
imports that market as one session, then runs `engine sweep --session` on it as a user would
(its own process, `--jobs 2`, the study in the sweeps file beside the database). Printed: the
import's time, the sweep's wall, each trial's backtest time (median, p99), and the checks the
research issue asks of it: exactly the trials asked, no parameter set backtested twice, none
failed by a crash. With fewer trials than 100 (the default, 10, takes ~20 minutes on 2 cores;
`make bench` runs that) it also prints what 100 would take on this machine at the trials'
measured pace; `--trials 100` runs them all (~3 hours on 2 cores).

    .venv/bin/python bench/sweep_week.py [--trials 10] [--days 7] [--jobs 2] [--others 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from _common import ROOT
from pmxt_import import DAY0, build_day, market

from engine.marketdata.pmxt_import import import_pmxt
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

SPACE = {"half_spread": [0.005, 0.03], "size": [5, 40, "int"]}
SESSION = "pmxt week"
STUDY = "week"


def build_week(folder: Path, days: int, others: int) -> None:
    for day in range(days):
        build_day(folder, others, 1, DAY0 + timedelta(days=day))
        print(f"    archive day {day + 1}/{days} written", flush=True)


def sweep(db: Path, trials: int, jobs: int) -> float:
    """`engine sweep` on the imported session, its progress on this terminal; its wall seconds."""
    env = {**os.environ, "TRADER_DB": str(db), "TRADER_ENV_FILE": os.devnull, "DATA_SOURCE": "simulator"}
    env.pop("PYTHONPATH", None)
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "engine", "sweep", "--strategy", "market_making", "--session", SESSION,
                           "--space", json.dumps(SPACE), "--objective", "return", "--trials", str(trials),
                           "--jobs", str(jobs), "--name", STUDY, "--seed", "1"],
                          cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    if done.returncode != 0:
        raise SystemExit(f"engine sweep failed (exit {done.returncode}; its error is above)")
    return time.perf_counter() - began


def trials_of(db: Path) -> list:
    import optuna

    from engine.backtest.sweep import sweeps_url
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.load_study(study_name=STUDY, storage=sweeps_url(db)).trials


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=10, help="trials asked (100: the whole sweep)")
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--others", type=int, default=20_000, help="rows of other markets in each hour's file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder, db = Path(tmp) / "archive", Path(tmp) / "trader.db"
        folder.mkdir()
        build_week(folder, args.days, args.others)
        migrate(db)
        began = time.perf_counter()
        _, ticks, _ = import_pmxt(Database(db), folder, [market(0)], actor="bench", name=SESSION)
        print(f"imported {ticks:,} ticks of one market over {args.days} days in {time.perf_counter() - began:.1f} s",
              flush=True)
        wall = sweep(db, args.trials, args.jobs)
        trials = trials_of(db)
    counted = [t for t in trials if t.state.name == "COMPLETE"
               or (t.state.name == "FAIL" and "undefined" in t.user_attrs)]  # what `--trials` counts
    seconds = [t.user_attrs["backtest_s"] for t in counted if "backtest_s" in t.user_attrs]
    keys = [t.user_attrs["key"] for t in counted]
    crashed = [t.number for t in trials if t.state.name == "FAIL" and "undefined" not in t.user_attrs]
    print(f"sweep over {args.days} days, {args.trials} trials, {args.jobs} workers: {wall / 60:.1f} min wall | "
          f"a trial's backtest p50 {statistics.median(seconds):.1f} s, p99 {max(seconds):.1f} s | "
          f"{len(counted)} trials counted (asked {args.trials}), {len(keys) - len(set(keys))} parameter sets "
          f"repeated, trials failed by a crash: {crashed or 'none'}")
    if args.trials < 100:
        per_trial = wall / args.trials
        print(f"    100 trials at this pace: ~{per_trial * 100 / 3600:.1f} h on this machine with {args.jobs} workers")


if __name__ == "__main__":
    main()

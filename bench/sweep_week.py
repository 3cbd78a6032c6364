"""What a sweep over a week of imported history costs: 100 trials on one market, on 2 cores.

Builds a week of hourly files in the PMXT archive's v2 layout (bench/pmxt_import.py's market at
the density of a busy archive market, ~1,100 rows an hour, among OTHERS rows of other markets),
imports that market as one session, then runs `engine sweep --session` on it as a user would
(its own process, `--jobs 2`, the study in the sweeps file beside the database). Printed: the
import's time, the sweep's wall, each trial's backtest time (median, p99) and decisions (what that
time goes on: a week at the 500 ms cadence holds 1.25 M timed passes, the quiet ones skipped), and the checks the
research issue asks of it: exactly the trials asked, no parameter set backtested twice, none
failed by a crash. Its last line says what 100 trials take against issue 90's target (15 minutes on
2 cores), met or MISSED: measured with `--trials 100` (the one command that reproduces it:
`.venv/bin/python bench/sweep_week.py --trials 100`), else projected from the trials run at their
measured pace (the default, 10, takes a few minutes on 2 cores; `make bench` runs that).

`--processes 2 --jobs 1` starts two `engine sweep` processes together on one fresh study, as two
machines would share it; with `--shared-storage` the study is kept where SWEEP_STORAGE says (in
.env, as the desk reads it: the PostgreSQL route for several machines, docs/research.md), else in
a SQLite file beside the bench's own database.

    .venv/bin/python bench/sweep_week.py [--trials 10] [--days 7] [--jobs 2] [--processes 1]
                                         [--shared-storage] [--others 20000]
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

from engine.backtest.sweep import counts
from engine.venues.polymarket.pmxt_import import import_pmxt
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

TARGET_MIN = 15  # a week's 100-trial sweep on 2 cores (issue 90; it was 30, issue 74)
SPACE = {"half_spread": [0.005, 0.03], "size": [5, 40, "int"]}
SESSION = "pmxt week"
STUDY = f"week-{int(time.time())}"  # a fresh study, even on a server that keeps earlier runs'


def build_week(folder: Path, days: int, others: int) -> None:
    for day in range(days):
        build_day(folder, others, 1, DAY0 + timedelta(days=day))
        print(f"    archive day {day + 1}/{days} written", flush=True)


def sweep(db: Path, url: str, trials: int, jobs: int, processes: int) -> float:
    """`engine sweep` on the imported session in `processes` processes started together (the first
    one's progress on this terminal), on the study at `url` (passed in their environment, never on
    their command line); their wall seconds."""
    env = {**os.environ, "TRADER_DB": str(db), "TRADER_ENV_FILE": os.devnull, "DATA_SOURCE": "simulator",
           "SWEEP_STORAGE": url}
    env.pop("PYTHONPATH", None)
    command = [sys.executable, "-m", "engine", "sweep", "--strategy", "market_making", "--session", SESSION,
               "--space", json.dumps(SPACE), "--objective", "return", "--trials", str(trials), "--jobs", str(jobs),
               "--name", STUDY, "--seed", "1"]
    began = time.perf_counter()
    running = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=None if n == 0 else subprocess.DEVNULL) for n in range(processes)]
    codes = [process.wait() for process in running]
    if any(codes):
        raise SystemExit(f"engine sweep failed (exits {codes}; the first process's error is above)")
    return time.perf_counter() - began


def storage(db: Path, shared: bool) -> str:
    """Where the study lives: with `shared`, where the desk keeps its studies (SWEEP_STORAGE, read as
    `engine sweep` reads it); else the SQLite file beside the bench's own database."""
    from engine.backtest.sweep import sweeps_url
    from storage.research.sweep_queries import sweeps_storage

    if not shared:
        return sweeps_url(db)
    url = sweeps_storage(ROOT, db)
    if url == sweeps_url(db):
        raise SystemExit("--shared-storage: SWEEP_STORAGE is not set (put the PostgreSQL URL in .env; "
                         "docs/research.md, 'Several machines on one study')")
    return url


def trials_of(url: str) -> list:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.load_study(study_name=STUDY, storage=url).trials


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=10, help="trials asked (100: the whole sweep)")
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=2, help="workers per process")
    parser.add_argument("--processes", type=int, default=1, help="`engine sweep` processes on the one study")
    parser.add_argument("--shared-storage", action="store_true",
                        help="keep the study where SWEEP_STORAGE (.env) says, as machines sharing one study do")
    parser.add_argument("--others", type=int, default=20_000, help="rows of other markets in each hour's file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder, db = Path(tmp) / "archive", Path(tmp) / "trader.db"
        url = storage(db, args.shared_storage)  # (a missing SWEEP_STORAGE is said before the week is built)
        folder.mkdir()
        build_week(folder, args.days, args.others)
        migrate(db)
        began = time.perf_counter()
        _, ticks, _ = import_pmxt(Database(db), folder, [market(0)], actor="bench", name=SESSION)
        print(f"imported {ticks:,} ticks of one market over {args.days} days in {time.perf_counter() - began:.1f} s",
              flush=True)
        wall = sweep(db, url, args.trials, args.jobs, args.processes)
        trials = trials_of(url)
    counted = [t for t in trials if counts(t)]  # what `--trials` counts, as the sweep counts it
    seconds = [t.user_attrs["backtest_s"] for t in counted if "backtest_s" in t.user_attrs]
    replayed = [t.user_attrs["replayed"] for t in counted if "replayed" in t.user_attrs]
    keys = [t.user_attrs["key"] for t in counted]
    crashed = [t.number for t in trials if t.state.name == "FAIL" and not counts(t)]
    where = "PostgreSQL" if url.startswith("postgresql") else "a SQLite file"  # never the URL: it may hold a password
    print(f"sweep over {args.days} days, {args.trials} trials, {args.processes} process(es) of {args.jobs} "
          f"worker(s) on one study in {where}: {wall / 60:.1f} min wall | "
          f"a trial's backtest p50 {statistics.median(seconds):.1f} s, p99 {max(seconds):.1f} s | "
          f"{len(counted)} trials counted (asked {args.trials}), {len(keys) - len(set(keys))} parameter sets "
          f"repeated, trials failed by a crash: {crashed or 'none'}")
    if replayed:  # where a trial's time goes: its decisions, the timed passes of a quiet week most of them
        decisions = statistics.median(r["decisions"] for r in replayed)
        print(f"    a trial replays {replayed[0]['events']:,} events and makes {decisions:,.0f} decisions (p50): "
              f"{statistics.median(seconds) / decisions * 1e6:.0f} us a decision, reading the rows included")
    hundred = wall / args.trials * 100 / 60
    how = "measured" if args.trials == 100 else f"projected from {args.trials} trials at this pace"
    print(f"100 trials over {args.days} days: {hundred:.1f} min ({how}; {args.processes * args.jobs} workers in all) "
          f"| target <= {TARGET_MIN} min on 2 cores (issue 90): {'met' if hundred <= TARGET_MIN else 'MISSED'}")


if __name__ == "__main__":
    main()

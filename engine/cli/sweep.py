"""`python -m engine sweep ...`: search a strategy's params with Optuna, each trial a backtest.

Running the same command again resumes the sweep (same name: without --name, the name is
derived from the settings, so an identical command finds its study).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import replace
from pathlib import Path

from contracts.settings import Settings
from contracts.strategy_kinds import KIND_HELP
from contracts.sweep_spec import (
    OBJECTIVES,
    SAMPLERS,
    SweepError,
    SweepSpec,
    check_spec,
    default_name,
    parse_space,
)
from contracts.sweep_workers import check_jobs, worker_budget
from engine.cli import args as cli_args
from engine.cli.errors import CliError, open_db
from engine.cli.progress import ProgressBar


def _json_object(raw: str | None, what: str) -> dict:
    from contracts.jsonsafe import CONFIG_BYTES, JsonRefused, loads_bounded

    try:  # bounded in size and depth, as the backtest's --params: never a RecursionError
        value = loads_bounded(raw or "{}", max_bytes=CONFIG_BYTES, what=what)
    except JsonRefused as exc:
        raise CliError(str(exc)) from None
    if not isinstance(value, dict):
        raise CliError(f"{what} must be a JSON object")
    return value


def _train_share(args: argparse.Namespace) -> float | None:
    """--split/--train as given, or 1 - --test (rounded, so --test 0.3 names the same study as
    --split 0.7)."""
    test = getattr(args, "test_share", None)
    if test is None:
        return args.split
    if not 0.1 <= test <= 0.9:
        raise CliError("--test: the held-out share must be between 0.1 and 0.9 (e.g. 0.3: the last 30 % is held out)")
    return round(1 - test, 6)


def spec_from_args(args: argparse.Namespace) -> SweepSpec:
    if not args.strategy or not args.start or not args.end or args.space is None:
        raise CliError("--strategy, --space, --from and --to are required")
    try:
        space = parse_space(args.space, args.strategy)
    except SweepError as exc:
        raise CliError(str(exc)) from None
    markets = tuple(sorted(m.strip() for m in (args.markets or "").split(",") if m.strip()))
    spec = SweepSpec(name="-", kind=args.strategy, space=space, from_ms=args.start,
                     to_ms=args.end, base_params=_json_object(args.params, "--params"), markets=markets,
                     trials=args.trials, objective=args.objective, sampler=args.sampler, seed=args.seed,
                     source=args.source, train_fraction=_train_share(args), top=args.top,
                     walk_forward=args.walk_forward or 0)
    name = args.name or default_name(spec)
    spec = replace(spec, name=name)
    try:
        check_spec(spec)
    except SweepError as exc:
        raise CliError(str(exc)) from None
    return spec


def cmd_sweep(settings: Settings, args: argparse.Namespace) -> int:
    db = open_db(settings)
    if args.session is not None:
        from engine.cli.research import session_range

        session_range(db, args)
    spec = spec_from_args(args)
    jobs = _jobs(args.jobs, spec.trials)
    # Imported once the arguments are good: a refusal answers without loading the trading core, Optuna
    # and pandas (two seconds of CPU).
    from contracts.metrics import pnl_columns
    from engine.backtest.runner import BacktestError, BacktestSpec, check_data
    from engine.backtest.sweep import run_sweep
    from storage.research.sweep_queries import shown_url, sweeps_storage

    try:  # the data is there (and the markets known) before any worker starts
        check_data(BacktestSpec(spec.kind, spec.base_params, *spec.train_range, spec.markets, spec.seed,
                                spec.source), settings.db_path)
    except BacktestError as exc:
        raise CliError(str(exc)) from None
    if args.storage and shown_url(args.storage) != args.storage:
        raise CliError("--storage must not carry a password (a command line is visible to every user of the "
                       "machine): put the URL in SWEEP_STORAGE in .env instead")
    url = args.storage or sweeps_storage(settings.root, settings.db_path)
    work_root = study_work_dir(settings.db_path, spec.name)
    try:
        report = run_sweep(spec, url, settings.db_path, jobs=jobs, work_root=work_root,
                           progress=ProgressBar(f"sweep {spec.name!r} ({jobs} workers)"))
    except SweepError as exc:
        raise CliError(str(exc)) from None
    print(json.dumps({"name": report.name, "storage": shown_url(report.url), "trials": report.trials,
                      "objective": spec.objective, "best": report.best,
                      # How sure the best trial's PnL is (not corrected for the trials tried: see held_out)
                      "best_pnl": pnl_columns((report.best or {}).get("metrics") or {}), "held_out": report.held_out,
                      **({"out_of_sample": report.out_of_sample} if report.out_of_sample else {})},
                     indent=2, default=str))
    return 0


def _jobs(asked: int | None, trials: int) -> int:
    """Worker processes: as asked (refused beyond what the machine's cores and memory take), or
    by default as many as it takes; never more than the trials."""
    budget = worker_budget()
    if asked is not None:
        problem = check_jobs(asked, budget)
        if problem:
            raise CliError(problem)
    return min(asked or budget.most, trials)


def register(sub: argparse._SubParsersAction) -> None:
    sweep = sub.add_parser("sweep", help="search a strategy's params with Optuna (each trial a backtest)",
                           description=__doc__)
    sweep.add_argument("--strategy", help=KIND_HELP)
    sweep.add_argument("--space", help='JSON: {"half_spread": [0.01, 0.05], "size": [10, 50, "int"], '
                                       '"fair_value": {"choices": ["mid", "microprice"]}}; "log" for a log scale')
    sweep.add_argument("--params", help="JSON object: fixed params for everything not searched")
    sweep.add_argument("--trials", type=int, default=50, help="finished trials to reach (default 50)")
    sweep.add_argument("--jobs", type=int, help="worker processes (default: one per core, as many as memory allows; "
                                                "more is refused)")
    sweep.add_argument("--objective", choices=OBJECTIVES, default="sharpe",
                       help="what to maximize, per day: sharpe (default), return, calmar, markout (the fills' 60 s "
                            "markout in pUSD)")
    sweep.add_argument("--sampler", choices=SAMPLERS, default="tpe", help="tpe (default) or grid")
    sweep.add_argument("--from", dest="start", type=cli_args.utc_time, help="start (ISO 8601 UTC, or epoch ms)")
    sweep.add_argument("--to", dest="end", type=cli_args.utc_time, help="end (ISO 8601 UTC, or epoch ms)")
    held_out = sweep.add_mutually_exclusive_group()
    held_out.add_argument("--split", "--train", dest="split", type=float,
                          help="train share of the range, e.g. 0.7: the last 30 %% is held out and the best "
                               "trials re-run on it")
    held_out.add_argument("--test", dest="test_share", type=float,
                          help="held-out share of the range instead, e.g. 0.3 (the same as --split 0.7)")
    held_out.add_argument("--walk-forward", dest="walk_forward", type=int, metavar="FOLDS",
                          help="cut the range into FOLDS + 1 windows, tune on each and test on the next, roll; rank "
                               "the trials by their held-out score, with how much the in-sample score overstates it "
                               "and a deflated Sharpe ratio (2 to 12 folds)")
    sweep.add_argument("--top", type=int, default=3, help="best trials re-run on the held-out period (default 3)")
    sweep.add_argument("--markets", help="comma-separated condition ids (default: all with data in range)")
    sweep.add_argument("--session", help="a recording session's name: its span and markets (instead of --from, "
                                         "--to and --markets)")
    sweep.add_argument("--seed", type=int, default=0, help="seed of the sampler and the paper venue")
    sweep.add_argument("--source", choices=("recorded", "history"), default="recorded")
    sweep.add_argument("--name", help="the study's name (default: derived from the settings)")
    sweep.add_argument("--storage", help="study storage URL without a password (default: SWEEP_STORAGE from .env, "
                                         "else a SQLite file beside the trading database); a server URL lets "
                                         "several machines share one study")
    sweep.set_defaults(func=cmd_sweep)


def study_work_dir(db_path: Path, name: str) -> Path:
    return db_path.parent / "backtests" / "sweeps" / hashlib.sha256(name.encode()).hexdigest()[:12]

"""`python -m engine backtest ...` and `python -m engine import-history ...`."""

from __future__ import annotations

import argparse
import asyncio
import json
import traceback
from datetime import UTC, datetime

from sqlalchemy import text

from engine.backtest import store as runs
from engine.backtest.runner import BacktestError, BacktestSpec, run_sync
from engine.cli import CliError, open_db
from engine.history import HistoryError, import_history
from engine.progress import ProgressBar
from storage.db import Database
from storage.settings import Settings


class ResearchError(CliError):
    """A research command's input or run failed; printed like any CLI error (exit 1)."""


def parse_time(raw: str) -> int:
    """ISO 8601 (UTC when no offset is given) or epoch milliseconds -> epoch ms."""
    if raw.isdigit():
        return int(raw)
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise ResearchError(f"{raw!r} is not a time: use e.g. 2026-11-20 or 2026-11-20T14:30 (UTC)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def cmd_backtest(settings: Settings, args: argparse.Namespace) -> int:
    db = open_db(settings)
    if args.run_id is not None:
        spec, run_id = runs.load_spec(db, args.run_id), args.run_id
        runs.mark_started(db, run_id)
    else:
        if not args.strategy or not args.start or not args.end:
            raise ResearchError("--strategy, --from and --to are required (or --run-id)")
        try:
            params = json.loads(args.params or "{}")
        except json.JSONDecodeError as exc:
            raise ResearchError(f"--params is not valid JSON: {exc.msg}") from None
        markets = tuple(m.strip() for m in (args.markets or "").split(",") if m.strip())
        spec = BacktestSpec(args.strategy, params, parse_time(args.start), parse_time(args.end), markets,
                            args.seed, args.source)
        run_id = runs.create_run(db, spec, args.name or f"{args.strategy} {args.start} to {args.end}")
        runs.mark_started(db, run_id)
    bar = ProgressBar(f"backtest #{run_id}")
    last = [-1]

    def progress(done: int, total: int) -> None:
        bar(done, total)
        permille = 1000 if total <= 0 else done * 1000 // total
        if permille >= last[0] + 10:
            last[0] = permille
            runs.set_progress(db, run_id, done, total)

    try:
        result = run_sync(spec, settings.db_path, settings, work_dir=runs.work_dir_for(settings.db_path, run_id),
                          progress=progress)
    except BacktestError as exc:
        runs.fail(db, run_id, str(exc))
        raise ResearchError(str(exc)) from None
    except Exception as exc:
        runs.fail(db, run_id, f"{type(exc).__name__}: {exc}")
        traceback.print_exc()
        raise ResearchError(f"backtest #{run_id} failed: {exc}") from None
    runs.finish(db, run_id, result)
    print(json.dumps({"run_id": run_id, "events": result.events, "decisions": result.decisions,
                      "orders": len(result.orders), "fills": len(result.fills), **result.metrics.as_dict(),
                      "refusals": result.refusals}, indent=2, default=str))
    return 0


def _token_for(db: Database, market: str, outcome: str) -> list[str]:
    with db.read() as conn:
        row = conn.execute(text("SELECT yes_token, no_token FROM markets WHERE condition_id = :m OR slug = :m"),
                           {"m": market}).first()
    if row is None:
        raise ResearchError(f"unknown market {market!r}: the engine discovers markets at start-up; "
                            "use a condition id or slug from the Markets page")
    return {"YES": [row[0]], "NO": [row[1]], "BOTH": [row[0], row[1]]}[outcome]


def cmd_import_history(settings: Settings, args: argparse.Namespace) -> int:
    db = open_db(settings)
    start, end = parse_time(args.start), parse_time(args.end)
    reports = []
    for token in _token_for(db, args.market, args.outcome.upper()):
        try:
            report = asyncio.run(import_history(db, settings.clob_host, settings.chain_id, token, start, end,
                                                fidelity=args.fidelity, progress=ProgressBar(f"history {token[:10]}…")))
        except HistoryError as exc:
            raise ResearchError(str(exc)) from None
        reports.append(report.__dict__)
    print(json.dumps(reports, indent=2))
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    backtest = sub.add_parser("backtest", help="replay recorded data through a strategy (same code as live)")
    backtest.add_argument("--strategy", help="strategy kind: market_making complement_arb value_betting momentum")
    backtest.add_argument("--params", help='JSON object of params, e.g. \'{"size": 20}\'')
    backtest.add_argument("--from", dest="start", help="start (ISO 8601 UTC, or epoch ms)")
    backtest.add_argument("--to", dest="end", help="end (ISO 8601 UTC, or epoch ms)")
    backtest.add_argument("--markets", help="comma-separated condition ids (default: all recorded in range)")
    backtest.add_argument("--seed", type=int, default=0, help="seed for the paper venue's random settlement failures")
    backtest.add_argument("--source", choices=("recorded", "history"), default="recorded",
                          help="recorded ticks (default) or imported price history (coarser fills)")
    backtest.add_argument("--name", help="a name for the run")
    backtest.add_argument("--run-id", type=int, help="run a backtest the dashboard created")
    backtest.set_defaults(func=cmd_backtest)
    history = sub.add_parser("import-history", help="download /prices-history for a market (resumable)")
    history.add_argument("--market", required=True, help="condition id or slug")
    history.add_argument("--from", dest="start", required=True, help="start (ISO 8601 UTC, or epoch ms)")
    history.add_argument("--to", dest="end", required=True, help="end (ISO 8601 UTC, or epoch ms)")
    history.add_argument("--fidelity", type=int, default=1, help="minutes between points (default 1)")
    history.add_argument("--outcome", default="yes", choices=("yes", "no", "both"), help="which token(s)")
    history.set_defaults(func=cmd_import_history)

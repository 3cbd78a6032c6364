"""`python -m engine backtest ... [--report FILE.html]` and `python -m engine import-history ...`.

The parser is built on every call of `python -m engine`, so this module imports only the
standard library at its top; the backtest runner and the history client (the whole trading
core, py-clob-client-v2) are imported by the subcommand that runs them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contracts.market_rows import CONDITION_ID
from contracts.settings import Settings
from contracts.strategy_kinds import KIND_HELP
from engine.cli import args as cli_args
from engine.cli.errors import CliError, actor, open_db

if TYPE_CHECKING:
    from storage.sqlite.db import Database

# One request per day of history: more than a year at once is a typo (1970-2100 took minutes
# of requests before anything useful). Imports resume, so a longer range is imported yearly.
MAX_IMPORT_DAYS = 366
DAY_MS = 86_400_000
NAME_CHARS = 200


class ResearchError(CliError):
    """A research command's input or run failed; printed like any CLI error (exit 1)."""


def _when(at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M")


def cmd_backtest(settings: Settings, args: argparse.Namespace) -> int:
    from contracts.jsonsafe import CONFIG_BYTES, JsonRefused, loads_bounded
    from engine.backtest.runner import BacktestError, BacktestSpec, run_sync
    from engine.cli.progress import ProgressBar
    from storage.research import backtest_runs as runs
    from storage.research.launch_requests import request_backtest

    db = open_db(settings)
    if args.session is not None:
        session_range(db, args)
    if args.run_id is not None:
        try:
            spec, run_id = runs.load_spec(db, args.run_id), args.run_id
        except KeyError:
            raise ResearchError(f"there is no backtest run {args.run_id} (the Backtest page lists the runs)") from None
        runs.mark_started(db, run_id)
    else:
        if args.like is not None:
            like(settings, args)
        if not args.strategy or args.start is None or args.end is None:
            raise ResearchError("--strategy, --from and --to are required (or --like NAME, or --run-id)")
        try:
            params = loads_bounded(args.params or "{}", max_bytes=CONFIG_BYTES, what="--params")
        except JsonRefused as exc:
            raise ResearchError(str(exc)) from None
        if not isinstance(params, dict):
            raise ResearchError('--params must be a JSON object, e.g. \'{"size": 20}\'')
        markets = tuple(m.strip() for m in (args.markets or "").split(",") if m.strip())
        spec = BacktestSpec(args.strategy, params, args.start, args.end, markets, args.seed, args.source,
                            args.latency, args.capital)
        run_id = request_backtest(db, spec, args.name or f"{args.strategy} {_when(args.start)} to {_when(args.end)}",
                                  actor=actor())
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
    report = _write_report(db, run_id, args.report) if args.report else None
    print(json.dumps({"run_id": run_id, "events": result.events, "decisions": result.decisions,
                      "orders": result.order_count, "fills": result.fill_count,
                      "pnl": result.metrics.end_equity - result.metrics.start_equity, **result.metrics.as_dict(),
                      "refusals": result.refusals, "latency": result.latency, "history": result.history,
                      **({"report": str(report)} if report else {})},
                     indent=2, default=str))
    return 0


def like(settings: Settings, args: argparse.Namespace) -> None:
    """--like NAME: a configured strategy's kind and params (--params changes some of them) and the markets it
    trades (those of its list or filter with data in the range) stand for --strategy and --markets: a backtest
    of it trades its markets, as the desk trades them, not every market recorded beside them."""
    from storage.research.backtest_recording import configured_strategy
    from storage.sqlite.db import now_ms

    session = set(args.markets.split(",")) if args.session is not None and args.markets else None  # its markets
    given = [flag for flag, value in (("--strategy", args.strategy),
                                      ("--markets", args.markets if args.session is None else None)) if value]
    if given:
        raise ResearchError(f"--like sets the kind and markets: drop {', '.join(given)}")
    if args.start is None or args.end is None:
        raise ResearchError("--from and --to are required with --like (or --session)")
    found = configured_strategy(settings.db_path, args.like, args.source, args.start, args.end, now_ms())
    if found is None:
        raise ResearchError(f"there is no strategy named {args.like!r} (the Strategies page lists them)")
    markets = [cid for cid in found.markets if session is None or cid in session]
    if not markets:
        raise ResearchError(f"strategy {args.like!r} trades no market with {args.source} data in the range")
    try:
        changes = json.loads(args.params or "{}")
    except ValueError:
        raise ResearchError("--params must be a JSON object") from None
    if not isinstance(changes, dict):
        raise ResearchError('--params must be a JSON object, e.g. \'{"size": 20}\'')
    args.strategy, args.markets = found.kind, ",".join(markets)
    args.params = json.dumps({**found.params, **changes})
    args.name = args.name or f"{found.name} ({found.kind}) {_when(args.start)} to {_when(args.end)}"


def session_range(db: Database, args: argparse.Namespace) -> None:
    """--session NAME: the session's span and markets stand for --from, --to and --markets."""
    from storage.research.recording_sessions import SessionError, get_session, now_ms

    given = [flag for flag, value in (("--from", args.start), ("--to", args.end), ("--markets", args.markets))
             if value is not None]
    if given:
        raise ResearchError(f"--session sets the range and markets: drop {', '.join(given)}")
    if getattr(args, "source", "recorded") != "recorded":
        raise ResearchError("--session replays recorded ticks: drop --source history")
    try:
        session = get_session(db, args.session)
    except SessionError as exc:
        raise ResearchError(str(exc)) from None
    args.start, args.end = session.span(now_ms())
    args.markets = ",".join(session.markets) or None


def _write_report(db: Database, run_id: int, path: Path) -> Path:
    from reports.backtest import ReportError, write_backtest_report

    try:
        return write_backtest_report(db, run_id, path)
    except (ReportError, OSError) as exc:
        raise ResearchError(f"backtest #{run_id} is done (the Backtest page shows it), but its report was not "
                            f"written: {exc}") from None


def _token_for(db: Database, market: str, outcome: str) -> list[str]:
    from storage.research.history_store import market_tokens

    row = market_tokens(db, market)
    if row is None:
        raise ResearchError(f"unknown market {market!r}: the engine discovers markets at start-up; "
                            "use a condition id or slug from the Markets page")
    return {"YES": [row[0]], "NO": [row[1]], "BOTH": [row[0], row[1]]}[outcome]


def check_import_range(start: int, end: int) -> None:
    """Refused at once, before a single request: a range that ends before it starts, or longer
    than a year."""
    if end <= start:
        raise ResearchError("--to must be after --from")
    if end - start > MAX_IMPORT_DAYS * DAY_MS:
        days = (end - start) // DAY_MS
        raise ResearchError(f"--from to --to spans {days:,} days; import at most {MAX_IMPORT_DAYS} days at a time "
                            "(one request per day; run it again for the next stretch: imports resume)")


def _import_kalshi(settings: Settings, args: argparse.Namespace) -> int:
    """`--kalshi`: the Kalshi history of a paired market (engine/venues/kalshi/history_import.py)."""
    from engine.venues.kalshi.history import KalshiHistoryError
    from engine.venues.kalshi.history_import import MAX_DAYS, NotPaired, import_pair_history
    from storage.research.recording_sessions import SessionError

    if args.market is None or args.start is None or args.end is None:
        raise CliError("--kalshi needs --market (a Polymarket condition id paired with a Kalshi market), --from and "
                       "--to")
    if args.end <= args.start or args.end - args.start > MAX_DAYS * 86_400_000:
        raise CliError(f"--to must be after --from, and at most {MAX_DAYS} days after it")
    if settings.kalshi is None:
        raise CliError("no Kalshi host is configured (KALSHI_HOST)")
    db = open_db(settings)
    try:
        done = import_pair_history(settings.kalshi, db, args.market, (args.start, args.end), args.name, actor())
    except NotPaired as exc:
        raise CliError(str(exc)) from None
    except (KalshiHistoryError, SessionError) as exc:
        raise CliError(f"{exc}; nothing was imported") from None
    print(json.dumps(done, indent=2))
    return 0


def cmd_import_history(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio

    if args.file is not None:
        return import_session_file(settings, args)
    if args.kalshi:
        return _import_kalshi(settings, args)
    if args.pmxt is not None or args.pmxt_from is not None or args.pmxt_to is not None:
        return import_pmxt_archive(settings, args)
    # Only /prices-history needs these (the CLOB client's signing stack: a second of CPU to import).
    from engine.cli.progress import ProgressBar
    from engine.venues.polymarket.history import HistoryError, import_history

    if args.market is None or args.start is None or args.end is None:
        raise ResearchError("--market, --from and --to are required (or --file, a recording session exported by "
                            "another desk)")
    check_import_range(args.start, args.end)
    db = open_db(settings)
    reports = []
    for token in _token_for(db, args.market, args.outcome.upper()):
        try:
            report = asyncio.run(import_history(db, settings.clob_host, settings.chain_id, token, args.start,
                                                args.end, fidelity=args.fidelity,
                                                progress=ProgressBar(f"history {token[:10]}…")))
        except HistoryError as exc:
            raise ResearchError(str(exc)) from None
        reports.append(report.__dict__)
    print(json.dumps(reports, indent=2))
    return 0


def import_session_file(settings: Settings, args: argparse.Namespace) -> int:
    """--file: another desk's exported recording session, into this desk's recording (as
    `python -m engine session import FILE`)."""
    from engine.cli.sessions import import_file

    given = [flag for flag, value in (("--market", args.market), ("--from", args.start), ("--to", args.end))
             if value is not None]
    if given:
        raise ResearchError(f"--file imports a whole session: drop {', '.join(given)}")
    print(json.dumps(import_file(settings, args.file, args.name), indent=2))
    return 0


def import_pmxt_archive(settings: Settings, args: argparse.Namespace) -> int:
    """--pmxt: the PMXT archive's hourly files of --market's markets, as a named session."""
    import asyncio

    from engine.venues.polymarket.pmxt import PmxtError, hour_before_hint
    from engine.venues.polymarket.pmxt_import import file_markets, gamma_markets, import_pmxt, trades_file, with_fees
    from storage.research.recording_sessions import SessionError

    given = [flag for flag, value in (("--from", args.start), ("--to", args.end), ("--file", args.file))
             if value is not None]
    if given:
        raise ResearchError(f"--pmxt imports the archive files' whole span: drop {', '.join(given)}")
    if (args.pmxt is None) == (args.pmxt_from is None or args.pmxt_to is None):
        raise ResearchError("give the archive's files (--pmxt FILE_OR_FOLDER) or a range to fetch (--pmxt-from DATE "
                            "--pmxt-to DATE), one of the two")
    if args.trades and args.public_trades:
        raise ResearchError("--trades and --public-trades both give the trades: choose one")
    ids = [part.strip() for part in (args.market or "").split(",") if part.strip()]
    if not ids or not all(CONDITION_ID.fullmatch(i) for i in ids):
        raise ResearchError("--pmxt needs --market: the condition ids (0x and 64 hex digits), comma-separated")
    db = open_db(settings)
    try:
        markets, ended = (file_markets(Path(args.markets_file).expanduser(), ids) if args.markets_file
                          else asyncio.run(gamma_markets(settings.gamma_host, ids)))
        # Fees are the CLOB's: asked online they must be read; a file of Gamma objects holds none, so
        # that import stays offline and says which markets a backtest will charge no fee.
        no_fees = ([m["condition_id"] for m in markets] if args.markets_file
                   else asyncio.run(with_fees(settings.clob_host, markets, required=True)))
        trades = (trades_file(Path(args.trades).expanduser()) if args.trades
                  else _fetched_trades(settings.data_api_host, ids) if args.public_trades else None)
        files, fetched = (Path(args.pmxt).expanduser(), {}) if args.pmxt else _fetched_hours(settings, args)
        session, ticks, report = import_pmxt(db, files, markets, actor=actor(), name=args.name, trades=trades,
                                             progress=_rows_read, ended=ended)
    except (PmxtError, SessionError) as exc:
        raise ResearchError(f"{exc}; nothing was imported") from None
    hint = hour_before_hint(report)  # changes left out before a token's first snapshot: say what to add
    if hint:
        print(f"pmxt: {hint}", file=sys.stderr, flush=True)
    print(json.dumps({"session": session.name, "markets": list(session.markets), "ticks": ticks,
                      "from": session.started_at, "to": session.stopped_at, **report.as_dict(),
                      "fees_unknown": no_fees, "resolutions": _ends_said(ids, ended),
                      **({"fetched": fetched} if fetched else {}),
                      **({"note": hint} if hint else {})}, indent=2))
    return 0


def _ends_said(ids: list[str], ended: list[Any]) -> dict[str, str]:
    """How each imported market ended, as the venue's record says (a backtest settles there), or that none is
    known (the trader may give it)."""
    from contracts.resolutions import utc

    known = {r.condition_id: f"{r.label} at {utc(r.at)} UTC (Gamma)" for r in ended}
    return {cid: known.get(cid, "not resolved as Gamma shows it: a backtest values what it holds at the last mid "
                                "(give its end with `python -m engine resolutions set`)") for cid in ids}


PMXT_CACHE_GB = 20.0  # the fetch cache's default bound: ~50-200 archive hours


def _fetched_hours(settings: Settings, args: argparse.Namespace) -> tuple[list[Path], dict[str, Any]]:
    """--pmxt-from/--pmxt-to: the archive's hours of the range (and the hour before), fetched into the cache beside
    the database (PMXT_V2_URL and PMXT_V1_URL name other hosts of the same layout, e.g. a mirror)."""
    from engine.venues.polymarket import pmxt_fetch as fetch

    archive = fetch.Archive(os.environ.get("PMXT_V2_URL") or fetch.V2_URL,
                            os.environ.get("PMXT_V1_URL") or fetch.V1_URL)
    hours = fetch.hours_for(fetch.day_start(args.pmxt_from), fetch.day_end(args.pmxt_to))
    files, report = fetch.fetch_hours(hours, settings.db_path.parent / "pmxt-cache", archive,
                                      cache_bytes=int(args.cache_gb * 1e9), progress=fetch.print_progress)
    return files, report.as_dict()


def _fetched_trades(data_api_host: str, condition_ids: list[str]) -> Callable[[tuple[int, int]], list[Any]]:
    """What fetches the markets' public trades for the archive files' span, once it is known."""
    import asyncio

    from engine.venues.polymarket.pmxt_import import public_trades

    def fetch(span: tuple[int, int]) -> list[Any]:
        return asyncio.run(public_trades(data_api_host, condition_ids, span, progress=_trades_read))
    return fetch


def _trades_read(trades: int) -> None:
    print(f"pmxt: {trades:,} public trades of the span read from the Data API…", file=sys.stderr, flush=True)


def _rows_read(rows: int) -> None:
    print(f"pmxt: {rows:,} rows of these markets read…", file=sys.stderr, flush=True)


def _report_path(raw: str) -> Path:
    """Checked before the run starts: an hour of replay must not end on a typo in the path."""
    path = Path(raw).expanduser()
    if path.suffix.lower() not in (".html", ".htm"):
        raise argparse.ArgumentTypeError(f"{raw!r}: a report is an HTML file (name it ….html)")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{raw!r} is a folder: give a file name, e.g. {path / 'backtest.html'}")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"no folder {str(folder)!r} to write the report in")
    if not os.access(folder, os.W_OK):
        raise argparse.ArgumentTypeError(f"cannot write in {str(folder)!r}")
    return path


def _name(raw: str) -> str:
    if len(raw) > NAME_CHARS:
        raise argparse.ArgumentTypeError(f"a name of at most {NAME_CHARS} characters")
    return raw


def _cache_gb(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r}: a size in GB, e.g. 20") from None
    if not 0 < value <= 100_000:
        raise argparse.ArgumentTypeError(f"{raw!r}: a cache of more than 0 and at most 100,000 GB")
    return value


MAX_CAPITAL = 1e9  # pUSD: the paper starting cash setting's own bound


def _capital(raw: str) -> int:
    """A starting cash in pUSD, as micro-pUSD: a positive number up to 1e9, at most 6 decimals."""
    from contracts.domain import BadNumber, to_micros

    try:
        micros = to_micros(raw, exact=True)
    except BadNumber:
        raise argparse.ArgumentTypeError(f"{raw!r}: a starting cash in pUSD, e.g. 1000 (at most 6 decimals)") from None
    if not 0 < micros <= MAX_CAPITAL * 1_000_000:
        raise argparse.ArgumentTypeError(f"{raw!r}: a starting cash above 0 and at most {MAX_CAPITAL:,.0f} pUSD")
    return micros


def _latency(raw: str) -> str:
    from contracts.latency_spec import LatencyError, parse_latency

    try:
        return parse_latency(raw).text
    except LatencyError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(sub: argparse._SubParsersAction) -> None:
    backtest = sub.add_parser("backtest", help="replay recorded data through a strategy (same code as live)")
    backtest.add_argument("--strategy", help=KIND_HELP)
    backtest.add_argument("--params", help='JSON object of params, e.g. \'{"size": 20}\'')
    backtest.add_argument("--like", metavar="NAME", help="a configured strategy: its kind, params (--params changes "
                                                         "some) and the markets it trades (instead of --strategy and "
                                                         "--markets)")
    backtest.add_argument("--from", dest="start", type=cli_args.utc_time,
                          help="start (ISO 8601 UTC, or epoch ms; 2020 or later)")
    backtest.add_argument("--to", dest="end", type=cli_args.utc_time, help="end (ISO 8601 UTC, or epoch ms)")
    backtest.add_argument("--markets", help="comma-separated condition ids (default: all recorded in range)")
    backtest.add_argument("--session", help="a recording session's name: its span and markets (instead of --from, "
                                            "--to and --markets)")
    backtest.add_argument("--seed", type=cli_args.seed, default=0,
                          help=f"seed for the paper venue's random settlement failures (0 to {cli_args.MAX_SEED})")
    backtest.add_argument("--source", choices=("recorded", "history"), default="recorded",
                          help="recorded ticks (default) or imported price history (coarser fills)")
    backtest.add_argument("--latency", type=_latency,
                          help="how long orders and cancels take to act: zero, constant[:ENTRY,CANCEL,DATA] (ms) or "
                               "measured[:DATA] (default: the desk's paper_latency setting)")
    backtest.add_argument("--capital", type=_capital, metavar="PUSD",
                          help="the run's starting cash in pUSD (default: the desk's paper starting cash setting)")
    backtest.add_argument("--name", type=_name, help="a name for the run")
    backtest.add_argument("--run-id", type=cli_args.run_id, help="run a backtest the dashboard created")
    backtest.add_argument("--report", type=_report_path, metavar="FILE.html",
                          help="also write the run's report there (one HTML file, as the Backtest page downloads it)")
    backtest.set_defaults(func=cmd_backtest)
    history = sub.add_parser("import-history", help="download /prices-history for a market (resumable), or import "
                                                    "a recording session another desk exported (--file)")
    history.add_argument("--market", help="condition id or slug")
    history.add_argument("--from", dest="start", type=cli_args.utc_time,
                         help="start (ISO 8601 UTC, or epoch ms; 2020 or later)")
    history.add_argument("--to", dest="end", type=cli_args.utc_time,
                         help=f"end (ISO 8601 UTC, or epoch ms; at most {MAX_IMPORT_DAYS} days after --from)")
    history.add_argument("--fidelity", type=cli_args.fidelity, default=1, help="minutes between points (1 to 1440)")
    history.add_argument("--outcome", default="yes", choices=("yes", "no", "both"), help="which token(s)")
    history.add_argument("--file", help="a recording session exported by `python -m engine session export` "
                                        "(.jsonl or .jsonl.gz)")
    history.add_argument("--name", type=_name, help="with --file or --pmxt: import the session under this name")
    history.add_argument("--pmxt", metavar="FILE_OR_FOLDER",
                         help="hourly Parquet files of the PMXT archive (a file, or a folder of them): the books "
                              "of --market's markets (condition ids, comma-separated) as a named session")
    history.add_argument("--kalshi", action="store_true",
                         help="Kalshi's history of --market's pair (a condition id linked to a Kalshi market) over "
                              "--from..--to: its public trades and 1-minute candlesticks, as a session beside the "
                              "Polymarket market's")
    history.add_argument("--pmxt-from", metavar="DATE",
                         help="fetch the PMXT archive's hours from this UTC date (or time) on, and the hour before "
                              "it (v2 where it exists, v1 before), into a cache beside the database, then import them")
    history.add_argument("--pmxt-to", metavar="DATE", help="the last UTC date (or time) to fetch (after --pmxt-from)")
    history.add_argument("--cache-gb", type=_cache_gb, default=PMXT_CACHE_GB,
                         help=f"the fetch cache's bound in GB (default {PMXT_CACHE_GB:g}); the least "
                              "recently used hours not needed now go first")
    history.add_argument("--markets-file", metavar="FILE",
                         help="with --pmxt: the markets' metadata as a JSON list of Gamma market objects "
                              "(default: asked of Gamma at import time)")
    history.add_argument("--trades", metavar="FILE",
                         help="with --pmxt: the markets' public trades as the Data API's /trades answers them (a "
                              "JSON list), replayed beside the books so resting paper orders can fill")
    history.add_argument("--public-trades", action="store_true",
                         help="fetch those trades (for --pmxt) from the Data API's /trades for the files' span "
                              "instead (its pages reach a market's newest ~10,500 trades)")
    history.set_defaults(func=cmd_import_history)
    from engine.cli import resolutions  # how markets ended, for backtests to settle at

    resolutions.register(sub)

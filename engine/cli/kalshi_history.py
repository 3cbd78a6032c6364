"""`python -m engine import-history --kalshi --market CONDITION_ID --from DATE --to DATE`: Kalshi's public
trades and 1-minute candlesticks of the market's pair (historical endpoints past the cutoff), as a
named session beside the Polymarket market's own history, so the pair backtests on both venues
(engine/marketdata/kalshi_history.py says what becomes of them)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from contracts.settings import Settings
from engine.cli.errors import CliError, actor, open_db

MAX_DAYS = 92  # a quarter at a time: a minute's candles and every trade


def cmd_import_kalshi(settings: Settings, args: argparse.Namespace) -> int:
    from contracts import kalshi_ids as wire
    from engine.marketdata.kalshi_history import CANDLE_DEPTH, KalshiHistoryError, KalshiReport, PublicHistory
    from storage.desk.venue_pairs import list_pairs
    from storage.research.recording_sessions import SessionError

    if args.market is None or args.start is None or args.end is None:
        raise CliError("--kalshi needs --market (a Polymarket condition id paired with a Kalshi market), --from and "
                       "--to")
    if args.end <= args.start or args.end - args.start > MAX_DAYS * 86_400_000:
        raise CliError(f"--to must be after --from, and at most {MAX_DAYS} days after it")
    if settings.kalshi is None:
        raise CliError("no Kalshi host is configured (KALSHI_HOST)")
    db = open_db(settings)
    pair = next((p for p in list_pairs(db) if p.condition_id == args.market), None)
    if pair is None:
        raise CliError(f"{args.market} is not paired with a Kalshi market (link it first: engine pairs add)")
    ticker, span = pair.kalshi_ticker, (args.start, args.end)
    reader, report = PublicHistory(settings.kalshi.host), KalshiReport()
    try:
        with tempfile.TemporaryDirectory(prefix=".kalshi-", dir=settings.db_path.parent) as scratch:
            ticks = _sorted(Path(scratch) / "sort.db", reader, ticker, span, report)
            if not report.trades and not report.books:
                raise KalshiHistoryError(f"Kalshi has no trade and no quoted candle of {ticker} in the range "
                                         f"({json.dumps(dict(report.bad)) if report.bad else 'nothing left out'})")
            name = args.name or f"kalshi {ticker} {datetime.fromtimestamp(span[0] / 1000, UTC):%Y-%m-%d %H:%M}"
            history = {"source": "kalshi", "layouts": [], "prints": "kalshi_trades", "print_fees": False, "gaps": [],
                       "tick_sizes": [], "book": f"1-minute candlesticks' closing best bid and ask, "
                                                 f"{CANDLE_DEPTH // wire.CONTRACT} contracts a side (candles carry "
                                                 "no size)"}
            notes = (f"Kalshi's public history of {ticker} (pair of {pair.condition_id}): {report.trades:,} trades "
                     f"({report.historical_trades:,} from the historical tier), books from {report.candles:,} "
                     f"1-minute candles; left out: {json.dumps(dict(report.bad)) if report.bad else 'none'}")
            from storage.research.kalshi_history_store import import_kalshi_ticks

            session, written = import_kalshi_ticks(
                db, condition_id=pair.condition_id, tokens=(wire.token_id(ticker, "yes"), wire.token_id(ticker, "no")),
                span=span, ticks=ticks, name=name, notes=notes, actor=actor(), history=history)
    except (KalshiHistoryError, SessionError) as exc:
        raise CliError(f"{exc}; nothing was imported") from None
    finally:
        reader.close()
    print(json.dumps({"session": session.name, "ticker": ticker, "ticks": written, **report.as_dict()}, indent=2))
    return 0


def _sorted(scratch: Path, reader: Any, ticker: str, span: tuple[int, int], report: Any) -> Any:
    """The history's ticks in time order, through a scratch file (trades arrive newest first)."""
    from engine.marketdata.kalshi_history import history_ticks
    from storage.research.sort_scratch import add_lines, lines_by_time

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    found = add_lines(scratch, ((t[0], json.dumps(list(t), separators=(",", ":")))
                                for t in history_ticks(reader, ticker, span[0], span[1], report, progress)))
    return (tuple(json.loads(line)) for line in lines_by_time(scratch)) if found else iter(())

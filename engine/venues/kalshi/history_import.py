"""A paired market's Kalshi history as a named recording session: Kalshi's public trades and 1-minute
candlesticks of the pair's Kalshi market (historical endpoints past the cutoff), beside the Polymarket
market's own history, so the pair backtests on both venues (engine/venues/kalshi/history.py says what
becomes of them). `python -m engine import-history --kalshi` (engine/cli/research.py) runs it."""

from __future__ import annotations

import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from contracts.venues.kalshi.settings import KalshiSettings
from storage.sqlite.db import Database

MAX_DAYS = 92  # a quarter at a time: a minute's candles and every trade


class NotPaired(LookupError):
    """The market is not paired with a Kalshi market: there is no history to import."""


def import_pair_history(kalshi: KalshiSettings, db: Database, market: str, span: tuple[int, int], name: str | None,
                        actor: str) -> dict[str, Any]:
    """The session imported from the Kalshi history of `market`'s pair over `span` (ms), and what it holds.
    Raises NotPaired, or KalshiHistoryError or SessionError (nothing imported), with the reason."""
    from contracts.resolutions import utc
    from contracts.venues.kalshi import ids as wire
    from engine.venues.kalshi.history import CANDLE_DEPTH, KalshiHistoryError, KalshiReport, PublicHistory, ending
    from storage.desk.venue_pairs import list_pairs
    from storage.venues.kalshi.history_store import import_kalshi_ticks

    pair = next((p for p in list_pairs(db) if p.condition_id == market), None)
    if pair is None:
        raise NotPaired(f"{market} is not paired with a Kalshi market (link it first: engine pairs add)")
    ticker = pair.kalshi_ticker
    reader, report = PublicHistory(kalshi.host), KalshiReport()
    try:
        with tempfile.TemporaryDirectory(prefix=".kalshi-", dir=db.path.parent) as scratch:
            ticks = _sorted(Path(scratch) / "sort.db", reader, ticker, span, report)
            if not report.trades and not report.books:
                raise KalshiHistoryError(f"Kalshi has no trade and no quoted candle of {ticker} in the range "
                                         f"({json.dumps(dict(report.bad)) if report.bad else 'nothing left out'})")
            name = name or f"kalshi {ticker} {datetime.fromtimestamp(span[0] / 1000, UTC):%Y-%m-%d %H:%M}"
            history = {"source": "kalshi", "layouts": [], "prints": "kalshi_trades", "print_fees": False, "gaps": [],
                       "tick_sizes": [], "book": f"1-minute candlesticks' closing best bid and ask, "
                                                 f"{CANDLE_DEPTH // wire.CONTRACT} contracts a side (candles carry "
                                                 "no size)"}
            notes = (f"Kalshi's public history of {ticker} (pair of {pair.condition_id}): {report.trades:,} trades "
                     f"({report.historical_trades:,} from the historical tier), books from {report.candles:,} "
                     f"1-minute candles; left out: {json.dumps(dict(report.bad)) if report.bad else 'none'}")
            ended = ending(report.market)  # how it ended, once Kalshi finalized it (a backtest settles there)
            session, written = import_kalshi_ticks(
                db, condition_id=pair.condition_id, tokens=(wire.token_id(ticker, "yes"), wire.token_id(ticker, "no")),
                span=span, ticks=ticks, name=name, notes=notes, actor=actor, history=history, ended=ended)
    finally:
        reader.close()
    said = (f"{ended.label} at {utc(ended.at)} UTC (Kalshi)" if ended is not None else
            "not finalized as Kalshi shows it: a backtest values what it holds at the last mid (give its end with "
            "`python -m engine resolutions set`)")
    return {"session": session.name, "ticker": ticker, "ticks": written, "resolution": said, **report.as_dict()}


def _sorted(scratch: Path, reader: Any, ticker: str, span: tuple[int, int], report: Any) -> Any:
    """The history's ticks in time order, through a scratch file (trades arrive newest first)."""
    from engine.venues.kalshi.history import history_ticks
    from storage.research.sort_scratch import add_lines, lines_by_time

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    found = add_lines(scratch, ((t[0], json.dumps(list(t), separators=(",", ":")))
                                for t in history_ticks(reader, ticker, span[0], span[1], report, progress)))
    return (tuple(json.loads(line)) for line in lines_by_time(scratch)) if found else iter(())

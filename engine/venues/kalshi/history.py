"""Kalshi's public history of a paired market, into the recording beside its Polymarket market, so a
pair is researched (and backtested) on both venues over the same hours.

A small reader of Kalshi's public, unauthenticated endpoints of today (fixed-point answers: prices
as `*_dollars` strings, counts as `*_fp` strings), not the trading client:
- `GET /historical/cutoff`: trades created before `trades_created_ts` are served by
  `GET /historical/trades`, later ones by `GET /markets/trades`; candlesticks of a market settled
  before `market_settled_ts` by `GET /historical/markets/{ticker}/candlesticks`, others by
  `GET /series/{series}/markets/{ticker}/candlesticks` (at most 5,000 a request);
- trades page by `cursor`, `limit` 1,000, `min_ts`/`max_ts` in seconds.

What becomes of them, as the desk's own recorder writes a Kalshi book and its prints
(engine/venues/kalshi/reference.py): each trade a print of the YES token (`kalshi:<ticker>:yes`) at
its YES price, BUY when the taker bought YES, its `trade_id` kept as its identity; each 1-minute
candle's closing best YES bid and ask a one-level book of both tokens at the minute's end (a NO bid
at 1 - the YES ask). Kalshi publishes no order-book history and a candle carries no size: the books
hold CANDLE_DEPTH contracts a side, which the import's history states. A side a candle does not
quote stays empty (no mid). Nothing is guessed beyond that: a trade or candle that cannot be read is
counted under its reason and left out.

How the market ended, once Kalshi has `finalized` it, is read from the same market record (`ending`),
as the desk's reference reads it live (engine/venues/kalshi/reference.py): a `yes` or `no` result, a
settlement at a value (`scalar`, its `settlement_value_dollars`), anything else a void; dated by its
`settlement_ts`. A backtest settles there (storage/research/market_resolutions.py).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from contracts.domain import BadNumber, to_micros
from contracts.resolutions import Resolution
from contracts.venues.kalshi import ids as wire

# A recording tick (at, token, kind, side, price, size, mid, data), as engine/venues/polymarket/pmxt_rows.py makes them.
Tick = tuple[int, str, str, str | None, int | None, int | None, int | None, str | None]
PAGE = 1_000
MAX_PAGES = 10_000  # 10 M trades: a typo in a range, not a market's history
CANDLE_S = 60
CANDLES_A_REQUEST = 5_000
CANDLE_DEPTH = 100 * wire.CONTRACT  # contracts a side of a book made from a candle (candles carry no size)
MICRO = 1_000_000
GRID = 100
Progress = Callable[[str], None]


class KalshiHistoryError(Exception):
    """Kalshi's history could not be read as documented; nothing was imported."""


@dataclass
class KalshiReport:
    trades: int = 0
    historical_trades: int = 0
    candles: int = 0
    books: int = 0
    bad: Counter[str] = field(default_factory=Counter)
    market: dict[str, Any] = field(default_factory=dict)  # the market's record as Kalshi answered it

    def as_dict(self) -> dict[str, Any]:
        return {"trades": self.trades, "of_them_historical": self.historical_trades, "candles": self.candles,
                "books": self.books, "left_out": dict(self.bad)}


class PublicHistory:
    """Kalshi's public history endpoints, read with one HTTP client (no key: they are public)."""

    def __init__(self, base_url: str, *, timeout_s: float = 30.0) -> None:
        self.base = base_url.rstrip("/")
        self.client = httpx.Client(timeout=timeout_s)

    def close(self) -> None:
        self.client.close()

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        try:
            answer = self.client.get(self.base + path, params=params)
        except httpx.HTTPError as exc:
            raise KalshiHistoryError(f"Kalshi {path}: {str(exc)[:200] or type(exc).__name__}") from None
        if answer.status_code == 404:
            return None
        if answer.status_code >= 400:
            raise KalshiHistoryError(f"Kalshi {path} answered {answer.status_code}: {answer.text[:300]}")
        try:
            return answer.json()
        except ValueError:
            raise KalshiHistoryError(f"Kalshi {path} answered something that is not JSON") from None

    def cutoff(self) -> tuple[int, int]:
        """(trades created before this ms are historical, markets settled before this ms are historical)."""
        found = self.get("/historical/cutoff") or {}
        return _when(found.get("trades_created_ts")) or 0, _when(found.get("market_settled_ts")) or 0

    def market(self, ticker: str) -> tuple[dict[str, Any], bool]:
        """(the market, whether it is served by the historical tier)."""
        live = self.get(f"/markets/{ticker}")
        if isinstance(live, dict) and isinstance(live.get("market"), dict):
            return live["market"], False
        old = self.get(f"/historical/markets/{ticker}")
        if isinstance(old, dict) and isinstance(old.get("market"), dict):
            return old["market"], True
        raise KalshiHistoryError(f"Kalshi knows no market {ticker!r}, live or historical")

    def trades(self, path: str, ticker: str, start_ms: int, end_ms: int) -> Iterator[Any]:
        cursor = None
        for _ in range(MAX_PAGES):
            params = {"ticker": ticker, "min_ts": start_ms // 1000, "max_ts": end_ms // 1000, "limit": PAGE,
                      **({"cursor": cursor} if cursor else {})}
            page = self.get(path, params)
            if not isinstance(page, dict) or not isinstance(page.get("trades"), list):
                raise KalshiHistoryError(f"Kalshi {path} answered something that is not a page of trades")
            yield from page["trades"]
            cursor = page.get("cursor")
            if not cursor or not page["trades"]:
                return
        raise KalshiHistoryError(f"Kalshi {path}: more than {MAX_PAGES * PAGE:,} trades in the range; import less")

    def candles(self, path: str, start_ms: int, end_ms: int) -> Iterator[Any]:
        step = CANDLES_A_REQUEST * CANDLE_S
        for first in range(start_ms // 1000, end_ms // 1000 + 1, step):
            page = self.get(path, {"start_ts": first, "end_ts": min(first + step - 1, end_ms // 1000),
                                   "period_interval": CANDLE_S // 60})
            if not isinstance(page, dict) or not isinstance(page.get("candlesticks"), list):
                raise KalshiHistoryError(f"Kalshi {path} answered something that is not candlesticks")
            yield from page["candlesticks"]


def history_ticks(reader: PublicHistory, ticker: str, start_ms: int, end_ms: int, report: KalshiReport,
                  progress: Progress | None = None) -> Iterator[Tick]:
    """The market's trades and candle books inside [start, end] as ticks (not yet in time order)."""
    trades_cutoff, settled_cutoff = reader.cutoff()
    market, historical = reader.market(ticker)
    report.market = market
    settled = _when(market.get("settlement_ts")) or _when(market.get("close_time"))
    parts = []
    if start_ms < trades_cutoff:
        parts.append(("/historical/trades", start_ms, min(end_ms, trades_cutoff - 1)))
    if end_ms >= trades_cutoff:
        parts.append(("/markets/trades", max(start_ms, trades_cutoff), end_ms))
    seen: set[str] = set()
    for path, low, high in parts:
        for raw in reader.trades(path, ticker, low, high):
            tick = _trade(raw, ticker, (start_ms, end_ms), seen, report)
            if tick is not None:
                report.trades += 1
                report.historical_trades += int(path.startswith("/historical"))
                yield tick
        if progress is not None:
            progress(f"kalshi: {report.trades:,} trades of {ticker} read")
    old = historical or (settled is not None and settled < settled_cutoff)
    series = str(market.get("series_ticker") or _series(reader, market))
    path = (f"/historical/markets/{ticker}/candlesticks" if old
            else f"/series/{series}/markets/{ticker}/candlesticks")
    for raw in reader.candles(path, start_ms, end_ms):
        report.candles += 1
        for tick in _candle_books(raw, ticker, (start_ms, end_ms), report):
            report.books += 1
            yield tick
    if progress is not None:
        progress(f"kalshi: {report.candles:,} candles of {ticker} read")


def ending(market: dict[str, Any]) -> Resolution | None:
    """How a Kalshi market ended, from its record (None until it is finalized, or without a settlement time)."""
    at = _when(market.get("settlement_ts"))
    ticker = market.get("ticker")
    if market.get("status") != "finalized" or at is None or not isinstance(ticker, str) or not ticker:
        return None
    result = market.get("result")
    if result in ("yes", "no"):
        return Resolution(wire.market_id(ticker), at, str(result), None, "kalshi")
    value = _micros(market.get("settlement_value_dollars")) if result == "scalar" else None
    if value is not None and 0 <= value <= MICRO:
        return Resolution(wire.market_id(ticker), at, "value", value, "kalshi")
    return Resolution(wire.market_id(ticker), at, "void", None, "kalshi")  # no value the desk can read: its void


def _series(reader: PublicHistory, market: dict[str, Any]) -> str:
    event = market.get("event_ticker")
    found = reader.get(f"/events/{event}") if isinstance(event, str) and event else None
    series = (found or {}).get("event", {}).get("series_ticker") if isinstance(found, dict) else None
    if not isinstance(series, str) or not series:
        raise KalshiHistoryError(f"Kalshi names no series for market {market.get('ticker')!r}: its candlesticks "
                                 "cannot be asked for")
    return series


def _trade(raw: Any, ticker: str, span: tuple[int, int], seen: set[str], report: KalshiReport) -> Tick | None:
    if not isinstance(raw, dict) or raw.get("ticker", ticker) != ticker:
        report.bad["a trade that is not this market's"] += 1
        return None
    at, price, size = _when(raw.get("created_time")), _micros(raw.get("yes_price_dollars")), \
        _micros(raw.get("count_fp"))
    taker = raw.get("taker_outcome_side", raw.get("taker_side"))
    if at is None or price is None or size is None or not 0 < price < MICRO or price % GRID or size <= 0 \
            or taker not in ("yes", "no"):
        report.bad["a trade without a time, a YES price inside (0, 1), a count above 0 and a taker side"] += 1
        return None
    if not span[0] <= at <= span[1]:
        report.bad["a trade outside the range"] += 1
        return None
    trade_id = str(raw.get("trade_id") or "")[:80]
    if trade_id in seen:
        report.bad["a trade read twice (the same trade id)"] += 1
        return None
    if trade_id:
        seen.add(trade_id)
    data = json.dumps({"tx": trade_id}, separators=(",", ":")) if trade_id else None
    return (at, wire.token_id(ticker, "yes"), "trade", "BUY" if taker == "yes" else "SELL", price, size, None, data)


def _candle_books(raw: Any, ticker: str, span: tuple[int, int], report: KalshiReport) -> Iterator[Tick]:
    if not isinstance(raw, dict) or not isinstance(raw.get("end_period_ts"), int):
        report.bad["a candle without its end time"] += 1
        return
    at = raw["end_period_ts"] * 1000
    if not span[0] <= at <= span[1]:
        return
    bid = _close(raw.get("yes_bid"))
    ask = _close(raw.get("yes_ask"))
    if bid is not None and ask is not None and bid >= ask:
        report.bad["a candle whose best bid is not below its best ask"] += 1
        return
    yes = {"b": [[bid, CANDLE_DEPTH]] if bid else [], "a": [[ask, CANDLE_DEPTH]] if ask else []}
    no = {"b": [[MICRO - ask, CANDLE_DEPTH]] if ask else [], "a": [[MICRO - bid, CANDLE_DEPTH]] if bid else []}
    for side, book in (("yes", yes), ("no", no)):
        yield at, wire.token_id(ticker, side), "book", None, None, None, None, json.dumps(book, separators=(",", ":"))


def _close(ohlc: Any) -> int | None:
    """A candle side's closing price in micro-units, None when that side had no quote (0 or 1, or absent)."""
    value = _micros(ohlc.get("close_dollars")) if isinstance(ohlc, dict) else None
    return value if value is not None and 0 < value < MICRO and value % GRID == 0 else None


def _micros(raw: Any) -> int | None:
    if not isinstance(raw, str) or len(raw) > 24:
        return None
    try:  # "1e999999" (an overflow when scaled) and "1e-999999" (silently 0) are refused alike
        value = to_micros(raw, exact=True)
    except BadNumber:
        return None
    return value if abs(value) < 2**53 else None


def _when(raw: Any) -> int | None:
    """An ISO time or Unix seconds as epoch ms (None when it is neither)."""
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < 2**34:
        return raw * 1000
    if isinstance(raw, str) and len(raw) <= 40:
        try:
            when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return None
        return int((when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp() * 1000)
    return None

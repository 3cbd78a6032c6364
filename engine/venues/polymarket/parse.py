"""Pure parsers for Polymarket market data: WebSocket market-channel messages and REST
book summaries (market metadata is in `parse_markets`).

Parsed messages are NamedTuples: they are built once per frame on the hot path, where a
frozen dataclass costs twice as much to construct.

Wire prices and sizes are decimal strings; they become integer micro-units here and
nowhere else. `micros` is the hot-path converter: exact for plain decimals, and it falls
back to `contracts.domain.to_micros` for anything unusual (exponents, signs, > 6 places), so
both always agree. Books on the wire list the best level LAST; these parsers return
levels in wire order and leave ordering to the book cache.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from operator import itemgetter
from typing import Any, NamedTuple

from contracts.domain import MICRO, Side, to_micros
from contracts.jsonsafe import FEED_BYTES, loads_bounded
from engine.feeds.books import LevelChange
from engine.feeds.market_data_events import MarketResolved, TickSizeChanged, TradePrint

log = logging.getLogger("engine.feeds.parse")
_SCALE = (MICRO, 100_000, 10_000, 1_000, 100, 10, 1)
BID, ASK = True, False  # `is_bid` flags in LevelChange tuples

PriceLevels = list[tuple[int, int]]


def micros(text: Any) -> int:
    """A venue decimal ("0.514", "21574.08", 5) as micro-units, rounded down past 6 places.

    The hot path takes decimal digits with at most one dot and six places (what the
    venue sends); anything else goes through `to_micros`, so the two always agree
    (property-tested)."""
    try:
        whole, _, frac = text.partition(".")
    except (AttributeError, TypeError):
        return to_micros(text)
    digits = whole + frac
    if len(frac) <= 6 and digits.isdecimal():
        return int(digits) * _SCALE[len(frac)]
    return to_micros(text)


def price_micros(text: Any) -> int:
    """`micros` for prices, memoised: a feed repeats a few thousand price strings forever
    (at most 10,000 per tick grid), so the common case is one dict lookup."""
    value = _PRICES.get(text)
    if value is None:
        value = micros(text)
        if type(text) is str and len(_PRICES) < _PRICE_MEMO_LIMIT:
            _PRICES[text] = value
    return value


_PRICES: dict[Any, int] = {}
_LEVEL_FIELDS = itemgetter("price", "size")
_CHANGE_FIELDS = itemgetter("asset_id", "side", "price", "size")
_PRICE_MEMO_LIMIT = 100_000


def millis(value: Any) -> int:
    """A wire timestamp (ms as a string or number; seconds are scaled up) as epoch ms."""
    try:
        number = int(value)
    except ValueError:
        number = int(float(value))
    return number * 1000 if number < 100_000_000_000 else number


class BookSnapshot(NamedTuple):
    """A full book for one token (REST `/book(s)` or WS `book`), levels in wire order."""

    token_id: str
    condition_id: str
    bids: PriceLevels
    asks: PriceLevels
    ts_ms: int | None
    hash: str | None = None
    tick: int | None = None
    min_size: int | None = None
    neg_risk: bool | None = None


class PriceChanges(NamedTuple):
    """One `price_change` message: absolute level totals, possibly for several tokens.

    `entries` keeps the raw new-format entries: their best_bid/best_ask are read only
    when the feed audits its books (`reported_tops`), never on the hot path."""

    condition_id: str
    ts_ms: int | None
    changes: list[LevelChange]
    entries: list[dict[str, Any]] | None


MarketMessage = BookSnapshot | PriceChanges | TradePrint | TickSizeChanged | MarketResolved


def levels(raw: Iterable[dict[str, Any]] | None) -> PriceLevels:
    price_of, size_of, fields = price_micros, micros, _LEVEL_FIELDS
    out = []
    for level in raw or ():
        price, size = fields(level)
        out.append((price_of(price), size_of(size)))
    return out


def _ts(msg: dict[str, Any]) -> int | None:
    raw = msg.get("timestamp")
    return millis(raw) if raw not in (None, "") else None


def book_snapshot(msg: dict[str, Any]) -> BookSnapshot:
    """A WS `book` message or a REST book summary (the REST one also has tick/min size)."""
    tick, min_size = msg.get("tick_size"), msg.get("min_order_size")
    neg_risk = msg.get("neg_risk")
    return BookSnapshot(
        token_id=str(msg["asset_id"]),
        condition_id=str(msg.get("market", "")),
        bids=levels(msg.get("bids")),
        asks=levels(msg.get("asks")),
        ts_ms=_ts(msg),
        hash=msg.get("hash"),
        tick=micros(tick) if tick not in (None, "") else None,
        min_size=micros(min_size) if min_size not in (None, "") else None,
        neg_risk=neg_risk if isinstance(neg_risk, bool) else None,
    )


def price_changes(msg: dict[str, Any]) -> PriceChanges:
    """Both `price_change` formats: the new `price_changes[]` (each entry names its token),
    the legacy `changes[]` under one `asset_id`, and the oldest single-level form."""
    entries = msg.get("price_changes")
    if entries is not None:
        changes = []
        price_of, size_of, fields = price_micros, micros, _CHANGE_FIELDS
        for e in entries:
            token, side, price, size = fields(e)
            changes.append((token, side == "BUY", price_of(price), size_of(size)))
    else:
        token = str(msg["asset_id"])
        legacy = msg.get("changes")
        if legacy is None:
            legacy = [msg]
        changes = [(token, e["side"] == "BUY", price_micros(e["price"]), micros(e["size"])) for e in legacy]
    return PriceChanges(msg.get("market") or "", _ts(msg), changes, entries)


def reported_tops(entries: Iterable[dict[str, Any]]) -> dict[str, tuple[str | None, str | None]]:
    """Per token, the (best_bid, best_ask) the venue reported after a new-format message."""
    return {e["asset_id"]: (e.get("best_bid"), e.get("best_ask")) for e in entries}


def top_price(text: str | None) -> int | None:
    """A `best_bid`/`best_ask` value; the venue writes an empty side as "0" (bid) or "1"
    (ask), neither of which can be a resting price."""
    if not text:
        return None
    try:
        value = micros(text)
    except ValueError:
        return None
    return value if 0 < value < MICRO else None


def trade_print(msg: dict[str, Any], at_ms: int) -> TradePrint:
    ts = _ts(msg)
    return TradePrint(
        token_id=str(msg["asset_id"]),
        price=price_micros(msg["price"]),
        size=micros(msg.get("size") or "0"),
        side=Side(str(msg.get("side", "BUY")).upper()),
        at_ms=ts if ts is not None else at_ms,
    )


def tick_change(msg: dict[str, Any], at_ms: int) -> TickSizeChanged:
    """A `tick_size_change`. The venue may send `old_tick_size` as "" (or not at all): the event
    still counts, for the new tick is what every order from now on must follow."""
    ts = _ts(msg)
    old = msg.get("old_tick_size")
    return TickSizeChanged(
        token_id=str(msg["asset_id"]),
        old_tick=micros(old) if old not in (None, "") else None,
        new_tick=micros(msg["new_tick_size"]),
        at_ms=ts if ts is not None else at_ms,
    )


def market_resolved(msg: dict[str, Any], at_ms: int) -> MarketResolved:
    ts = _ts(msg)
    winner = msg.get("winning_asset_id")
    return MarketResolved(
        condition_id=str(msg.get("market", "")),
        winning_token=str(winner) if winner else None,
        at_ms=ts if ts is not None else at_ms,
    )


def market_message(msg: dict[str, Any], at_ms: int) -> MarketMessage | None:
    """One decoded market-channel object; None for kinds the desk does not use."""
    kind = msg.get("event_type")
    if kind == "price_change":
        return price_changes(msg)
    if kind == "book":
        return book_snapshot(msg)
    if kind == "last_trade_price":
        return trade_print(msg, at_ms)
    if kind == "tick_size_change":
        return tick_change(msg, at_ms)
    if kind == "market_resolved":
        return market_resolved(msg, at_ms)
    return None  # best_bid_ask, new_market, ... carry nothing a book needs


def market_frame(text: str, at_ms: int) -> list[MarketMessage]:
    """A market-channel text frame (a JSON object or an array of them); JsonRefused if it is
    not JSON or is bigger or deeper than any frame the venue sends. A message that cannot be
    read (a field missing, a price that is no number) is logged and left out; the frame's
    other messages still apply."""
    data = loads_bounded(text, max_bytes=FEED_BYTES, what="a market frame")
    out: list[MarketMessage] = []
    for item in data if type(data) is list else (data,):
        if type(item) is not dict:
            continue
        try:
            if item.get("event_type") == "price_change":  # most frames: skip the dispatcher
                out.append(price_changes(item))
                continue
            parsed = market_message(item, at_ms)
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            log.warning("market message could not be read: skipped, the rest of its frame applied",
                        extra={"error": f"{type(exc).__name__}: {exc}", "payload": str(item)[:200]})
            continue
        if parsed is not None:
            out.append(parsed)
    return out

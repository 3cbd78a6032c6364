"""One PMXT archive row as one of this desk's recording ticks, or the reason it is left out.

Nothing from the archive is trusted: every JSON text is parsed bounded in size and depth (a
hostile `data` or `bids` nested 200,000 deep is refused before the parser sees it), every number
is checked for range before it is converted (a decimal of a thousand digits is counted and left
out, never turned into a thousand-digit integer), and a row that cannot be read as a book, a
level change, a trade or a tick size change is counted under its reason.

A tick is `(at, token_id, kind, side, price, size, mid, data)` in micro-units and ms; a trade's
data carries the print's own identity and fee (`{"tx": hash, "fee_bps": n}`) when the archive
gives them, so two distinct prints in one millisecond stay two, and the fee that print paid is
the one a backtest charges.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from contracts.domain import BadNumber, to_micros
from contracts.jsonsafe import JsonRefused, loads_bounded
from contracts.venue_rules import TICKS
from storage.research.session_files import LATEST_TIME

Tick = tuple[int, str, str, str | None, int | None, int | None, int | None, str | None]
GRID = 100  # the venue's finest price grid (0.0001) in micro-units
MICRO = 1_000_000
MOST_SIZE = 2**53  # micro-shares: what a session file accepts (storage/research/session_checks.py)
MOST_DIGITS = 40  # a number's text: no price or size of the venue's is longer
DATA_BYTES = 1 << 20  # one row's JSON: a full book of a busy market is well under this
DATA_DEPTH = 4  # {"bids": [{"price": ...}]} (v1) and [["price", "size"]] (v2) are 3 deep at most
MOST_FEE_BPS = 10_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
OUT_OF_RANGE = "a number out of range (a price outside [0, 1], a size of 2^53 micro-units or more, or a decimal " \
               "too long to be one)"
HOSTILE_JSON = "JSON too large or nested too deeply to be the archive's"
OUT_OF_TIME = "a receive time outside 1970 to 2100 (not the archive's)"
BEFORE_SNAPSHOT = "a change before its token's first book snapshot"
AFTER_GAP = "a change after missing hours, before its token's next book snapshot"


class OutOfRange(ValueError):
    """A number that no price or size of the venue's could be."""


@dataclass
class RowState:
    """What reading a run of files remembers between rows: the tokens whose book is known (a change
    before its token's snapshot cannot be applied), the prints already read (by their identity),
    and the tick size changes seen (token, at, old tick, new tick)."""

    tokens: Mapping[str, str]  # token id -> condition id
    bad: Counter[str] = field(default_factory=Counter)
    booked: set[str] = field(default_factory=set)
    reset: set[str] = field(default_factory=set)  # tokens whose book a gap emptied, until their next snapshot
    prints: set[tuple[Any, ...]] = field(default_factory=set)
    tick_changes: list[tuple[str, int, int | None, int]] = field(default_factory=list)
    fees_seen: bool = False  # a print carried its fee (v2)
    prints_seen: int = 0


# -- v1: JSON in `data` ----------------------------------------------------------------------


def v1_ticks(rows: list[dict[str, Any]], state: RowState) -> Iterator[Tick]:
    for row in rows:
        data = _json(row["data"], state.bad)
        if data is None:
            continue
        if not isinstance(data, dict):
            state.bad["data that is not a JSON object"] += 1
            continue
        kind = row["update_type"]
        change = (data.get("change_side"), data.get("change_price"), data.get("change_size"))
        book = (data.get("bids"), data.get("asks"))
        ticks = (data.get("old_tick_size"), data.get("new_tick_size"))
        yield from _one(state, kind, _ms(row["timestamp_received"]), data.get("token_id"), row["market_id"],
                        change, book, (None, None, None), (data.get("best_bid"), data.get("best_ask")), ticks, None)


# -- v2: typed columns -----------------------------------------------------------------------


def v2_ticks(rows: list[dict[str, Any]], state: RowState) -> Iterator[Tick]:
    for row in rows:
        market = row["market"].decode(errors="replace") if isinstance(row["market"], bytes) else row["market"]
        kind = {"book": "book_snapshot", "last_trade_price": "trade"}.get(row["event_type"], row["event_type"])
        levels = (row["side"], row["price"], row["size"])
        bids = _json(row["bids"], state.bad) if row["bids"] is not None else []
        asks = _json(row["asks"], state.bad) if row["asks"] is not None else []
        if bids is None or asks is None:
            continue
        identity = (row.get("transaction_hash"), row.get("fee_rate_bps"), _ms(row.get("timestamp")))
        yield from _one(state, kind, _ms(row["timestamp_received"]), row["asset_id"], market, levels, (bids, asks),
                        levels, (row["best_bid"], row["best_ask"]),
                        (row.get("old_tick_size"), row.get("new_tick_size")), identity)


def _json(raw: Any, bad: Counter[str]) -> Any:
    """`raw` parsed, bounded; None (counted) when it is not JSON this desk reads."""
    if not isinstance(raw, (str, bytes)):
        bad["data that is not a JSON object"] += 1
        return None
    try:
        return loads_bounded(raw, max_bytes=DATA_BYTES, max_depth=DATA_DEPTH, what="the row's JSON")
    except JsonRefused as exc:
        bad[HOSTILE_JSON if ("deeply" in str(exc) or "large" in str(exc)) else "data that is not a JSON object"] += 1
        return None


# -- one row to one tick (or the reason it is left out) ----------------------------------------


def _one(state: RowState, kind: Any, at: int | None, token: Any, market: Any, change: tuple[Any, Any, Any],
         book: tuple[Any, Any], trade: tuple[Any, Any, Any], best: tuple[Any, Any], ticks: tuple[Any, Any],
         identity: tuple[Any, Any, Any] | None) -> Iterator[Tick]:
    try:
        tick = _tick(state, kind, at, token, market, change, book, trade, best, ticks, identity)
    except OutOfRange:
        tick = OUT_OF_RANGE
    if isinstance(tick, str):
        state.bad[tick] += 1
    elif tick is not None:
        yield tick


def _tick(state: RowState, kind: Any, at: int | None, token: Any, market: Any, change: tuple[Any, Any, Any],
          book: tuple[Any, Any], trade: tuple[Any, Any, Any], best: tuple[Any, Any], ticks: tuple[Any, Any],
          identity: tuple[Any, Any, Any] | None) -> Tick | str | None:
    if at is None:
        return "a receive time that is not a time"
    if not 0 <= at <= LATEST_TIME:  # a session's span holds no other (storage/research/session_files.py)
        return OUT_OF_TIME
    if not isinstance(token, str) or state.tokens.get(token) != market:
        return "a token that is not one of its market's"
    mid = _mid(*best)
    if kind == "book_snapshot":
        levels = _book(*book)
        if levels is None:
            return "a book snapshot whose levels are not [price on the grid, size above 0]"
        state.booked.add(token)
        state.reset.discard(token)
        return at, token, "book", None, None, None, mid, json.dumps(levels, separators=(",", ":"))
    if kind == "price_change":
        if token not in state.booked:
            return AFTER_GAP if token in state.reset else BEFORE_SNAPSHOT
        side, price, size = change
        price_m, size_m = _price(price), _size(size, empty=True)
        if side not in ("BUY", "SELL") or price_m is None or size_m is None:
            return "a change that is not side BUY/SELL, a price on the grid and a size of 0 or more"
        return at, token, "change", side, price_m, size_m, mid, None
    if kind == "trade":
        return _trade(state, at, token, trade, mid, identity)
    if kind == "tick_size_change":
        old, new = (_tick_size(t) for t in ticks)
        if new is None:
            return "a tick size change whose new tick is not one of the venue's"
        state.tick_changes.append((token, at, old, new))
        return None
    return f"an event of a type this desk does not read ({str(kind)[:30]})"


def _trade(state: RowState, at: int, token: str, trade: tuple[Any, Any, Any], mid: int | None,
           identity: tuple[Any, Any, Any] | None) -> Tick | str | None:
    side, price, size = trade
    price_m, size_m = _price(price), _size(size, empty=False)
    if side not in ("BUY", "SELL") or price_m is None or not 0 < price_m < MICRO or size_m is None:
        return "a trade that is not side BUY/SELL, a price inside (0, 1) on the grid and a size above 0"
    data = None
    if identity is not None:
        tx, fee_bps, venue_at = identity
        # The archive has no log index: a print is its transaction, token, venue time, side, price and size.
        # A repeat of all of them is the same print received twice; a different hash is a different print.
        if isinstance(tx, str) and tx:
            key = (tx[:80], token, venue_at, side, price_m, size_m)
            if key in state.prints:
                return "a print read twice (the same transaction, token, time, side, price and size)"
            state.prints.add(key)
        fee = fee_bps if isinstance(fee_bps, int) and not isinstance(fee_bps, bool) else None
        if fee is not None and not 0 <= fee <= MOST_FEE_BPS:
            raise OutOfRange
        extra = {k: v for k, v in (("tx", tx[:80] if isinstance(tx, str) and tx else None), ("fee_bps", fee))
                 if v is not None}
        state.fees_seen = state.fees_seen or fee is not None
        data = json.dumps(extra, separators=(",", ":")) if extra else None
    state.prints_seen += 1
    return at, token, "trade", side, price_m, size_m, mid, data


def trade_tick(trade: Any, tokens: Mapping[str, str], span: tuple[int, int], state: RowState) -> Tick | None:
    """One of the Data API's public trades (taker side, price, size, a time in seconds) as a trade
    tick inside `span`, or None (counted). Its time is its second's start: the Data API says no
    more, so within that second it may replay before book changes it followed."""
    if not isinstance(trade, Mapping):
        state.bad["a trade that is not an object"] += 1
        return None
    token, seconds = trade.get("asset"), trade.get("timestamp")
    at = seconds * 1000 if isinstance(seconds, int) and not isinstance(seconds, bool) and 0 <= seconds < 2**40 \
        else None
    if at is not None and not span[0] <= at <= span[1]:
        state.bad["a trade outside the archive files' span"] += 1
        return None
    tx = trade.get("transactionHash")
    identity = (tx, None, at) if isinstance(tx, str) else None
    for tick in _one(state, "trade", at, token, trade.get("conditionId"), (None, None, None), (None, None),
                     (trade.get("side"), trade.get("price"), trade.get("size")), (None, None), (None, None),
                     identity):
        return tick
    return None


def ms(value: Any) -> int | None:
    return _ms(value)


def _ms(value: Any) -> int | None:
    """A timestamp column's value as epoch ms: the reader hands it over as ms already (an int:
    engine/venues/polymarket/pmxt.py, never a datetime, which a time past the year 9999 could not be); an
    aware datetime is taken too, without float rounding."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, datetime) and value.tzinfo is not None:
        return (value - EPOCH) // timedelta(milliseconds=1)
    return None


def _micros(value: Any) -> int | None:
    """`value` in micro-units (exactly), None when it is not a number; OutOfRange when it is one no
    price or size could be (checked before it is scaled: a decimal of a thousand digits is never
    turned into an integer of a thousand digits)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and len(value) > MOST_DIGITS:
        raise OutOfRange
    try:
        dec = value if isinstance(value, Decimal) else Decimal(value if isinstance(value, (str, int)) else str(value))
    except (InvalidOperation, ValueError, TypeError):
        return None
    if dec.is_finite() and dec.adjusted() > 12:  # 10^13 shares: far past any size a session file accepts
        raise OutOfRange
    try:
        return to_micros(dec, exact=True)
    except (BadNumber, InvalidOperation, ValueError, TypeError):
        return None


def _price(value: Any) -> int | None:
    micros = _micros(value) if value is not None else None
    if micros is not None and not 0 <= micros <= MICRO:
        raise OutOfRange
    return micros if micros is not None and micros % GRID == 0 else None


def _size(value: Any, *, empty: bool) -> int | None:
    micros = _micros(value) if value is not None else None
    if micros is not None and not 0 <= micros < MOST_SIZE:
        raise OutOfRange
    return micros if micros is not None and micros >= (0 if empty else 1) else None


def _tick_size(value: Any) -> int | None:
    micros = _micros(value) if value is not None else None
    return micros if micros in TICKS else None


def _mid(bid: Any, ask: Any) -> int | None:
    """The mid of the best bid and ask, or None where either side is empty: the archive reports an
    empty side's best as 0 (no bid) or 1 (no ask), and a mid from those is no price anyone quoted."""
    low, high = _price(bid) if bid is not None else None, _price(ask) if ask is not None else None
    if low is None or high is None or low > high or low <= 0 or high >= MICRO:
        return None
    return (low + high) // 2


def _book(bids: Any, asks: Any) -> dict[str, list[list[int]]] | None:
    """{"b": [[price, size], ...] best first, "a": [...]}, or None when a level is unreadable."""
    sides: dict[str, list[list[int]]] = {}
    for key, raw, best_first in (("b", bids, True), ("a", asks, False)):
        if raw is None:
            raw = []
        if not isinstance(raw, list):
            return None
        levels = []
        for level in raw:
            price, size = (level.get("price"), level.get("size")) if isinstance(level, dict) else (
                level if isinstance(level, list) and len(level) == 2 else (None, None))
            price_m, size_m = (_price(price), _size(size, empty=False)) if price is not None else (None, None)
            if price_m is None or size_m is None:
                return None
            levels.append([price_m, size_m])
        sides[key] = sorted(levels, key=lambda lv: lv[0], reverse=best_first)
    return sides

"""Market-data events the feed publishes to its listeners (executor, paper venue, recorder)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from contracts.domain import Side


@dataclass(frozen=True, slots=True)
class BookChanged:
    """The cached book of `token_id` changed (snapshot, delta or REST resync)."""

    token_id: str
    at_ms: int


@dataclass(frozen=True, slots=True)
class TradePrint:
    """A trade on the venue (anyone's): `side` is the taker's side, `price` the token price."""

    token_id: str
    price: int
    size: int
    side: Side
    at_ms: int


@dataclass(frozen=True, slots=True)
class TickSizeChanged:
    """The market of `token_id` trades on a new tick from now on. `old_tick` is None when the
    venue left it out (it may send ""): the new tick is what matters."""

    token_id: str
    old_tick: int | None
    new_tick: int
    at_ms: int


@dataclass(frozen=True, slots=True)
class MarketResolved:
    condition_id: str
    winning_token: str | None
    at_ms: int


@dataclass(frozen=True, slots=True)
class MarketVoided:
    """The venue ended the market without a yes or no: Kalshi's void (no `yes_value`: every position
    is paid back at what it cost) or a scalar settlement (a YES contract pays `yes_value`, a NO the
    rest of the dollar)."""

    condition_id: str
    at_ms: int
    yes_value: int | None = None


@dataclass(frozen=True, slots=True)
class PairNotBinary:
    """A paired market the other venue does not trade as a yes/no question (a Kalshi scalar
    market: a YES contract pays a value between 0 and 1): the desk neither prices, trades nor
    settles it."""

    condition_id: str
    market_type: str
    at_ms: int


MarketEvent = BookChanged | TradePrint | TickSizeChanged | MarketResolved | MarketVoided | PairNotBinary
MarketListener = Callable[[MarketEvent], None]

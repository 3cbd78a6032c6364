"""The Strategy protocol and the small base class every built-in strategy extends.

Contract (ARCHITECTURE invariant 2, "strategies never trade"):

* `decide(snapshot, state, now_ms) -> list[Intent]` is pure with respect to the outside world:
  no I/O, no clock reads (time is `now_ms`), no database, no randomness.
* A strategy MAY keep in-memory state of its own (indicators, the last signal per market), but
  only state updated deterministically from the arguments it is given: replaying the same
  sequence of calls on a fresh instance yields the same intents. Such state must stay bounded.
* Several markets: `snapshot.markets` are the markets decided in this call, not all of the
  strategy's. The timed pass decides every one of them; a decision on an event (the desk's
  default, engine/trading/passes/event_decisions.py) decides the market that moved alone (its
  group, for a strategy whose `decides_whole` is True), the strategy's other markets named in
  `snapshot.undecided`. A market absent from `markets` has NOT left the strategy: what it keeps for
  that market is kept. A market leaves only by `left(markets)`, which the engine calls when the
  strategy's list or filter drops it (or memory brought back a market it no longer trades): that
  is where per-market state is forgotten. A kind that keeps per-market state in dicts keyed by
  condition id names them in `per_market` and gets both for free; one that keys it otherwise
  overrides `kept_markets` and `left`.
* At most one Intent per market. `quotes` is the complete set of orders wanted working there
  now; the latest intent wins and an empty `quotes` means "no orders from me here". The
  built-ins send an intent for every market in the snapshot (empty, with a reason, when they
  want nothing), except that taker strategies stay silent while one of their orders in that
  market is still in flight, so an unresolved FAK is neither doubled nor cancelled.
* Quotes are in YES space (Quote: BUY/SELL YES at a YES price). Resting prices are on the
  market's tick grid, rounded toward the passive side; every price is strictly inside (0, 1)
  and every size positive. The planner enforces venue legality again downstream.
* `decide` must not raise for ordinary market conditions (missing or one-sided books, empty
  snapshots, prices near 0 or 1); an exception means a bug and the engine isolates the
  strategy.
* A strategy whose in-memory state takes time to build (indicator windows, the copies it made)
  may hand it out as plain JSON data (`memory`) and take it back (`recall`), so a restart or a
  reload does not start it cold (engine/trading/hosting/strategy_memory.py keeps it, for the same params
  only). `recall` is given data read back from storage: it checks every field and keeps only
  what it can read, never raising for a bad one (it may raise MemoryUnreadable for a wholly
  unreadable document).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol, runtime_checkable

from contracts.domain import (
    ONE,
    Book,
    Intent,
    MarketInfo,
    OrderView,
    Quote,
    Side,
    Snapshot,
    StrategyState,
    Tif,
    to_micros,
)
from contracts.params import Errors, Params, ParamsError, ParamSpec, StrategyKind


class MemoryUnreadable(ValueError):
    """A strategy's stored memory it cannot read at all: it starts cold."""


@runtime_checkable
class Strategy(Protocol):
    """What the engine runs: a named decision function over market snapshots."""

    name: str

    def decide(self, snapshot: Snapshot, state: StrategyState, now_ms: int) -> list[Intent]: ...


class StrategyBase(ABC):
    """A configurable strategy kind: its schema (from the contracts) plus validated params.

    Subclasses set `schema`, the kind's `StrategyKind` in contracts/strategy_schemas/
    (title, description, params and their cross-field checks, shared with the dashboard), which
    also gives them `kind`, `title`, `description` and `params_schema`; they convert their
    human-unit params to micro-units in `__init__` and implement `decide`.
    """

    schema: ClassVar[StrategyKind]
    kind: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    params_schema: ClassVar[tuple[ParamSpec, ...]]
    # Streaming indicators it reads from `view.indicators` (contracts/indicator_spec.py names, e.g.
    # "twap:60"): computed once per market and variant, whoever else asks for the same.
    indicators: ClassVar[tuple[str, ...]] = ()
    # True: its intents span two venues (a Polymarket market and the Kalshi market paired with it), each
    # leg placed on its own venue's ledger and kept even by the engine (engine/trading/passes/cross_arbs.py).
    spans_venues: ClassVar[bool] = False
    # The attributes holding what it keeps per market: dicts keyed by condition id, whose entries are
    # forgotten when their market leaves it (`left`), never because a decision covered fewer markets.
    per_market: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        schema = cls.__dict__.get("schema")
        if schema is not None:
            cls.kind, cls.title, cls.description = schema.kind, schema.title, schema.description
            cls.params_schema = schema.params_schema

    def __init__(self, name: str, params: Mapping[str, Any] | None = None) -> None:
        validated, errors = self.validate(params or {})
        if errors:
            raise ParamsError(self.kind, errors)
        self.name = name
        self.params: Params = validated

    @classmethod
    def validate(cls, raw: object) -> tuple[Params, Errors]:
        """The schema's field checks, then its cross-field checks (as the dashboard runs them)."""
        return cls.schema.validate(raw)

    def micros(self, field_name: str) -> int:
        """A validated human-unit param (probability, pUSD, shares) in micro-units."""
        return to_micros(self.params[field_name])

    @abstractmethod
    def decide(self, snapshot: Snapshot, state: StrategyState, now_ms: int) -> list[Intent]: ...

    def decides_whole(self) -> bool:
        """True: its markets are decided together (a group, a ranking across them), so a change in
        one of them decides all of them (engine/trading/passes/event_decisions.py); False: each alone."""
        return False

    def reach(self) -> int:
        """How far from a book's touch (micros of price) a level change can change its decision:
        a change further out decides nothing until the timer's pass. 0: the touch only."""
        return 0

    def reads_touch_prices(self) -> bool:
        """True: of a market's books and data its decision reads only the YES book's best bid and ask
        prices (not their sizes, the depth, the NO book, prints, signals or the time): a change that
        leaves them, its own orders and holdings as they were decides the same, so a decision on
        such an event is skipped (engine/trading/passes/event_decisions.py, `_inputs`). False
        (the default): any change of its books decides again."""
        return False

    def reads_the_clock(self) -> bool:
        """True (the default): its decision may change with the time alone (its own markouts, which
        arrive as their horizons pass, count as the time). False: with the same books, orders, holdings
        and data it decides the same at any time, so a replay may skip a timed pass in which none of
        them changed (engine/backtest/quiet_passes.py)."""
        return True

    def kept_markets(self) -> frozenset[str]:
        """The markets it keeps something for (the keys of its `per_market` dicts)."""
        return frozenset(cid for table in self._per_market_tables() for cid in table)

    def left(self, markets: frozenset[str]) -> None:
        """`markets` have left it (its list or filter no longer selects them): forget what it keeps for them.
        The engine calls it (engine/trading/hosting/strategy_host.py) for every market in `kept_markets`
        that is not among its markets, whenever those are chosen, never on a decision."""
        for table in self._per_market_tables():
            for cid in markets:
                table.pop(cid, None)

    def _per_market_tables(self) -> list[dict[str, Any]]:
        return [getattr(self, name) for name in self.per_market]

    def memory(self) -> dict[str, Any] | None:
        """The warm state worth keeping across a restart, as JSON data; None: nothing to keep."""
        return None

    def recall(self, memory: Mapping[str, Any]) -> None:
        """Take back what `memory` returned before (read back from storage: checked, never trusted)."""
        return None

    def intent(self, condition_id: str, quotes: tuple[Quote, ...] = (), reason: str = "",
               keep_within: int = 0, probability: int | None = None, confidence: int | None = None) -> Intent:
        return Intent(strategy=self.name, condition_id=condition_id, quotes=quotes, reason=reason,
                      keep_within=keep_within, probability=probability, confidence=confidence)


def closed_reason(info: MarketInfo) -> str:
    """Why a market cannot be traded at all right now, or "" when it can."""
    if info.closed:
        return "market closed"
    if not info.tradable or not info.accepting_orders:
        return "market not accepting orders"
    if info.tick <= 0:
        return "market has no tick size"
    return ""


def net_yes(state: StrategyState, condition_id: str) -> int:
    """YES-equivalent shares held (settled plus pending); NO counts as short YES."""
    position = state.positions.get(condition_id)
    return position.net_yes if position is not None else 0


def orders_in(state: StrategyState, condition_id: str) -> list[OrderView]:
    return [order for order in state.open_orders if order.condition_id == condition_id]


def take_toward(book: Book, gap: int, reason: str) -> tuple[tuple[Quote, ...], str]:
    """The fill-and-kill at the touch that moves a position by `gap` micro-shares of YES (a sale of YES
    not held buys NO), as far as the touch's size allows; none when there is no price to trade at."""
    level = book.best_ask if gap > 0 else book.best_bid
    if level is None or not 0 < level.price < ONE or level.size <= 0:
        return (), "no price to trade at"
    side = Side.BUY if gap > 0 else Side.SELL
    return (Quote(side, level.price, min(abs(gap), level.size), Tif.FAK),), reason

"""Valuing the book of positions: equity (mark to mid), liquidation value (at the best bid),
exposure for the risk limits; the snapshots of them are written by storage/engine_stores/portfolio_snapshots.py.

A position whose market has no two-sided book is marked at its cost (no unrealized PnL):
a price is never invented, and the liquidation value counts only bids that exist.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from contracts.domain import Book, Side, notional
from engine.execution.exposure import Exposure, event_key
from engine.execution.state import ExecutionState
from engine.feeds.catalog import MarketCatalog

BookLookup = Callable[[str], Book | None]
MARK_DEPTH = 20  # the depth views freeze too, so a tick reuses one frozen book per token


@dataclass(frozen=True)
class Valuation:
    cash: int
    positions_value: int
    liquidation_value: int
    realized: int
    unrealized: int
    fees: int
    exposure: int
    redeemable: int = 0  # what the venue owes (resolved winners, merges): not cash until it pays
    # Held tokens with no book yet (the feed has not delivered it since the engine started): marked at
    # cost for the breakers, but a valuation that invents their worth is not one to keep (`complete`).
    unmarked: tuple[str, ...] = ()

    @property
    def equity(self) -> int:
        return self.cash + self.positions_value + self.redeemable

    @property
    def complete(self) -> bool:
        """Every held position valued from its own book (an empty book counts: its worth is its cost, as
        always; a book not received yet does not)."""
        return not self.unmarked


def value(state: ExecutionState, books: BookLookup) -> Valuation:
    return valued(state, books)[0]


@dataclass(frozen=True)
class StrategyBook:
    """One strategy's share of the ledger: what it made and what it has at risk (micro-pUSD)."""

    realized: int = 0
    unrealized: int = 0
    fees: int = 0
    exposure: int = 0

    @property
    def pnl(self) -> int:
        return self.realized + self.unrealized - self.fees


def by_strategy(state: ExecutionState, books: BookLookup) -> dict[str, StrategyBook]:
    """Per strategy: realized, unrealized at the mid (cost where there is no mid), fees, and
    exposure (cost held + open BUYs), from the mirror: no I/O."""
    return valued(state, books)[1]


def booked(state: ExecutionState) -> dict[str, StrategyBook]:
    """Per strategy: realized, fees and exposure as the ledger's figures keep them (engine/execution/
    figures.py: no fold, no marks, so unrealized is 0): what sizing from an allocation reads."""
    figures = state.figures
    return {name: StrategyBook(realized=figures.realized.get(name, 0), fees=figures.fees.get(name, 0),
                               exposure=figures.by_strategy.get(name, 0))
            for name in figures.realized.keys() | figures.fees.keys() | figures.by_strategy.keys()}


def valued(state: ExecutionState, books: BookLookup) -> tuple[Valuation, dict[str, StrategyBook]]:
    """`value` and `by_strategy` in one pass over the positions and the orders at risk (every
    decision needs both: the breakers judge the whole and each strategy's share)."""
    positions_value = liquidation = realized = unrealized = fees = at_risk = 0
    unmarked: list[str] = []
    parts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for (strategy, token), totals in state.positions.items():
        part = parts[strategy]
        realized += totals.realized
        fees += totals.fees
        part[0] += totals.realized
        part[2] += totals.fees
        if totals.size == 0:
            continue
        book = books(token)
        if book is None:
            unmarked.append(token)
        mid = book.mid if book is not None else None
        worth = notional(mid, totals.size) if mid is not None else totals.cost
        positions_value += worth
        unrealized += worth - totals.cost
        part[1] += worth - totals.cost
        liquidation += sell_into_bids(book, totals.size)
    for strategy, _, amount, _ in _at_risk(state):
        at_risk += amount
        parts[strategy][3] += amount
    valuation = Valuation(state.cash, positions_value, liquidation, realized, unrealized, fees, at_risk,
                          state.redeemable, tuple(unmarked))
    return valuation, {strategy: StrategyBook(*values) for strategy, values in parts.items()}


def sell_into_bids(book: Book | None, size: int) -> int:
    """What selling `size` now would raise, walking the visible bids (unfilled part: nothing)."""
    proceeds, left = 0, size
    for level in book.bids if book is not None else ():
        take = min(left, level.size)
        proceeds += notional(level.price, take)
        left -= take
        if left <= 0:
            break
    return proceeds


def exposure(state: ExecutionState, catalog: MarketCatalog) -> Exposure:
    """Cost of what is held plus open BUY orders, by market, strategy and event."""
    by_market: dict[str, int] = defaultdict(int)
    by_strategy: dict[str, int] = defaultdict(int)
    by_event: dict[str, int] = defaultdict(int)
    own: dict[tuple[str, str], int] = defaultdict(int)
    for strategy, condition_id, amount, open_buy in _at_risk(state):
        market = catalog.get(condition_id)
        by_market[condition_id] += amount
        by_strategy[strategy] += amount
        by_event[event_key(market) if market else condition_id] += amount
        if open_buy:
            own[(strategy, condition_id)] += amount
    return Exposure(sum(by_market.values()), dict(by_market), dict(by_strategy), dict(by_event), dict(own))


def _at_risk(state: ExecutionState) -> Iterator[tuple[str, str, int, bool]]:
    """Exposure item by item, (strategy, condition id, micro-pUSD, is an open BUY): the cost
    of each position held and what each open BUY would pay. The one place exposure is counted."""
    for (strategy, token), totals in state.positions.items():
        if totals.size > 0:
            condition_id, _ = state.position_market[(strategy, token)]
            yield strategy, condition_id, totals.cost, False
    for order in state.orders.values():
        if order.side is Side.BUY:
            yield order.strategy, order.condition_id, notional(order.price, order.remaining), True

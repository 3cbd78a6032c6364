"""The figures the risk gate reads about one ledger, kept up to date as its mirror changes.

A decision's gate needs the ledger's exposure (by market, strategy, event and in all), its open
orders (in all and per strategy and market), what its open BUYs reserve, each strategy's realized
PnL and fees, and each strategy's holdings per market. Folding the whole ledger for them at every
decision costs what the ledger holds, not what changed: `ExecutionState` instead tells these
figures every change it makes (an order tracked or forgotten, a position set, a reload), and each
change moves them by its own difference. `engine/execution/portfolio.py` keeps the full fold
(`exposure`), the reference tests/execution/test_ledger_figures.py compares these with.

What depends on marks (equity, unrealized PnL) is not here: it moves with every book, and the
breakers that read it value the ledger on the timer.
"""

from __future__ import annotations

from collections.abc import Callable

from contracts.domain import Outcome, PositionView
from engine.execution.exposure import Exposure
from engine.execution.ledger import PositionTotals

Key = tuple[str, str]  # (strategy, condition id)
NOTHING = PositionTotals()


class LedgerFigures:
    def __init__(self) -> None:
        self.total = 0  # exposure, micro-pUSD: cost held plus what open BUYs would pay
        self.by_market: dict[str, int] = {}
        self.by_strategy: dict[str, int] = {}
        self.own_orders: dict[Key, int] = {}  # the open-BUY part of each (strategy, market)
        self.own_open: dict[Key, int] = {}  # open orders per (strategy, market)
        self.reserved = 0  # what every open BUY would pay: the cash it holds back
        self.realized: dict[str, int] = {}  # per strategy, before fees
        self.fees: dict[str, int] = {}
        self.positions: dict[Key, PositionView] = {}  # every (strategy, market) the ledger has a row for
        self._orders: dict[int, tuple[Key, int]] = {}  # each open order's key and open-BUY notional
        self._held: dict[tuple[str, str], tuple[str, Outcome, PositionTotals]] = {}  # (strategy, token) ->
        self._legs: dict[Key, dict[Outcome, PositionTotals]] = {}

    # -- what the mirror tells --------------------------------------------------------------

    def order(self, order_id: int, strategy: str, condition_id: str, buying: int) -> None:
        """An open order, new or changed; `buying`: what it would pay (an open BUY), else 0."""
        self.forget(order_id)
        key = (strategy, condition_id)
        self._orders[order_id] = (key, buying)
        _bump(self.own_open, key, 1)
        if buying:
            _bump(self.own_orders, key, buying)
            self.reserved += buying
            self._expose(strategy, condition_id, buying)

    def forget(self, order_id: int) -> None:
        """An order closed or no longer mirrored."""
        part = self._orders.pop(order_id, None)
        if part is None:
            return
        key, buying = part
        _bump(self.own_open, key, -1)
        if buying:
            _bump(self.own_orders, key, -buying)
            self.reserved -= buying
            self._expose(key[0], key[1], -buying)

    def clear_orders(self) -> None:
        for order_id in list(self._orders):
            self.forget(order_id)

    def position(self, strategy: str, token_id: str, condition_id: str, outcome: Outcome,
                 totals: PositionTotals) -> None:
        """A holding's totals, new or changed."""
        old = self._held.get((strategy, token_id))
        if old is not None:
            self._hold(strategy, *old, sign=-1)
        self._held[(strategy, token_id)] = (condition_id, outcome, totals)
        self._hold(strategy, condition_id, outcome, totals, sign=1)

    def clear_positions(self) -> None:
        for (strategy, _token), held in list(self._held.items()):
            self._hold(strategy, *held, sign=-1)
        self._held.clear()

    # -- what the gate reads ------------------------------------------------------------------

    def exposure(self, event_of: Callable[[str], str], elsewhere: int = 0) -> Exposure:
        """A copy of the exposure as it is now; `elsewhere`: the other ledgers' totals of the same money
        (only the total limit spans them). Events are grouped here from the markets exposed (a market's
        event is the catalog's, which the ledger does not hold)."""
        by_event: dict[str, int] = {}
        for cid, amount in self.by_market.items():
            event = event_of(cid)
            by_event[event] = by_event.get(event, 0) + amount
        return Exposure(self.total + elsewhere, dict(self.by_market), dict(self.by_strategy), by_event,
                        dict(self.own_orders))

    # -- the differences ----------------------------------------------------------------------

    def _hold(self, strategy: str, condition_id: str, outcome: Outcome, totals: PositionTotals, sign: int) -> None:
        if totals.size > 0:
            self._expose(strategy, condition_id, sign * totals.cost)
        _bump(self.realized, strategy, sign * totals.realized)
        _bump(self.fees, strategy, sign * totals.fees)
        key = (strategy, condition_id)
        legs = self._legs.setdefault(key, {})
        if sign > 0:
            legs[outcome] = totals
        else:
            legs.pop(outcome, None)
        if not legs:
            del self._legs[key]
            self.positions.pop(key, None)
            return
        yes, no = legs.get(Outcome.YES, NOTHING), legs.get(Outcome.NO, NOTHING)
        self.positions[key] = PositionView(condition_id, yes=yes.settled, no=no.settled, yes_pending=yes.pending,
                                           no_pending=no.pending, yes_cost=yes.cost, no_cost=no.cost)

    def _expose(self, strategy: str, condition_id: str, amount: int) -> None:
        self.total += amount
        _bump(self.by_market, condition_id, amount)
        _bump(self.by_strategy, strategy, amount)


def _bump(figures: dict, key: object, delta: int) -> None:
    """Add `delta`; a figure back at zero leaves (every reader takes a missing one as zero)."""
    value = figures.get(key, 0) + delta
    if value:
        figures[key] = value
    else:
        figures.pop(key, None)

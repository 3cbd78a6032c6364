"""Each strategy's picture of itself (`views.strategy_state`), rebuilt per market only where its
ledger changed.

A decision on one market's event hands the strategy its whole state: a position view and the open
orders of every market it trades, and its free cash. Built afresh, that was most of an event
decision's cost at 50 markets (`bench/decision_cost.py`: the position views of markets nothing
touched). The executor's mirror counts its writes per market (`ExecutionState.changes`, bumped by
every order tracked or forgotten and every position set; `reloads`, by every reload) and of its
open orders (`order_writes`), so a market's part is kept until one of its counts moves, and the
cash held back by BUY orders until the orders change. What a strategy is handed is equal to a
fresh build, always (tests/trading/test_strategy_states.py compares them after every write).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from contracts.domain import OrderView, OwnMarkout, PositionView, StrategyState
from engine.execution import portfolio
from engine.execution.state import ExecutionState
from engine.feeds.catalog import MarketCatalog

Version = tuple[int, int]  # (the mirror's reloads, the market's writes)
MarketPart = tuple[Version, PositionView, tuple[OrderView, ...]]
# The mirrors kept at once: one per ledger in use (the desk's and the others) and room for
# those replaced (a mode switch, a rebuilt executor), the oldest dropped first (one still in use is
# then rebuilt, as at its start).
KEPT_MIRRORS = 8


class _Kept:
    def __init__(self) -> None:
        self.markets: dict[tuple[str, str], MarketPart] = {}  # (strategy, market) -> its part, as of Version
        self.reserved: tuple[int, int] = (-1, 0)  # (order writes, cash BUY orders hold back)


class StrategyStates:
    def __init__(self) -> None:
        # One store per ledger's mirror (a mode switch or a rebuilt executor brings a new mirror,
        # whose counts start again), by the mirror itself: its identity.
        self._kept: dict[ExecutionState, _Kept] = {}

    def state(self, name: str, condition_ids: Iterable[str], catalog: MarketCatalog, state: ExecutionState,
              allocation: int = 0, book: portfolio.StrategyBook | None = None,
              markouts: Mapping[str, tuple[OwnMarkout, ...]] | None = None) -> StrategyState:
        """What `views.strategy_state` builds, from the parts of it that did not change."""
        kept = self._kept.get(state)
        if kept is None:
            kept = self._kept[state] = _Kept()
            if len(self._kept) > KEPT_MIRRORS:
                del self._kept[next(iter(self._kept))]
        positions: dict[str, PositionView] = {}
        orders: list[OrderView] = []
        for cid in condition_ids:
            part = self._market(kept, name, cid, catalog, state)
            if part is not None:
                positions[cid] = part[1]
                orders += part[2]
        free = max(0, state.cash - self._reserved(kept, state))
        if allocation > 0:
            own = book or portfolio.StrategyBook()
            free = min(free, max(0, allocation + own.realized - own.fees - own.exposure))
        return StrategyState(name=name, positions=positions, open_orders=tuple(orders), cash=free,
                             markouts=markouts or {})

    @staticmethod
    def _market(kept: _Kept, name: str, cid: str, catalog: MarketCatalog, state: ExecutionState) -> MarketPart | None:
        info = catalog.get(cid)
        if info is None:
            return None
        version = (state.reloads, state.changes.get(cid, 0))
        part = kept.markets.get((name, cid))
        if part is None or part[0] != version:
            orders = tuple(OrderView(o.client_id, cid, o.outcome, o.side, o.price, o.size, o.filled, o.status.value)
                           for o in state.open_for(name, cid))
            part = kept.markets[(name, cid)] = (version, state.position_view(name, info), orders)
        return part

    @staticmethod
    def _reserved(kept: _Kept, state: ExecutionState) -> int:
        if kept.reserved[0] != state.order_writes:
            kept.reserved = (state.order_writes, state.reserved_buy_cash())
        return kept.reserved[1]

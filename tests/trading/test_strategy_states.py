"""What a strategy is handed about itself, kept per market where its ledger changed
(engine/trading/hosting/strategy_states.py), is always what a fresh build gives (engine/trading/hosting/views.py,
`strategy_state`): after any sequence of the mirror's writes (orders placed, filled, cancelled,
positions set, a reload, cash moving), for every strategy. And a market nothing touched is not
rebuilt (what the cache is for)."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.domain import MarketInfo, Outcome, Side, Tif
from contracts.order_status import OrderStatus
from engine.execution.ledger import PositionTotals
from engine.execution.state import ExecutionState
from engine.execution.store import OrderRow
from engine.feeds.catalog import MarketCatalog
from engine.trading.hosting.strategy_states import StrategyStates
from engine.trading.hosting.views import strategy_state

SH = 1_000_000
CENT = 10_000
MARKETS = [MarketInfo(f"c{n}", "?", f"Y{n}", f"N{n}", tick=CENT, min_size=5 * SH) for n in range(4)]
CATALOG = MarketCatalog(MARKETS)
STRATEGIES = ("mm", "arb")
CIDS = [m.condition_id for m in MARKETS]

# One write of the mirror: (kind, strategy index, market index, a number).
WRITES = st.tuples(st.sampled_from(["place", "fill", "cancel", "position", "reload", "cash"]),
                   st.integers(0, 1), st.integers(0, 3), st.integers(1, 90))


def _write(state: ExecutionState, kind: str, who: int, where: int, n: int) -> None:
    strategy, market = STRATEGIES[who], MARKETS[where]
    mine = [o for o in state.orders.values() if o.strategy == strategy and o.condition_id == market.condition_id]
    if kind == "place":
        oid = max([0, *state.orders]) + 1000 + n
        outcome = Outcome.YES if n % 2 else Outcome.NO
        state.track(OrderRow(oid, f"c{oid}", f"v{oid}", "paper", strategy, market.condition_id,
                             market.yes_token if outcome is Outcome.YES else market.no_token, outcome,
                             Side.BUY if n % 3 else Side.SELL, n * CENT, 10 * SH, 0, Tif.GTC, False,
                             OrderStatus.LIVE, "", 0, 0))
    elif kind == "fill" and mine:
        order = mine[0]
        filled = min(order.size, order.filled + n * SH // 5)
        state.track(replace(order, filled=filled, status=OrderStatus.FILLED if filled == order.size
                            else OrderStatus.PARTIALLY_FILLED))
    elif kind == "cancel" and mine:
        state.track(replace(mine[-1], status=OrderStatus.CANCELED))
    elif kind == "position":
        token = market.yes_token if n % 2 else market.no_token
        state.set_position(strategy, token, market.condition_id, market.outcome_of(token),
                           PositionTotals(settled=n * SH, cost=n * CENT * SH // SH))
    elif kind == "reload":  # what load_positions does: every position replaced, the reload counted
        state.positions = {key: replace(t, settled=t.settled + SH) for key, t in state.positions.items()}
        state.reloads += 1
    elif kind == "cash":
        state.cash += n * SH


@settings(max_examples=150, deadline=None)
@given(st.lists(WRITES, max_size=40), st.integers(0, 3), st.integers(0, 3))
def test_what_a_strategy_is_handed_always_equals_a_fresh_build(writes: list, first: int, last: int) -> None:
    state = ExecutionState("paper")
    state.cash = 500 * SH
    kept = StrategyStates()
    markets = CIDS[min(first, last):max(first, last) + 1]
    for write in writes:
        _write(state, *write)
        for strategy in STRATEGIES:
            assert kept.state(strategy, markets, CATALOG, state) == strategy_state(strategy, markets, CATALOG, state)


def test_a_market_nothing_touched_is_not_built_again() -> None:
    state = ExecutionState("paper")
    kept = StrategyStates()
    _write(state, "place", 0, 0, 40)
    _write(state, "position", 0, 1, 3)
    before = kept.state("mm", CIDS, CATALOG, state)
    _write(state, "place", 0, 2, 41)  # a write in c2 only
    after = kept.state("mm", CIDS, CATALOG, state)
    assert after.positions["c1"] is before.positions["c1"]  # kept, not rebuilt
    assert after.positions["c2"] is not before.positions["c2"]
    assert after == strategy_state("mm", CIDS, CATALOG, state)

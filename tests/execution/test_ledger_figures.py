"""The figures the risk gate reads about a ledger (engine/execution/figures.py), kept as the mirror
changes, always equal what folding the whole ledger gives (the fold every decision used to pay for):
after any sequence of the mirror's writes (orders placed, partly or wholly filled with the
position they move, cancelled, positions set, a reload of orders and positions from the real
tables), for exposure by market, strategy, event and in all, open orders per (strategy, market),
the cash open BUYs reserve, realized PnL and fees per strategy, and each strategy's holdings per
market."""

from __future__ import annotations

import shutil
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection

from contracts.domain import MarketInfo, Side, Tif, notional
from contracts.order_status import OrderStatus
from engine.execution import portfolio, store
from engine.execution.ledger import PositionTotals
from engine.execution.state import ExecutionState
from engine.execution.store import OrderRow
from engine.feeds.catalog import MarketCatalog
from engine.risk.context import event_lookup
from storage.engine_stores import execution_ledger
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

SH = 1_000_000
CENT = 10_000
# Two markets of one negative-risk event (their exposure counts together) and two on their own.
MARKETS = [MarketInfo(f"c{n}", "?", f"Y{n}", f"N{n}", tick=CENT, min_size=5 * SH, neg_risk=n < 2,
                      neg_risk_market_id="e1" if n < 2 else None) for n in range(4)]
CATALOG = MarketCatalog(MARKETS)
STRATEGIES = ("mm", "arb")

# One write of the mirror: (kind, strategy index, market index, a number).
WRITES = st.tuples(st.sampled_from(["place", "place", "fill", "cancel", "position", "reload"]),
                   st.integers(0, 1), st.integers(0, 3), st.integers(1, 90))


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("figures") / "template.db"
    migrate(path)
    return path


@pytest.fixture(scope="module")
def fresh(template: Path) -> Iterator[Iterator[Database]]:
    """A new migrated ledger per example (a copy of the template)."""
    opened: list[Database] = []

    def ledgers() -> Iterator[Database]:
        for n in range(10**6):
            path = template.with_name(f"ledger-{n}.db")
            shutil.copy(template, path)
            opened.append(Database(path))
            yield opened[-1]
    yield ledgers()
    for db in opened:
        db.dispose()


def _write(state: ExecutionState, db: Database, step: int, kind: str, who: int, where: int, n: int) -> None:
    """Each write as the executor makes it: the table first, then the mirror (a reload: the tables
    changed behind the mirror, an order placed, a position stored and an order closed, then read back)."""
    strategy, market = STRATEGIES[who], MARKETS[where]
    token = market.yes_token if n % 2 else market.no_token
    mine = [o for o in state.orders.values() if o.strategy == strategy and o.condition_id == market.condition_id]
    with db.write() as conn:
        if kind in ("place", "reload"):
            row = store.insert_order(conn, client_id=f"o{step}", venue_order_id=None,
                                     mode="paper", strategy=strategy, condition_id=market.condition_id,
                                     token_id=token, outcome=market.outcome_of(token),
                                     side=Side.BUY if n % 3 else Side.SELL, price=n * CENT, size=10 * SH, tif=Tif.GTC,
                                     post_only=False, payload=None, reason=None, now=0, status=OrderStatus.LIVE)
            if kind == "place":
                state.track(row)
                return
            execution_ledger.store_position(
                conn, mode="paper", venue="polymarket", strategy=strategy, token_id=token,
                condition_id=market.condition_id, outcome=market.outcome_of(token).value, settled=n * SH,
                pending=0, cost=n * CENT * 10, realized=n, fees=n // 3, now=0)
            if mine:
                store.advance_row(conn, mine[0].id, OrderStatus.CANCELED, 0)
            state.load(conn)
        elif kind == "fill" and mine:
            _fill(state, conn, mine[0], n)
        elif kind == "cancel" and mine:
            state.track(store.advance_row(conn, mine[-1].id, OrderStatus.CANCELED, 0, stored=mine[-1]))
    if kind == "position":
        state.set_position(strategy, token, market.condition_id, market.outcome_of(token),
                           PositionTotals(settled=(n % 4) * SH, pending=(n % 3 - 1) * SH, cost=n * CENT * 5,
                                          realized=n - 45, fees=n % 5))


def _fill(state: ExecutionState, conn: Connection, order: OrderRow, n: int) -> None:
    """A fill: the order's filled size, then the position it moves."""
    filled = min(order.size, order.filled + n * SH // 5)
    status = OrderStatus.FILLED if filled == order.size else OrderStatus.PARTIALLY_FILLED
    state.track(store.advance_row(conn, order.id, status, 0, filled=filled, stored=order))
    held = state.totals(order.strategy, order.token_id)
    shares = (filled - order.filled) * (1 if order.side is Side.BUY else -1)
    state.set_position(order.strategy, order.token_id, order.condition_id, order.outcome, replace(
        held, settled=held.settled + shares, cost=max(0, held.cost + notional(order.price, shares)),
        realized=held.realized + (n if shares < 0 else 0), fees=held.fees + n // 7))


def _nonzero(figures: Mapping) -> dict:
    return {k: v for k, v in figures.items() if v}


def _folded(state: ExecutionState) -> dict[str, object]:
    """Every figure as the whole ledger gives it (the old per-decision fold)."""
    exposure = portfolio.exposure(state, CATALOG)
    realized: dict[str, int] = defaultdict(int)
    fees: dict[str, int] = defaultdict(int)
    for (strategy, _), totals in state.positions.items():
        realized[strategy] += totals.realized
        fees[strategy] += totals.fees
    views = {}
    for (strategy, _), (cid, _) in state.position_market.items():
        info = CATALOG.get(cid)
        assert info is not None
        views[(strategy, cid)] = state.position_view(strategy, info)
    return {"total": exposure.total, "by_market": _nonzero(exposure.by_market),
            "by_strategy": _nonzero(exposure.by_strategy), "by_event": _nonzero(exposure.by_event),
            "own_orders": _nonzero(exposure.own_orders),
            "own_open": dict(Counter((o.strategy, o.condition_id) for o in state.orders.values())),
            "reserved": sum(notional(o.price, o.remaining) for o in state.orders.values() if o.side is Side.BUY),
            "realized": _nonzero(realized), "fees": _nonzero(fees), "positions": views}


def _kept(state: ExecutionState) -> dict[str, object]:
    figures = state.figures
    exposure = figures.exposure(event_lookup(CATALOG))
    return {"total": exposure.total, "by_market": exposure.by_market, "by_strategy": exposure.by_strategy,
            "by_event": _nonzero(exposure.by_event), "own_orders": exposure.own_orders,
            "own_open": figures.own_open, "reserved": state.reserved_buy_cash(), "realized": figures.realized,
            "fees": figures.fees, "positions": figures.positions}


@settings(max_examples=120, deadline=None)
@given(st.lists(WRITES, min_size=1, max_size=40))
def test_the_kept_figures_always_equal_a_fold_of_the_whole_ledger(fresh: Iterator[Database], writes: list) -> None:
    db = next(fresh)
    state = ExecutionState("paper")
    for step, write in enumerate(writes):
        _write(state, db, step, *write)
        assert _kept(state) == _folded(state), f"after write {step}: {write}"
    other = ExecutionState("paper")  # another ledger of the same money: only its total counts here
    other.figures.order(1, "mm", "c0", 7 * SH)
    assert state.figures.exposure(event_lookup(CATALOG), other.figures.total).total == _folded(state)["total"] + 7 * SH

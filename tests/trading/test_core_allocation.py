"""A strategy with an allocation decides with the allocation's cash (plus its own PnL, less
what it has at risk); the per-strategy books behind that are valued only when some strategy
has an allocation, and then once per tick, before any strategy decides."""

from __future__ import annotations

import asyncio
import json
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from contracts.domain import MICRO, Intent, Outcome, Snapshot, StrategyState
from contracts.limits import Limits
from contracts.settings import load_settings
from contracts.strategy_limits import DEFAULTS
from engine.backtest.replay import Replay, ReplayFeed
from engine.execution import portfolio
from engine.execution.ledger import PositionTotals
from engine.trading import core as core_module
from engine.trading.core import TradingCore
from engine.trading.hosting.views import market_views
from storage.sqlite.db import Database

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _recording import write_recording  # noqa: E402


def _core(tmp: Path) -> TradingCore:
    path = tmp / "t.db"
    markets, start, _ = write_recording(path, markets=2, events=10)
    db = Database(path)
    with db.write() as conn:
        for name in ("a", "b"):
            conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                     updated_by) VALUES (:n, 'market_making', '{}', :m, 1, 0, 0, 'test')"""),
                         {"n": name, "m": json.dumps(markets)})
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "TRADER_DB": str(path)})
    core = TradingCore(settings, db, clock=lambda: start, replay=Replay(0, ReplayFeed()))
    asyncio.run(core.start(operator=True))
    return core


def _seen(core: TradingCore) -> dict[str, StrategyState]:
    seen: dict[str, StrategyState] = {}
    for name, hosted in core.host.hosted.items():
        def decide(snapshot: Snapshot, state: StrategyState, now: int, name: str = name) -> list[Intent]:
            seen[name] = state
            return []
        hosted.instance.decide = decide  # type: ignore[method-assign, assignment]  # records what each saw
    views = market_views(core.link.relevant_markets(), core.catalog, core.books, {}, None)
    core.deciders.decide(core.clock(), views)
    return seen


def test_books_are_valued_only_for_a_strategy_with_an_allocation(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    core = _core(tmp_path)
    valued: list[int] = []
    real = portfolio.booked  # each strategy's book, read from its ledger's figures

    def counting(state):
        valued.append(1)
        return real(state)

    monkeypatch.setattr(core_module.portfolio, "booked", counting)
    wallet = core.executor.state.cash
    seen = _seen(core)
    assert not valued and seen["a"].cash == seen["b"].cash == wallet  # no allocation: the wallet's cash

    market = core.catalog.get(core.host.hosted["a"].markets[0])
    assert market is not None
    core.executor.state.set_position("a", market.yes_token, market.condition_id, Outcome.YES,
                                     PositionTotals(settled=10 * MICRO, cost=4 * MICRO, realized=3 * MICRO,
                                                    fees=MICRO))
    core.risk.strategies.set_limits({"a": Limits({**DEFAULTS.values, "allocation": Decimal(100)})})
    seen = _seen(core)
    assert len(valued) == 1  # once for the tick, though two strategies decided
    assert seen["a"].cash == (100 + 3 - 1 - 4) * MICRO  # allocation + realized - fees - at risk
    assert seen["b"].cash == wallet
    core.db.dispose()

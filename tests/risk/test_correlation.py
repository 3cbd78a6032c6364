"""Measured correlation of mids (issue 38): markets whose bucket returns move together are one
group whose exposure the gate caps together (MAX_CORRELATED_EXPOSURE); a market alone is its own;
when the watched markets all move as one, the desk goes REDUCING (reason CORRELATION, alerted) and
comes back by itself; limits that cannot make a correlation are refused."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest

from contracts.domain import Book, Intent, Level, MarketInfo, MarketView, Quote, Side
from engine.execution.exposure import Exposure
from engine.execution.state import ExecutionState
from engine.feeds.catalog import MarketCatalog
from engine.risk.breakers import load_memory
from engine.risk.correlation import CorrelationWatch, Settings, pearson
from engine.risk.gate import RiskGate, TradingState
from storage.desk import config
from storage.engine_stores.config_reads import ensure_limit_defaults
from tests.risk.test_breakers import SH, T0, alert_codes, monitor_on
from tests.risk.test_gate import ctx

CENT = 10_000
S = Settings(bucket_ms=60_000, window_ms=3_600_000, threshold=0.8, spike=0.9)


def _walk(rng: random.Random, mids: dict[str, int], together: set[str]) -> dict[str, int]:
    common = rng.choice((-CENT, CENT))
    return {cid: mid + (common if cid in together else rng.choice((-CENT, 0, CENT))) for cid, mid in mids.items()}


def test_markets_that_move_together_are_one_group_and_others_stand_alone() -> None:
    watch, rng = CorrelationWatch(), random.Random(3)
    mids = {"a": 400_000, "b": 600_000, "c": 500_000, "d": 300_000}
    for minute in range(30):
        mids = _walk(rng, mids, {"a", "b"})
        watch.observe(mids, T0 + minute * 60_000, S)
    groups = watch.picture.groups
    assert set(groups) == {"a", "b"} and groups["a"] == groups["b"]  # c and d are their own
    assert watch.picture.pairs == 6 and watch.picture.mean_abs is not None and watch.picture.mean_abs < 0.9
    assert pearson({k: k for k in range(10)}, {k: k for k in range(10)}) is None  # too few buckets to believe


def test_a_groups_exposure_is_capped_together() -> None:
    second = MarketInfo("c2", "?", "Y2", "N2", tick=CENT, min_size=5 * SH)
    context = ctx(limits={"max_correlated_exposure": "50", "max_market_exposure": "1000"},
                  exposure=Exposure(total=40 * SH, by_market={"c2": 40 * SH}))
    book = context.markets["c1"].yes
    grouped = dataclasses.replace(context, groups={"c1": "c1", "c2": "c1"},
                                  markets={**context.markets, "c2": MarketView(second, book, None)})
    intent, decisions = RiskGate().check_intent(Intent("s", "c1", (Quote(Side.BUY, 500_000, 100 * SH),)), grouped)
    assert [q.size for q in intent.quotes] == [20 * SH]  # 10 pUSD of room left at 0.50
    assert [d.reason.value for d in decisions] == ["MAX_CORRELATED_EXPOSURE"]
    alone, _ = RiskGate().check_intent(Intent("s", "c1", (Quote(Side.BUY, 500_000, 100 * SH),)), context)
    assert [q.size for q in alone.quotes] == [100 * SH]  # c2's exposure is not c1's when they are not grouped


def test_a_desk_moving_as_one_reduces_and_recovers_by_itself(tmp_path: Path) -> None:
    monitor = monitor_on(tmp_path, correlation_window="1800")
    markets = {cid: MarketInfo(cid, "?", f"Y{cid}", f"N{cid}", tick=CENT, min_size=5 * SH) for cid in "pqr"}
    rng, mids = random.Random(5), {"p": 400_000, "q": 500_000, "r": 600_000}
    states = []
    for minute in range(90):
        mids = _walk(rng, mids, set(mids) if minute < 40 else set())
        now = T0 + minute * 60_000
        views = {}
        for cid, mid in mids.items():
            yes = Book(f"Y{cid}", (Level(mid - CENT, 100 * SH),), (Level(mid + CENT, 100 * SH),), now)
            views[cid] = MarketView(markets[cid], yes, yes.mirrored(f"N{cid}"))
        monitor.new_tick(now, ExecutionState("paper"), MarketCatalog(markets.values()), views)
        with monitor.db.read() as conn:
            states.append((load_memory(conn).trading_state, load_memory(conn).reason))
    assert states[10] == (TradingState.ACTIVE, None)  # too few buckets yet
    assert (TradingState.REDUCING, "CORRELATION") in states[20:40]
    assert states[-1] == (TradingState.ACTIVE, None)  # moving apart again, it clears by itself
    assert alert_codes(monitor.db)[:1] == ["CORRELATION"] and "CORRELATION_CLEARED" in alert_codes(monitor.db)


def test_a_window_too_short_for_a_correlation_is_refused(tmp_path: Path) -> None:
    monitor = monitor_on(tmp_path)
    with monitor.db.write() as conn:
        ensure_limit_defaults(conn)
    with pytest.raises(config.ConfigError, match="at least 20 buckets"):
        config.save_risk_limits(monitor.db, {"correlation_window": config.Change("600", 1)}, actor="test")

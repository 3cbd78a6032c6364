"""The volatility breaker through the real risk monitor and gate on a real SQLite file: a spike
in one market's mid refuses new orders there (VOLATILITY_HALTED, in the decisions log) while
another market trades; it alerts; it clears by itself. A spike across the desk moves the
persisted trading state (reason VOLATILITY) and back. And the Risk page's save refuses limits
that only make sense together."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from contracts.domain import Book, Intent, Level, MarketInfo, MarketView, Quote, Side
from engine.execution.state import ExecutionState
from engine.feeds.catalog import MarketCatalog
from engine.risk.breakers import load_memory
from engine.risk.gate import TradingState
from storage.desk import config
from storage.engine_stores.config_reads import ensure_limit_defaults
from storage.sqlite.db import Database
from tests.risk.test_breakers import SH, T0, alert_codes, monitor_on

CENT = 10_000
MARKETS = {cid: MarketInfo(cid, "?", f"Y{cid}", f"N{cid}", tick=CENT, min_size=5 * SH)
           for cid in [f"c{k}" for k in range(1, 10)]}


def _views(mids: dict[str, int], now: int) -> dict[str, MarketView]:
    views = {}
    for cid, mid in mids.items():
        yes = Book(f"Y{cid}", (Level(mid - CENT, 100 * SH),), (Level(mid + CENT, 100 * SH),), now)
        views[cid] = MarketView(MARKETS[cid], yes, yes.mirrored(f"N{cid}"))
    return views


def _bids(monitor, mids: dict[str, int], now: int) -> dict[str, tuple[int, str]]:
    """Each market gets a 10-share bid two cents under its mid: (approved shares, refusal reason)."""
    monitor.new_tick(now, ExecutionState("paper"), MarketCatalog(MARKETS.values()), _views(mids, now))
    intents = [Intent("mm", cid, (Quote(Side.BUY, mid - 2 * CENT, 10 * SH),)) for cid, mid in mids.items()]
    checked = monitor.check(intents, now)
    with monitor.db.read() as conn:
        logged = dict(conn.execute(text("SELECT condition_id, reason FROM decisions WHERE at = :t"), {"t": now}).all())
    return {i.condition_id: (sum(q.size for q in i.quotes), logged.get(i.condition_id, "")) for i in checked}


# A market moving a cent a minute, against the floor of one cent (the default's three would hide the
# one-cent baseline these tests measure against).
FLOOR = "0.01"


def test_a_spike_in_one_market_halts_opening_there_and_clears_by_itself(tmp_path: Path) -> None:
    monitor = monitor_on(tmp_path, volatility_floor=FLOOR)
    # Nine markets: one at 8x pools to sqrt((64 + 8) / 9) = 2.8x for the desk, which goes on.
    mids = {f"c{k}": 100_000 + 50_000 * k for k in range(1, 10)}
    seen = {}
    for minute in range(0, 14):
        now = T0 + minute * 60_000
        step = (CENT if minute % 2 else -CENT) if minute else 0
        mids = {cid: mid + step for cid, mid in mids.items()}
        if minute == 11:
            mids["c1"] += 7 * CENT  # eight cents in a minute where one is usual
        seen[minute] = _bids(monitor, mids, now)
    everyone = {cid: (10 * SH, "") for cid in mids}
    assert seen[10] == everyone
    assert seen[11] == {**everyone, "c1": (0, "VOLATILITY_HALTED")}
    assert seen[12] == everyone  # cleared by itself
    assert alert_codes(monitor.db) == ["VOLATILITY_MARKET", "VOLATILITY_MARKET_CLEARED"]
    with monitor.db.read() as conn:
        assert "8.0x its baseline" in conn.execute(text("SELECT message FROM alerts ORDER BY id")).scalar()
        assert load_memory(conn).trading_state is TradingState.ACTIVE


def test_a_desk_wide_spike_moves_the_persisted_trading_state_and_back(tmp_path: Path) -> None:
    monitor = monitor_on(tmp_path, volatility_halt="20", volatility_floor=FLOOR)  # never halts here: it reduces
    mids = {"c1": 500_000, "c2": 300_000}
    states = {}
    for minute in range(0, 14):
        now = T0 + minute * 60_000
        step = (CENT if minute % 2 else -CENT) if minute else 0
        if minute == 11:
            step = 5 * CENT
        mids = {cid: mid + step for cid, mid in mids.items()}
        bids = _bids(monitor, mids, now)
        with monitor.db.read() as conn:
            memory = load_memory(conn)
        states[minute] = (memory.trading_state.value, memory.reason, bids["c1"])
    assert states[10] == ("ACTIVE", None, (10 * SH, ""))
    # Both markets at 5x: each REDUCING (no new risk, so the bid is refused) and the desk REDUCING.
    assert states[11] == ("REDUCING", "VOLATILITY", (0, "TRADING_REDUCING"))
    assert states[12] == ("ACTIVE", None, (10 * SH, ""))


def test_the_risk_page_refuses_volatility_limits_that_contradict_each_other(tmp_path: Path) -> None:
    monitor = monitor_on(tmp_path)
    db: Database = monitor.db
    with db.write() as conn:
        ensure_limit_defaults(conn)
    with pytest.raises(config.ConfigError) as refused:
        config.save_risk_limits(db, {"volatility_clear": config.Change("3", 1)}, actor="test")
    assert "must be below the reduce ratio (3)" in str(refused.value) and "volatility_clear" in refused.value.fields
    with pytest.raises(config.ConfigError, match="at least twice the volatility window"):
        config.save_risk_limits(db, {"volatility_window": config.Change("1000", 1)}, actor="test")
    saved = config.save_risk_limits(db, {"volatility_window": config.Change("600", 1),
                                         "volatility_reduce": config.Change("4", 1)}, actor="test")
    assert saved.version == 2
    # An unrelated limit saves even while another rule would complain about stored values.
    with db.write() as conn:
        conn.execute(text("UPDATE risk_limits SET value = '5' WHERE name = 'volatility_clear'"))
    assert config.save_risk_limits(db, {"max_order_size": config.Change("100", 1)}, actor="test").version == 2

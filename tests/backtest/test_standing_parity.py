"""A trailing stop and an iceberg backtest as the paper engine trades them: a paper session against
the simulator, in which an accumulating strategy rests its target as an iceberg (a slice at a time at
its price cap) and its trailing stop sells what it bought once the best bid falls back, is recorded;
the backtest of that recording, with the same seed, params and strategy limits, makes the same orders
and fills, slice by slice and sale by sale; and the same run without the trailing stop does not (the
backtest reads the strategy's limits, not a default)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from engine.backtest.runner import BacktestSpec, run_sync
from engine.trading.core import TradingCore
from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.backtest.test_parity import _ledger, _settings

pytestmark = pytest.mark.slow
PARAMS = {"outcome": "YES", "target_shares": 60, "size": 10, "interval_s": 1, "price_cap": 0.5, "how": "iceberg"}
LIMITS = {"trailing_stop": "0.02", "exit_cooldown": "0"}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    # Busy markets: noise takers every quarter second (prints through the resting slice), news every second
    # (the book moving up and down under the trailing stop).
    with approved_simulator(seed=23, agents=True, agent_interval_s=0.1, noise_every_s=0.25, sports_news_every_s=1.0,
                           politics_news_every_s=1.0, reference_news_every_s=1.0) as handle:
        yield handle


def _both_done(db: Database) -> bool:
    """Whether the session has rested two slices of the iceberg and its trailing stop has sold."""
    with db.read() as conn:
        kinds = conn.execute(text("SELECT side, tif FROM orders")).all()
    return sum(1 for k in kinds if tuple(k) == ("BUY", "GTC")) >= 2 and ("SELL", "FAK") in {tuple(k) for k in kinds}


def _record(tmp: Path, sim: SimHandle, bound_s: float) -> tuple[Path, list[str], int, int]:
    """A paper session recorded until both happened (at most `bound_s`: a loaded machine is slower), and
    a second more, so the recording runs past the sale."""
    settings = _settings(tmp, sim)
    migrate(settings.db_path)
    db = Database(settings.db_path)
    market = sim.market(neg_risk=False, index=0)
    sim.set_latent(market["condition_id"], 0.5)
    markets = [market["condition_id"]]
    with db.write() as conn:
        for key, value in (("paper_mined_after_ms", 0), ("record_depth", 50), ("tick_interval_ms", 200),
                           ("paper_latency", "zero"), ("decide_on_events", 0)):
            conn.execute(text("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                              "VALUES (:k, :v, 1, 0, 'test')"), {"k": key, "v": json.dumps(value)})
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by) VALUES ('acc', 'accumulate', :p, :m, 1, 0, 0, 'test')"""),
                     {"p": json.dumps(PARAMS), "m": json.dumps(markets)})
        for key, value in LIMITS.items():
            conn.execute(text("""INSERT INTO strategy_limits (strategy, name, value, updated_at, updated_by)
                                 VALUES ('acc', :k, :v, 0, 'test')"""), {"k": key, "v": value})

    async def session() -> tuple[int, int]:
        start = now_ms()
        core = TradingCore(settings, db)
        await core.start(operator=True)
        core.gate.unblock()
        deadline = asyncio.get_running_loop().time() + bound_s
        while not _both_done(db) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.25)
        await asyncio.sleep(1)
        await core._stop_loop()
        end = now_ms()
        await core.stop()
        return start, end

    start, end = asyncio.run(session())
    db.dispose()
    return settings.db_path, markets, start, end


def test_a_trailing_stop_and_an_iceberg_backtest_as_the_paper_engine_trades_them(tmp_path: Path,
                                                                                  sim: SimHandle) -> None:
    db_path, markets, start, end = _record(tmp_path, sim, bound_s=60)
    orders, fills = _ledger(db_path)
    slices = [o for o in orders if o[1] == "BUY" and o[5] == "GTC"]
    sales = [o for o in orders if o[1] == "SELL" and o[5] == "FAK"]
    # The session really did both: slices of 10 at the cap, one after another, and the trailing stop's sale.
    assert len(slices) >= 2 and {(o[2], o[3]) for o in slices} == {(500_000, 10_000_000)}, orders
    assert sales, orders
    spec = BacktestSpec("accumulate", PARAMS, start, end, tuple(markets), seed=5, limits=LIMITS)
    result = run_sync(spec, db_path, _settings(tmp_path, sim), work_dir=tmp_path / "bt")
    bt_orders = [(o["token_id"], o["side"], o["price"], o["size"], o["filled"], o["tif"], o["status"])
                 for o in result.orders]
    bt_fills = [(f["token_id"], f["side"], f["price"], f["size"], f["liquidity"], f["status"]) for f in result.fills]
    assert bt_orders == orders
    assert sorted(bt_fills) == sorted(fills)
    with Database(tmp_path / "bt" / "backtest.db").read() as conn:
        trails = conn.execute(text("SELECT status FROM trailing_stops")).scalars().all()
    assert "DONE" in trails or "TRIGGERED" in trails

    plain = run_sync(BacktestSpec("accumulate", PARAMS, start, end, tuple(markets), seed=5), db_path,
                     _settings(tmp_path, sim), work_dir=tmp_path / "bt2")
    assert not [o for o in plain.orders if o["side"] == "SELL"]  # without its limits: no trailing stop

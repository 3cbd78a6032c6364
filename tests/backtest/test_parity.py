"""Record a paper session against the simulator, backtest that recording with the same seed
and config, and get the same orders and fills, from both of the paper fill model's paths (a
trade print reaching a resting order, and the book's levels crossing one); and the same
backtest twice is identical."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from contracts.settings import load_settings
from engine.backtest.runner import BacktestSpec, run_sync
from engine.trading.core import TradingCore
from engine.venues import paper_fills
from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate

pytestmark = pytest.mark.slow
PARAMS = {"size": 20, "half_spread": 0.01, "refresh_threshold": 0.0, "max_spread": 0.5}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    # Busy markets, so that an 8 s session fills both ways: noise takers every quarter second
    # (prints through resting quotes) and news every second and a half (the agent maker's book moves
    # through them: level changes that cross a resting order).
    with approved_simulator(seed=17, agents=True, agent_interval_s=0.1, noise_every_s=0.25, sports_news_every_s=1.5,
                           politics_news_every_s=1.5, reference_news_every_s=1.5) as handle:
        yield handle


def _settings(tmp: Path, sim: SimHandle):
    return load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "SIMULATOR_PORT": str(sim.port),
                          "TRADER_DB": str(tmp / "live.db"), "SIMULATOR_SEED": "5"})


def _record_session(tmp: Path, sim: SimHandle, seconds: float) -> tuple[Path, list[str], int, int]:
    settings = _settings(tmp, sim)
    migrate(settings.db_path)
    db = Database(settings.db_path)
    markets = [m["condition_id"] for m in sim.markets() if not m["neg_risk"]][:3]
    with db.write() as conn:
        # Zero latency, chosen: the live session's trips are wall-clock sleeps, the replay's end at
        # recorded times; parity is of the fill model and the decisions (latency: test_latency.py).
        # Decisions on the timed passes only (decide_on_events is on by default): this parity is of
        # decisions at the recorded passes, which the replay makes at the same instants; a live
        # session decides on events at wall-clock arrivals the recording does not keep, and the
        # replay's event cadence has its own test (test_event_cadence.py).
        for key, value in (("paper_mined_after_ms", 0), ("record_depth", 50), ("tick_interval_ms", 200),
                           ("paper_latency", "zero"), ("decide_on_events", 0)):
            conn.execute(text("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                              "VALUES (:k, :v, 1, 0, 'test')"), {"k": key, "v": json.dumps(value)})
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by) VALUES ('mm', 'market_making', :p, :m, 1, 0, 0, 'test')"""),
                     {"p": json.dumps(PARAMS), "m": json.dumps(markets)})

    async def session() -> tuple[int, int]:
        start = now_ms()
        core = TradingCore(settings, db)
        await core.start(operator=True)
        core.gate.unblock()
        await asyncio.sleep(seconds)
        # Stop deciding at a known instant: everything the live engine did is before it.
        await core._stop_loop()
        end = now_ms()
        await core.stop()
        return start, end

    start, end = asyncio.run(session())
    db.dispose()
    return settings.db_path, markets, start, end


def _ledger(path: Path) -> tuple[list[tuple], list[tuple]]:
    """A ledger's orders and fills, each in the order the ledger recorded them (a fill's time
    is when its market event was handled: live, a few ms after the recorder stamped that event,
    so fills on different tokens within those ms could sort either way by time)."""
    db = Database(path)
    with db.read() as conn:
        orders = [tuple(r) for r in conn.execute(text(
            "SELECT token_id, side, price, size, filled, tif, status FROM orders ORDER BY id"))]
        fills = [tuple(r) for r in conn.execute(text(
            "SELECT token_id, side, price, size, liquidity, status FROM fills ORDER BY id"))]
    db.dispose()
    return orders, fills


class FillPaths:
    """How many executions each of the paper fill model's paths gave: a trade print at or
    through a resting order's price (`on_trade`), or the book's levels crossing it
    (`crossing_fills`, on a level change or a snapshot)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.by_trade = self.by_levels = 0
        on_trade, crossing = paper_fills.on_trade, paper_fills.crossing_fills

        def counted_on_trade(*args, **kwargs):
            result = on_trade(*args, **kwargs)
            self.by_trade += result.size > 0
            return result

        def counted_crossing(*args, **kwargs):
            executions = crossing(*args, **kwargs)
            self.by_levels += len(executions)
            return executions

        monkeypatch.setattr(paper_fills, "on_trade", counted_on_trade)
        monkeypatch.setattr(paper_fills, "crossing_fills", counted_crossing)

    def take(self) -> tuple[int, int]:
        counts, self.by_trade, self.by_levels = (self.by_trade, self.by_levels), 0, 0
        return counts


def test_backtest_of_a_recorded_paper_session_makes_the_same_orders_and_fills(
        tmp_path: Path, sim: SimHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = FillPaths(monkeypatch)
    db_path, markets, start, end = _record_session(tmp_path, sim, seconds=8)
    live_paths = paths.take()
    live_orders, live_fills = _ledger(db_path)
    assert len(live_orders) >= 6  # the session really traded
    spec = BacktestSpec("market_making", PARAMS, start, end, tuple(markets), seed=5)
    result = run_sync(spec, db_path, _settings(tmp_path, sim), work_dir=tmp_path / "bt")
    # Fills came both from trade prints and from level changes crossing a resting order, in the
    # backtest as in the session it replays.
    assert paths.take() == live_paths and min(live_paths) > 0, live_paths
    bt_orders = [(o["token_id"], o["side"], o["price"], o["size"], o["filled"], o["tif"], o["status"])
                 for o in result.orders]
    bt_fills = [(f["token_id"], f["side"], f["price"], f["size"], f["liquidity"], f["status"]) for f in result.fills]
    assert bt_orders == live_orders
    assert sorted(bt_fills) == sorted(live_fills) and len(live_fills) >= 4  # the same fills (listed in time order)
    assert _ledger(tmp_path / "bt" / "backtest.db") == (live_orders, live_fills)  # recorded in the same order
    assert result.decisions > 10 and result.events > result.decisions

    again = run_sync(spec, db_path, _settings(tmp_path, sim), work_dir=tmp_path / "bt2")
    assert again.metrics == result.metrics and again.orders == result.orders and again.fills == result.fills
    assert again.curve == result.curve

"""Wallets worth following (issues 39 and 61), end to end: the engine hears a followed wallet's
public trade on the venue's real-time trade stream (the simulator's, where its own participants
trade), keeps it once (not what it did before being followed; the Data API's copy of it is the
same trade), and a copy_trading strategy copies it at the next tick: a paper fill-and-kill, scaled
and capped, through the risk gate, with the copy's reason in its order."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from contracts.settings import load_settings
from engine.trading.core import TradingCore
from engine.venues.polymarket.follow.poller import WalletFollower
from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.helpers import wait_until
from tests.trading.test_strategy_limits_core import _rows, _scripted_book, _started

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=48, agents=False, mined_delay_s=0.05, confirmed_delay_s=0.05) as handle:
        yield handle


def _core(tmp: Path, sim: SimHandle, cid: str, wallet: str) -> TradingCore:
    migrate(tmp / "t.db")
    db = Database(tmp / "t.db")
    now = now_ms()
    params = {"scale": 0.5, "delay_s": 0, "max_shares": 8, "slippage": 0.03}
    with db.write() as conn:
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by) VALUES ('copy', 'copy_trading', :p, :m, 1, :t, :t, 'test')"""),
                     {"p": json.dumps(params), "m": json.dumps([cid]), "t": now})
        for key, value in (("paper_mined_after_ms", 0), ("paper_latency", "zero"),
                           ("followed_wallets", [{"address": wallet, "label": "liquidity"}])):
            conn.execute(text("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                              "VALUES (:k, :v, 1, 0, 't')"), {"k": key, "v": json.dumps(value)})
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "SIMULATOR_PORT": str(sim.port),
                              "TRADER_DB": str(tmp / "t.db")})
    return TradingCore(settings, db, clock=now_ms)


def test_a_followed_wallets_new_trade_is_copied_once(tmp_path: Path, sim: SimHandle) -> None:
    market = sim.market(neg_risk=False, index=1)
    cid, yes = market["condition_id"], market["yes_token_id"]
    _scripted_book(sim, market, "0.48", "0.52")
    wallet = sim.sim.admin.liquidity_address
    sim.print_trade(yes, "0.50", "4", "BUY")  # before it is followed: history, never copied
    wait_until(lambda: httpx.get(f"{sim.data_api_host}/trades", params={"user": wallet}).json(), 10,
               what="the old trade on the tape")
    core = _core(tmp_path, sim, cid, wallet)

    async def scenario() -> None:
        await _started(core)
        await core.reload_config()
        await core.scheduled.follow_stream()  # followed from now; the venue's trade stream heard
        follower = core.scheduled.follower
        assert isinstance(follower, WalletFollower)  # the desk venue's (Polymarket's)
        stream = follower.stream
        for _ in range(200):
            if stream is not None and stream.stats.connected:
                break
            await asyncio.sleep(0.05)
        sim.print_trade(yes, "0.51", "30", "BUY")  # they buy 30 YES at 0.51
        for _ in range(100):
            await asyncio.sleep(0.05)
            if _rows(core, "SELECT COUNT(*) FROM followed_trades")[0][0]:
                break
        await core.tick()  # the new trade wakes the copies at once (no reload wait)
        core.executor.drain()
        await core.tick()  # the copy is not sent twice
        core.executor.drain()
        wait_until(lambda: len(httpx.get(f"{sim.data_api_host}/trades", params={"user": wallet}).json()) == 2, 10,
                   what="the new trade on the tape")
        await core.scheduled.follow_wallets()  # the Data API's copy of it: the same trade, not kept again
        await core.stop()

    asyncio.run(scenario())
    kept = _rows(core, "SELECT label, side, price, size FROM followed_trades")
    assert kept == [("liquidity", "BUY", 510_000, 30_000_000)]  # the one after following, once
    [(source, late)] = _rows(core, "SELECT source, seen_at - reported_at FROM followed_trades")
    assert source == "stream" and 0 <= late <= 2_000
    orders = _rows(core, "SELECT strategy, side, outcome, price, size, tif FROM orders")
    assert orders == [("copy", "BUY", "YES", 540_000, 8_000_000, "FAK")]  # 15 capped at 8, within 0.03

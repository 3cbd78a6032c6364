"""Kill latency: `kill` posted -> every order cancelled at the simulator, 200 open orders.

A real engine process trades live against an in-process simulator. Each run rests 200
orders for the engine's wallet at the venue (the engine adopts them on start-up, flagged as
imported), posts `kill` exactly as the dashboard does, and times until the simulator reports
zero open orders for the wallet; then re-arms and starts for the next run. Baseline, in this
process: the same cancel-all sent directly through the venue adapter (no engine, no queue).
Target: p99 <= 500 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sqlite3
import tempfile
import time
from pathlib import Path

from _common import report
from eth_account import Account

from contracts.domain import Side, Tif
from contracts.settings import load_settings
from engine.venues.base import OrderRequest
from engine.venues.polymarket.venue import PolymarketVenue
from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.migrations import migrate
from tests.helpers import EngineProcess, isolated_env, wait_until

ORDERS = 200


async def rest_orders(settings, sim: SimHandle, count: int) -> None:
    """Rest `count` small bids far from the touch across the simulator's standard markets."""
    venue = PolymarketVenue(settings)
    await venue.connect()
    markets = [m for m in sim.markets() if not m["neg_risk"]]
    try:
        prepared = []
        for i in range(count):
            market = markets[i % len(markets)]
            token = market["tokens"][0]["token_id"] if "tokens" in market else market["yes_token"]
            tick = 10_000 if "tick" not in market else int(float(market["tick"]) * 1e6)
            # The lowest legal bid: far below any market, so it rests rather than trades.
            request = OrderRequest(f"bench-{secrets.token_hex(6)}", market["condition_id"], token, Side.BUY,
                                   tick, 20_000_000, Tif.GTC, tick=tick)
            prepared.append(await venue.prepare(request))
        refused = []
        for start in range(0, len(prepared), 15):
            results = await venue.submit_many(prepared[start:start + 15])
            refused += [r.error for r in results if r.error]
        if refused:
            raise RuntimeError(f"{len(refused)} bench orders refused: {refused[:3]}")
    finally:
        await venue.close()


async def direct_cancel(settings) -> float:
    venue = PolymarketVenue(settings)
    await venue.connect()
    try:
        began = time.perf_counter()
        await venue.cancel_all()
        return (time.perf_counter() - began) * 1000
    finally:
        await venue.close()


def open_in_engine(env: dict[str, str]) -> int:
    with sqlite3.connect(env["TRADER_DB"]) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM orders WHERE status_rank < 100").fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=12)
    args = parser.parse_args()
    key = "0x" + secrets.token_hex(32)
    address = Account.from_key(key).address
    # allow_eoa_makers: the bench wallet is a plain type-0 key, which the venue refuses as a maker.
    with tempfile.TemporaryDirectory() as tmp, \
            approved_simulator(seed=7, agents=False, allow_eoa_makers=True) as sim:
        env = isolated_env(Path(tmp), SIMULATOR_PORT=str(sim.port), POLY_PRIVATE_KEY=key, POLY_SIGNATURE_TYPE="0",
                           LOG_LEVEL="WARNING",
                           ORDER_LOST_GRACE_SECONDS="1")
        sim.fund(address, pusd="1000000")
        settings = load_settings(env)
        baseline = []
        for _ in range(max(3, args.runs // 2)):
            asyncio.run(rest_orders(settings, sim, ORDERS))
            baseline.append(asyncio.run(direct_cancel(settings)))
        migrate(Path(env["TRADER_DB"]))
        with sqlite3.connect(env["TRADER_DB"]) as conn:
            conn.execute("UPDATE engine_state SET mode = 'live', desired_state = 'RUNNING'")
        engine = EngineProcess(Path(tmp), env)
        samples = []
        try:
            engine.start()
            for _ in range(args.runs):
                asyncio.run(rest_orders(settings, sim, ORDERS))
                resting = sim.open_order_count(address)
                assert resting == ORDERS, f"{resting} orders resting, expected {ORDERS}"
                # Measure from a settled engine that knows all 200 (as if it had placed them itself).
                wait_until(lambda: open_in_engine(env) == ORDERS, 20, what="engine sees the orders")
                began = time.perf_counter()
                engine.post("kill", {"reason": "bench"})
                wait_until(lambda: sim.open_order_count(address) == 0, 10, interval=0.002, what="all cancelled")
                samples.append((time.perf_counter() - began) * 1000)
                wait_until(lambda: engine.status().state == "KILLED", 10)
                assert engine.run("rearm").status == "done" and engine.run("start", timeout=30).status == "done"
        finally:
            engine.terminate()
            engine.cleanup()
    report(f"kill -> {ORDERS} orders cancelled at the venue", samples, baseline, target="p99 <= 500 ms",
           baseline_name="direct cancel-all through the adapter")


if __name__ == "__main__":
    main()

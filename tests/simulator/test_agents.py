"""Synthetic participants: realistic-looking books, regular trades, reproducible
decisions for a seed, and a small CPU footprint."""

from __future__ import annotations

import json
import resource
import time

import httpx
from py_clob_client_v2 import ClobClient
from websockets.sync.client import connect

from simulator.testing import approved_simulator

from .conftest import recv_until, wait_for


def _levels(client: ClobClient, token_id: str) -> tuple[list, list]:
    book = client.get_order_book(token_id)
    return book["bids"], book["asks"]


def test_live_books_and_trades():
    with approved_simulator(seed=2, agents=True, agent_interval_s=0.05) as sim:
        client = ClobClient(sim.clob_host, 137)
        markets = sim.markets()
        tokens = [t for m in markets for t in (m["yes_token_id"], m["no_token_id"])]
        # max_queue=None: keep reading the busy stream so the close handshake is not stuck behind it
        with connect(sim.ws_host + "market", open_timeout=5, max_queue=None) as ws:
            ws.send(json.dumps({"type": "market", "assets_ids": tokens}))
            recv_until(ws, lambda m: isinstance(m, list))
            trade = recv_until(ws, lambda m: m.get("event_type") == "last_trade_price", timeout=10)
            assert trade["asset_id"] in tokens
        for m in markets:
            bids, asks = _levels(client, m["yes_token_id"])
            assert len(bids) >= 3 and len(asks) >= 3, m["question"]
            best_bid, best_ask = float(bids[-1]["price"]), float(asks[-1]["price"])
            tick = float(m["tick_size"])
            assert 0 < best_ask - best_bid <= 8 * tick + 1e-9, m["question"]
        def traded() -> list:
            return [r for r in httpx.get(sim.gamma_host + "/markets").json() if r["volumeNum"] > 0]
        assert len(wait_for(lambda: len(traded()) >= 3 and traded(), timeout=10)) >= 3


def _snapshot(sim) -> list:
    client = ClobClient(sim.clob_host, 137)
    return [_levels(client, m[k]) for m in sim.markets() for k in ("yes_token_id", "no_token_id")]


def _run_steps(seed: int, steps: int) -> list:
    with approved_simulator(seed=seed, agents=False, prefill_books=True) as sim:
        for _ in range(steps):
            sim.call(sim.sim.agents.step)
        return _snapshot(sim)


def test_agent_decisions_are_reproducible_for_a_seed():
    first, again, other = _run_steps(8, 40), _run_steps(8, 40), _run_steps(9, 40)
    assert first == again
    assert first != other


def test_agents_use_little_cpu_at_default_settings():
    with approved_simulator(seed=3, agents=True):
        time.sleep(0.5)
        before = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.monotonic()
        time.sleep(3)
        after = resource.getrusage(resource.RUSAGE_SELF)
        wall = time.monotonic() - t0
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    assert cpu / wall < 0.05  # under 5 % of one core with 10 live markets

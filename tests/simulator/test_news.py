"""A scripted news jump (``POST /_sim/news``) picks off a stale resting quote: informed takers
trade on it ahead of and at the moment it becomes public, against whatever rests at stale
prices (here a real client's order), and the agent maker re-centres only after it is public."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from py_clob_client_v2 import OrderArgs, PartialCreateOrderOptions

from simulator.testing import SimHandle, approved_simulator

from .conftest import deposit_client, wait_for

STEP_S = 0.5  # the agents' clock advances this much per step (agent_interval_s)
# No agent loop: the test steps the agents itself, so the order of events is exact. Default
# market otherwise (fees, rate limits, the strict maker rules); no maintenance window mid-test.
SETTINGS: dict[str, Any] = dict(agents=False, prefill_books=True, agent_interval_s=STEP_S, maintenance_schedule="off",
                markets=10)  # the scenario measured: its markets and their seeded draws


@pytest.fixture(scope="module")
def world() -> Any:
    with approved_simulator(seed=23, **SETTINGS) as sim:
        yield sim


def _best(sim: SimHandle, token: str) -> tuple[float, float]:
    book = httpx.get(f"{sim.clob_host}/book", params={"token_id": token}).json()
    return float(book["bids"][-1]["price"]), float(book["asks"][-1]["price"])


def _post_news(sim: SimHandle, **body: Any) -> httpx.Response:
    return httpx.post(f"{sim.clob_host}/_sim/news", json=body)


def _order_status(sim: SimHandle, order_id: str) -> str:
    return sim.call(lambda: sim.sim.exchange.orders[order_id].status)


def test_a_scripted_news_jump_picks_off_a_stale_resting_quote(world):
    sim = world
    market = sim.market(neg_risk=False)
    cid, yes = market["condition_id"], market["yes_token_id"]
    sim.set_latent(cid, 0.5)
    sim.step_agents(10)  # the maker's ladder re-centres on 0.5
    bid, ask = _best(sim, yes)
    assert (bid, ask) == (0.49, 0.51)
    client, wallet = deposit_client(sim)
    sim.fund(wallet, token_id=yes, tokens="40")
    opts = PartialCreateOrderOptions(tick_size=market["tick_size"], neg_risk=False)
    order = client.create_order(OrderArgs(token_id=yes, price=0.50, size=20, side="SELL"), opts)
    resp = client.post_order(order)
    assert resp["status"] == "live"  # our quote: the best ask at 0.50
    news = _post_news(sim, condition_id=cid, p=0.8, lead_s=2.0).json()
    assert news["before"] == pytest.approx(0.5, abs=0.01) and news["after"] == 0.8
    public_step = round((news["public_at"] - news["known_at"]) / STEP_S)
    assert public_step == 4
    filled_at, seen = None, []
    for step in range(1, 12):
        sim.step_agents()
        seen.append((step, next(m["latent"] for m in sim.markets() if m["condition_id"] == cid)))
        if filled_at is None and _order_status(sim, resp["orderID"]) == "MATCHED":
            filled_at = step
    assert filled_at is not None and filled_at <= public_step, (filled_at, seen)  # ahead of or at the jump
    assert all(p == pytest.approx(0.5, abs=0.02) for step, p in seen if step < public_step)
    trade = next(t for t in client.get_trades() if t["maker_orders"][0]["order_id"] == resp["orderID"])
    assert trade["trader_side"] == "MAKER" and float(trade["maker_orders"][0]["price"]) == 0.50
    assert trade["maker_address"].lower() == sim.sim.agents.informed_address.lower()  # the taker's
    bid, ask = _best(sim, yes)
    assert bid >= 0.75 and ask <= 0.85  # public now: the maker quotes around 0.8
    assert (bid + ask) / 2 - 0.50 > 0.25  # our fill's markout: sold at 0.50, worth about 0.80


def test_news_status_and_refusals(world):
    sim = world
    market = sim.market(neg_risk=False, index=1)
    status = httpx.get(f"{sim.clob_host}/_sim/news").json()
    row = next(r for r in status["markets"] if r["condition_id"] == market["condition_id"])
    assert status["agent_market"] == "informed" and row["category"] in ("sports", "politics")
    assert row["horizon_s"] > 0 and row["time_to_close_s"] > 29 * 86_400
    for body, message in (({"condition_id": "0x00", "p": 0.5}, "unknown condition id"),
                          ({"condition_id": market["condition_id"], "p": 1.0}, "strictly between 0 and 1"),
                          ({"condition_id": market["condition_id"], "p": "x"}, "p must be a number"),
                          ({"condition_id": market["condition_id"], "p": 0.4, "lead_s": -1}, "lead_s")):
        resp = _post_news(sim, **body)
        assert resp.status_code == 400 and message in resp.json()["error"], resp.text


def test_scripted_news_needs_the_informed_market():
    with approved_simulator(seed=5, agent_market="calm", **SETTINGS) as sim:  # the old market, by name
        market = sim.market(neg_risk=False)
        resp = _post_news(sim, condition_id=market["condition_id"], p=0.7)
        assert resp.status_code == 400 and "agent_market=informed" in resp.json()["error"]
        assert httpx.get(f"{sim.clob_host}/_sim/news").json()["agent_market"] == "calm"


@pytest.mark.parametrize("seed", [4, 9])
def test_scheduled_resolution_follows_the_path(seed):
    """Markets resolve to the outcome their path implies (YES when the belief ends above one
    half; a group's most likely member), not to a draw."""
    with approved_simulator(seed=seed, resolve_after_s=1.0, resolution_delay_s=0, **SETTINGS) as sim:
        wait_for(lambda: all(m["closed"] and m["winner"] for m in sim.markets()), timeout=10)  # final at once
        markets = sim.markets()
        for m in markets:
            if not m["neg_risk"]:
                assert m["winner"] == (m["yes_token_id"] if m["latent"] > 0.5 else m["no_token_id"]), m
        for nr_id in {m["neg_risk_market_id"] for m in markets if m["neg_risk"]}:
            group = [m for m in markets if m["neg_risk_market_id"] == nr_id]
            favourite = max(group, key=lambda m: m["latent"])
            winners = [m["condition_id"] for m in group if m["winner"] == m["yes_token_id"]]
            assert winners == [favourite["condition_id"]]

"""The Data API's public trade tape (`GET /data-api/trades`): every confirmed trade, the agents'
included, newest first, in the captured payload's shape; `takerOnly` (default true) gives each trade
once on its taker's side and `false` adds its makers' rows; `user`, `market`, `side`, `limit` and
`offset` filter and page as the venue documents; malformed parameters are refused."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from simulator.testing import approved_simulator

from .conftest import FAST, wait_for

CAPTURED = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "polymarket" / "captured"
                       / "data_api_trades_response.json").read_text())


def test_the_tape_lists_confirmed_trades_by_market_user_and_side() -> None:
    with approved_simulator(seed=31, **FAST) as sim:
        base = sim.data_api_host
        m, other = sim.market(neg_risk=False, index=1), sim.market(neg_risk=False, index=2)
        sim.print_trade(m["yes_token_id"], "0.42", "7", "BUY")
        sim.print_trade(m["yes_token_id"], "0.44", "3", "SELL")
        sim.print_trade(other["yes_token_id"], "0.60", "5", "BUY")
        rows = wait_for(lambda: len(got := httpx.get(f"{base}/trades", params={"market": m["condition_id"]})
                                    .json()) == 2 and got, timeout=10)
        assert set(CAPTURED[0]) <= set(rows[0])  # the captured shape, and the outcome besides
        newest, oldest = rows
        assert (newest["side"], newest["price"], newest["size"]) == ("SELL", 0.44, 3.0)
        assert (oldest["side"], oldest["price"], oldest["size"], oldest["asset"]) == ("BUY", 0.42, 7.0,
                                                                                    m["yes_token_id"])
        assert newest["conditionId"] == m["condition_id"] and newest["outcomeIndex"] == 0
        both = httpx.get(f"{base}/trades", params={"market": m["condition_id"], "takerOnly": "false"}).json()
        assert len(both) == 4 and {r["side"] for r in both[:2]} == {"BUY", "SELL"}  # the maker's row beside
        taker = oldest["proxyWallet"]
        mine = httpx.get(f"{base}/trades", params={"user": taker}).json()
        assert mine and all(r["proxyWallet"] == taker for r in mine)
        sells = httpx.get(f"{base}/trades", params={"market": m["condition_id"], "side": "SELL"}).json()
        assert [r["price"] for r in sells] == [0.44]
        everything = httpx.get(f"{base}/trades").json()
        assert len(everything) == 3 and everything[0]["conditionId"] == other["condition_id"]  # newest first
        assert httpx.get(f"{base}/trades", params={"limit": 1, "offset": 1}).json() == everything[1:2]
        for bad in ({"limit": 10_001}, {"offset": -1}, {"user": "me"}, {"market": "0x12"}, {"takerOnly": "yes"},
                    {"side": "HOLD"}):
            assert httpx.get(f"{base}/trades", params=bad).status_code == 400, bad

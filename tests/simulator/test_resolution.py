"""Market resolution: 1/0 settlement, order cancellation, Gamma/CLOB state."""

from __future__ import annotations

import json

import httpx
import pytest
from py_clob_client_v2 import OrderArgs
from py_clob_client_v2.exceptions import PolyApiException
from websockets.sync.client import connect

from simulator.testing import running_simulator

from .conftest import FAST, new_client, recv_until, wait_for


@pytest.fixture(scope="module")
def rsim():
    with running_simulator(seed=21, **FAST) as handle:
        yield handle


def test_resolution_settles_at_one_and_zero(rsim):
    m = rsim.market(neg_risk=False, index=1)
    yes, no = m["yes_token_id"], m["no_token_id"]
    holder = new_client(rsim)
    addr = holder.get_address()
    rsim.fund(addr, token_id=yes, tokens="10")
    rsim.fund(addr, token_id=no, tokens="4")
    ask = OrderArgs(token_id=yes, price=0.9, size=10, side="SELL")
    oid = holder.post_order(holder.create_order(ask))["orderID"]
    c = holder.creds
    with connect(rsim.ws_host + "user", open_timeout=5) as user, \
            connect(rsim.ws_host + "market", open_timeout=5) as mkt:
        user.send(json.dumps({"type": "user", "markets": [], "auth": {
            "apiKey": c.api_key, "secret": c.api_secret, "passphrase": c.api_passphrase}}))
        mkt.send(json.dumps({"type": "market", "assets_ids": [yes], "custom_feature_enabled": True}))
        recv_until(mkt, lambda msg: isinstance(msg, list))
        user.send("PING")
        assert user.recv(timeout=3) == "PONG"
        result = rsim.resolve(m["condition_id"], "YES")
        cancel = recv_until(user, lambda msg: msg.get("event_type") == "order")
        resolved = recv_until(mkt, lambda msg: msg.get("event_type") == "market_resolved")
    assert result["payouts"][addr.lower()] == "10"
    assert (cancel["type"], cancel["status"]) == ("CANCELLATION", "CANCELED_MARKET_RESOLVED")
    assert cancel["id"] == oid
    assert resolved["winning_asset_id"] == yes
    bal = rsim.balances(addr)
    assert (bal["pusd"], bal["tokens"], bal["reserved_tokens"]) == ("10010", {}, {})
    market = holder.get_market(m["condition_id"])
    assert market["closed"] is True and market["accepting_orders"] is False
    assert [t["winner"] for t in market["tokens"]] == [True, False]
    with pytest.raises(PolyApiException) as exc:
        holder.post_order(holder.create_order(OrderArgs(token_id=yes, price=0.5, size=10, side="BUY")))
    assert exc.value.error_msg == {"error": "the market is not yet ready to process new orders"}
    gamma = httpx.get(rsim.gamma_host + "/markets", params={"condition_ids": m["condition_id"]}).json()
    assert gamma == []  # Gamma hides closed markets unless asked
    [row] = httpx.get(rsim.gamma_host + "/markets",
                      params={"condition_ids": m["condition_id"], "closed": "true"}).json()
    assert row["closed"] is True and json.loads(row["outcomePrices"]) == ["1", "0"]


def test_neg_risk_group_resolves_together(rsim):
    group = [m for m in rsim.markets() if m["neg_risk"]]
    nr_id = group[0]["neg_risk_market_id"]
    assert len(group) >= 3 and all(m["neg_risk_market_id"] == nr_id for m in group)
    trader = new_client(rsim)
    for m in group:
        rsim.fund(trader.get_address(), token_id=m["yes_token_id"], tokens="5")
    rsim.resolve_group(nr_id, group[1]["condition_id"])
    winners = {m["condition_id"]: m["winner"] for m in rsim.markets() if m["neg_risk"]}
    assert winners[group[1]["condition_id"]] == group[1]["yes_token_id"]
    losers = [m for m in group if m["condition_id"] != group[1]["condition_id"]]
    assert all(winners[m["condition_id"]] == m["no_token_id"] for m in losers)
    assert rsim.balances(trader.get_address())["pusd"] == "10005"


def test_scheduled_resolution():
    with running_simulator(seed=4, resolve_after_s=0.5, **FAST) as sim:
        wait_for(lambda: all(m["closed"] for m in sim.markets()), timeout=5)
        assert all(m["winner"] in (m["yes_token_id"], m["no_token_id"]) for m in sim.markets())
        group = [m for m in sim.markets() if m["neg_risk"]]
        assert sum(m["winner"] == m["yes_token_id"] for m in group) == 1  # exactly one outcome wins

"""Market resolution, UMA-style: a proposal stops trading and pays nothing; finality comes
`resolution_delay_s` later (a dispute pushes it out); winning tokens pay only when redeemed,
by the holder or by the auto-redeem operator the holder approved."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from py_clob_client_v2 import OrderArgs
from py_clob_client_v2.exceptions import PolyApiException
from websockets.sync.client import connect

from simulator.testing import approved_simulator

from .conftest import FAST, new_client, recv_until, wait_for

AUTO_REDEEM_OPERATOR = "0xa1200000d0002264C9a1698e001292D00E1b00af"


@pytest.fixture(scope="module")
def rsim():
    with approved_simulator(seed=21, resolution_delay_s=0.6, auto_redeem_delay_s=0.2, **FAST) as handle:
        yield handle


def _gamma(sim, condition_id: str, closed: bool = True) -> dict:
    params = {"condition_ids": condition_id, "closed": str(closed).lower()}
    [row] = httpx.get(sim.gamma_host + "/markets", params=params).json()
    return row


def test_a_proposal_stops_trading_and_pays_nothing_until_final(rsim):
    m = rsim.market(neg_risk=False, index=1)
    yes, no = m["yes_token_id"], m["no_token_id"]
    holder = new_client(rsim)
    addr = holder.get_address()
    rsim.fund(addr, token_id=yes, tokens="10")
    rsim.fund(addr, token_id=no, tokens="4")
    oid = holder.post_order(holder.create_order(OrderArgs(token_id=yes, price=0.9, size=10, side="SELL")))["orderID"]
    c = holder.creds
    with connect(rsim.ws_host + "user", open_timeout=5) as user, \
            connect(rsim.ws_host + "market", open_timeout=5) as mkt:
        user.send(json.dumps({"type": "user", "markets": [], "auth": {
            "apiKey": c.api_key, "secret": c.api_secret, "passphrase": c.api_passphrase}}))
        mkt.send(json.dumps({"type": "market", "assets_ids": [yes], "custom_feature_enabled": True}))
        recv_until(mkt, lambda msg: isinstance(msg, list))
        user.send("PING")
        assert user.recv(timeout=3) == "PONG"
        proposed = rsim.resolve(m["condition_id"], "YES")
        cancel = recv_until(user, lambda msg: msg.get("event_type") == "order")
        # Proposed, not final: closed for trading, the prices show the proposal, nothing is paid.
        assert proposed["status"] == "proposed" and proposed["final_at"] > proposed["proposed_at"]
        assert (cancel["type"], cancel["status"], cancel["id"]) == ("CANCELLATION", "CANCELED_MARKET_RESOLVED", oid)
        row = _gamma(rsim, m["condition_id"])
        assert row["closed"] is True and row["umaResolutionStatus"] == "proposed"
        assert json.loads(row["outcomePrices"]) == ["1", "0"]
        market = holder.get_market(m["condition_id"])
        assert [t["winner"] for t in market["tokens"]] == [False, False]  # the CLOB names no winner yet
        bal = rsim.balances(addr)
        assert (bal["pusd"], bal["tokens"]) == ("10000", {yes: "10", no: "4"})
        with pytest.raises(PolyApiException) as exc:
            holder.post_order(holder.create_order(OrderArgs(token_id=yes, price=0.5, size=10, side="BUY")))
        assert exc.value.error_msg == {"error": "the market is not yet ready to process new orders"}
        resolved = recv_until(mkt, lambda msg: msg.get("event_type") == "market_resolved", timeout=5)
    # Final: the winner is reported everywhere, and still nothing is paid without a redeem.
    assert resolved["winning_asset_id"] == yes
    assert rsim.resolution(m["condition_id"])["status"] == "resolved"
    assert _gamma(rsim, m["condition_id"])["umaResolutionStatus"] == "resolved"
    assert [t["winner"] for t in holder.get_market(m["condition_id"])["tokens"]] == [True, False]
    assert rsim.balances(addr)["pusd"] == "10000" and rsim.balances(addr)["tokens"] == {yes: "10", no: "4"}
    assert rsim.activity(addr) == []


def test_the_auto_redeem_operator_pays_only_wallets_that_approved_it(rsim):
    m = rsim.market(neg_risk=False, index=2)
    yes, no = m["yes_token_id"], m["no_token_id"]
    approved, other = new_client(rsim).get_address(), new_client(rsim).get_address()
    for wallet in (approved, other):
        rsim.fund(wallet, token_id=yes, tokens="3")
        rsim.fund(wallet, token_id=no, tokens="7")
    rsim.approve(approved, AUTO_REDEEM_OPERATOR)
    rsim.resolve(m["condition_id"], "NO")
    wait_for(lambda: rsim.activity(approved), timeout=5)
    [paid] = rsim.activity(approved)
    assert (paid["type"], paid["usdcSize"], paid["size"]) == ("REDEEM", "7", "10")
    assert paid["conditionId"] == m["condition_id"]
    assert rsim.balances(approved)["pusd"] == "10007" and rsim.balances(approved)["tokens"] == {}
    # The operator redeems every approved wallet in one pass: the other one was passed over.
    assert rsim.activity(other) == [] and rsim.balances(other)["tokens"] == {yes: "3", no: "7"}


def test_a_dispute_moves_finality_out():
    with approved_simulator(seed=22, resolution_delay_s=0.3, dispute_delay_s=30, **FAST) as sim:
        m, clock = sim.market(neg_risk=False, index=0), sim.market(neg_risk=False, index=1)
        sim.resolve(m["condition_id"], "YES")
        sim.resolve(clock["condition_id"], "YES")  # undisputed, same liveness: it shows when that has passed
        disputed = sim.dispute(m["condition_id"])
        assert disputed["status"] == "disputed" and disputed["final_at"] - time.time() > 25
        wait_for(lambda: sim.resolution(clock["condition_id"])["status"] == "resolved", timeout=5)
        assert sim.resolution(m["condition_id"])["status"] == "disputed"
        assert _gamma(sim, m["condition_id"])["umaResolutionStatus"] == "disputed"
        assert [x["winner"] for x in sim.markets() if x["condition_id"] == m["condition_id"]] == [None]
        with pytest.raises(Exception, match="already resolving"):
            sim.resolve(m["condition_id"], "NO")


def test_neg_risk_group_resolves_together(rsim):
    nr_id = next(m for m in rsim.markets() if m["neg_risk"])["neg_risk_market_id"]
    group = [m for m in rsim.markets() if m["neg_risk_market_id"] == nr_id]
    assert len(group) >= 3
    rsim.resolve_group(nr_id, group[1]["condition_id"])
    wait_for(lambda: all(m["winner"] for m in rsim.markets() if m["neg_risk_market_id"] == nr_id), timeout=5)
    winners = {m["condition_id"]: m["winner"] for m in rsim.markets() if m["neg_risk_market_id"] == nr_id}
    assert winners[group[1]["condition_id"]] == group[1]["yes_token_id"]
    losers = [m for m in group if m["condition_id"] != group[1]["condition_id"]]
    assert all(winners[m["condition_id"]] == m["no_token_id"] for m in losers)


def test_scheduled_resolution_is_proposed_then_final():
    with approved_simulator(seed=4, resolve_after_s=0.5, resolution_delay_s=0.5, **FAST) as sim:
        wait_for(lambda: all(m["closed"] for m in sim.markets()), timeout=5)
        wait_for(lambda: all(m["resolution"] == "resolved" for m in sim.markets()), timeout=5)
        assert all(m["winner"] in (m["yes_token_id"], m["no_token_id"]) for m in sim.markets())
        groups = {m["neg_risk_market_id"] for m in sim.markets() if m["neg_risk"]}
        for nr_id in groups:  # exactly one outcome of each group wins
            assert sum(m["winner"] == m["yes_token_id"] for m in sim.markets() if m["neg_risk_market_id"] == nr_id) == 1


def test_the_default_liveness_is_two_hours():
    with approved_simulator(seed=5, **FAST) as sim:
        m = sim.market(neg_risk=False, index=0)
        proposed = sim.resolve(m["condition_id"], "YES")
        assert proposed["final_at"] - proposed["proposed_at"] == pytest.approx(7200, abs=1)


def test_an_early_proposal_leaves_the_book_trading_until_final():
    """An outcome proposed before the market's end (`keep_trading`): orders rest and are accepted,
    Gamma shows the market open with its status; at finality the book closes as usual."""
    with approved_simulator(seed=23, resolution_delay_s=3600, **FAST) as sim:
        m = sim.market(neg_risk=False, index=1)
        yes = m["yes_token_id"]
        holder = new_client(sim)
        sim.fund(holder.get_address(), token_id=yes, tokens="10")
        resting = holder.post_order(holder.create_order(OrderArgs(token_id=yes, price=0.9, size=10, side="SELL")))
        with pytest.raises(Exception, match="keep_trading must be true or false"):
            sim.resolve(m["condition_id"], "YES", keep_trading="yes")  # type: ignore[arg-type]  # a wrong type on purpose: refused
        assert sim.resolve(m["condition_id"], "YES", keep_trading=True)["status"] == "proposed"
        row = _gamma(sim, m["condition_id"], closed=False)
        assert (row["closed"], row["acceptingOrders"], row["umaResolutionStatus"]) == (False, True, "proposed")
        assert holder.get_order(resting["orderID"])["status"] == "LIVE"
        placed = holder.post_order(holder.create_order(OrderArgs(token_id=yes, price=0.2, size=10, side="BUY")))
        assert placed["success"] and placed["orderID"]
        sim.call(sim.sim.settlement.finalize, sim.sim.exchange.markets[m["condition_id"]])
        row = _gamma(sim, m["condition_id"])
        assert (row["closed"], row["umaResolutionStatus"]) == (True, "resolved")
        assert holder.get_order(resting["orderID"]) is None  # no longer open: cancelled with the book
        assert holder.get_open_orders() == []

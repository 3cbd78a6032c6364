"""Matched orders are settled after the answer (the venue's asynchronous settlement, 2026-07-24): the
answer names the trades (`tradeIDs`) and no transaction hash, each trade shows its hash only once its
transaction is out, and py-clob-client-v2 1.2.1's `post_order`, left alone, waits for that hash by
polling /data/trades (up to 30 s): the wait the desk never makes (tests/venues/test_no_settlement_wait.py)."""

from __future__ import annotations

from py_clob_client_v2 import ClobClient, OrderArgs, TradeParams
from websockets.sync.client import connect

from .conftest import PromptClient, new_client, recv_until, subscribe_user, wait_for


def test_a_match_answers_trade_ids_and_the_hash_comes_with_the_transaction(sim, market):
    yes = market["yes_token_id"]
    client = new_client(sim)
    sim.place_liquidity(yes, "SELL", "0.45", "10")
    with connect(sim.ws_host + "user", open_timeout=5) as ws:
        subscribe_user(ws, client)
        resp = client.post_order(client.create_order(OrderArgs(token_id=yes, price=0.45, size=10, side="BUY")))
        assert (resp["status"], resp["transactionsHashes"], len(resp["tradeIDs"])) == ("matched", [], 1)
        matched = recv_until(ws, lambda m: m.get("event_type") == "trade")
        mined = recv_until(ws, lambda m: m.get("event_type") == "trade" and m["status"] == "MINED")
    assert (matched["id"], matched["status"], matched["transaction_hash"]) == (resp["tradeIDs"][0], "MATCHED", "")
    assert mined["transaction_hash"].startswith("0x") and len(mined["transaction_hash"]) == 66
    [trade] = client.get_trades(TradeParams(id=resp["tradeIDs"][0]))
    assert trade["transaction_hash"] == mined["transaction_hash"]


def test_the_official_client_left_alone_waits_for_the_hash(sim, market):
    """What the desk avoids: the client blocks until the trade's transaction is out (here the
    simulator's mined delay, 0.2 s; on the venue up to its 30 s cap), then adds the hash."""
    yes = market["yes_token_id"]
    prompt = new_client(sim)
    waiting = ClobClient(sim.clob_host, 137, key=prompt.signer.private_key)
    waiting.set_api_creds(prompt.creds)
    assert not isinstance(waiting, PromptClient)
    sim.place_liquidity(yes, "SELL", "0.45", "10")
    resp = waiting.post_order(waiting.create_order(OrderArgs(token_id=yes, price=0.45, size=10, side="BUY")))
    [trade] = wait_for(lambda: waiting.get_trades(TradeParams(id=resp["tradeIDs"][0])))
    # The venue answered no hash (the test above): the client polled until the trade was mined.
    assert resp["transactionsHashes"] == [trade["transaction_hash"]] != [""]

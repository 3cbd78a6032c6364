"""Every captured venue payload in tests/fixtures/polymarket has the same shape
(keys, and JSON types where the fixture is not null) as what the simulator emits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from py_clob_client_v2 import OrderArgs, OrderPayload, TradeParams
from websockets.sync.client import connect

from .conftest import new_client, recv_until

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "polymarket"
SEED = Path(__file__).resolve().parents[2] / "simulator" / "data" / "markets.json"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def assert_same_shape(ours: Any, theirs: Any, path: str = "$") -> None:
    """Same keys at every level; same JSON type wherever the fixture is not null."""
    if theirs is None or ours is None:
        return
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), path
        extra, missing = set(ours) - set(theirs), set(theirs) - set(ours)
        assert not extra and not missing, f"{path}: extra {extra}, missing {missing}"
        for key in theirs:
            assert_same_shape(ours[key], theirs[key], f"{path}.{key}")
    elif isinstance(theirs, list):
        assert isinstance(ours, list), path
        if theirs and ours:
            assert_same_shape(ours[0], theirs[0], f"{path}[0]")
    else:
        assert type(ours) is type(theirs) or {type(ours), type(theirs)} <= {int, float}, path


@pytest.fixture(scope="module")
def captured(sim) -> dict[str, Any]:
    """Drive one scenario and keep the first message of each kind."""
    m = sim.market(neg_risk=False, index=2)
    yes, no = m["yes_token_id"], m["no_token_id"]
    sim.clear_book(m["condition_id"])
    maker, taker = new_client(sim), new_client(sim)
    got: dict[str, Any] = {}
    c = maker.creds
    with connect(sim.ws_host + "market", open_timeout=5) as mws, \
            connect(sim.ws_host + "user", open_timeout=5) as uws:
        mws.send(json.dumps({"type": "market", "assets_ids": [yes, no]}))
        uws.send(json.dumps({"type": "user", "markets": [m["condition_id"]], "auth": {
            "apiKey": c.api_key, "secret": c.api_secret, "passphrase": c.api_passphrase}}))
        got["book"] = recv_until(mws, lambda x: isinstance(x, list))[0]
        uws.send("PING")
        assert uws.recv(timeout=3) == "PONG"
        bid = OrderArgs(token_id=yes, price=0.5, size=30, side="BUY")
        oid = maker.post_order(maker.create_order(bid))["orderID"]
        got["placement"] = recv_until(uws, lambda x: x.get("type") == "PLACEMENT")
        got["price_change"] = recv_until(mws, lambda x: x.get("event_type") == "price_change")
        sim.fund(taker.get_address(), token_id=yes, tokens="15")
        taker.post_order(taker.create_order(OrderArgs(token_id=yes, price=0.5, size=15, side="SELL")))
        got["trade"] = recv_until(uws, lambda x: x.get("event_type") == "trade")
        got["last_trade_price"] = recv_until(mws, lambda x: x.get("event_type") == "last_trade_price")
        maker.cancel_order(OrderPayload(orderID=oid))
        got["cancel"] = recv_until(uws, lambda x: x.get("type") == "CANCELLATION")
        sim.set_tick_size(m["condition_id"], "0.001")
        got["tick"] = recv_until(mws, lambda x: x.get("event_type") == "tick_size_change")
        sim.set_tick_size(m["condition_id"], m["tick_size"])
    got["rest_trade"] = maker.get_trades(TradeParams(id=got["trade"]["id"]))[0]
    got["rest_book"] = maker.get_order_book(yes)
    got["clob_market"] = maker.get_market(m["condition_id"])
    gamma = httpx.get(sim.gamma_host + "/markets", params={"condition_ids": m["condition_id"], "include_tag": "true"})
    got["gamma"] = gamma.json()[0]
    untagged = httpx.get(sim.gamma_host + "/markets", params={"condition_ids": m["condition_id"]}).json()[0]
    got["gamma_untagged"] = untagged
    return got


def test_ws_book(captured):
    assert_same_shape(captured["book"], fixture("ws/book.json"))


def test_rest_book_has_the_fixture_keys_plus_the_client_summary_keys(captured):
    theirs = fixture("http/book.json")
    assert set(theirs) <= set(captured["rest_book"])
    assert_same_shape({k: captured["rest_book"][k] for k in theirs}, theirs)


def test_price_change_v2(captured):
    assert_same_shape(captured["price_change"], fixture("ws/price_change_v2.json"))


def test_last_trade_price(captured):
    assert_same_shape(captured["last_trade_price"], fixture("ws/last_trade_price.json"))


def test_tick_size_change(captured):
    assert_same_shape(captured["tick"], fixture("ws/tick_size_change.json"))


@pytest.mark.parametrize("kind,name", [("placement", "order_placement"), ("cancel", "order_cancel")])
def test_order_events(captured, kind, name):
    assert_same_shape(captured[kind], fixture(f"ws/{name}.json"))


def _without_maker_side(trade: dict[str, Any]) -> dict[str, Any]:
    """Older captures (user_trade1/2, trades.json) predate ``maker_orders[].side``;
    newer ones (user_trade3/4) carry it, and so does the simulator."""
    makers = [{k: v for k, v in m.items() if k != "side"} for m in trade["maker_orders"]]
    return {**trade, "maker_orders": makers}


@pytest.mark.parametrize("name", ["user_trade3", "user_trade4"])
def test_user_trade(captured, name):
    assert_same_shape(captured["trade"], fixture(f"ws/{name}.json"))


@pytest.mark.parametrize("name", ["user_trade1", "user_trade2"])
def test_older_user_trades(captured, name):
    assert_same_shape(_without_maker_side(captured["trade"]), fixture(f"ws/{name}.json"))


def test_rest_trade(captured):
    assert_same_shape(_without_maker_side(captured["rest_trade"]), fixture("ws/trades.json"))


@pytest.mark.parametrize("source", ["fixture", "seed"])
def test_clob_market(captured, source):
    theirs = fixture("http/market.json") if source == "fixture" else json.loads(SEED.read_text())["data"][0]
    ours = dict(captured["clob_market"])
    assert_same_shape({**ours, "rewards": theirs["rewards"]}, theirs)
    assert set(ours["rewards"]) == set(theirs["rewards"])


def test_gamma_market_keys_and_encoding(captured):
    row = captured["gamma"]
    assert set(fixture("http/market_slug.json")) <= set(row)
    for key in ("outcomes", "outcomePrices", "clobTokenIds"):
        assert isinstance(row[key], str) and isinstance(json.loads(row[key]), list)
    assert row["version"] == "v1"
    wanted = {"id", "question", "conditionId", "slug", "endDate", "outcomes", "outcomePrices",
              "clobTokenIds", "active", "closed", "archived", "acceptingOrders", "enableOrderBook", "negRisk",
              "negRiskMarketID", "orderPriceMinTickSize", "orderMinSize", "volume", "volumeNum", "liquidity",
              "liquidityNum", "volume24hr", "bestBid", "bestAsk", "lastTradePrice", "feesEnabled", "tags"}
    assert wanted <= set(row)
    assert "tags" not in captured["gamma_untagged"]  # as the venue: tags only when include_tag=true is asked

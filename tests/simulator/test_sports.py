"""Sports markets: a marketable placement is answered ``delayed`` with no fills, matched a few
seconds later as the book is then, or ended unmatched with the venue's own status (a killed FOK's
``CANCELED_<its refusal>``, a FAK's ``UNMATCHED``, ``CANCELED_NOT_ENOUGH_BALANCE``); REST and the
user channel say so, and REST forgets the order once it has ended, as the venue does."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from py_clob_client_v2 import MarketOrderArgs, OrderArgs, OrderPayload, OrderType
from websockets.sync.client import connect

from simulator.config import SimConfig
from simulator.testing import SimHandle, approved_simulator

from .conftest import FAST, deposit_client, recv_until, subscribe_user, wait_for

DELAY = 0.6
CAPTURED = Path(__file__).resolve().parents[1] / "fixtures" / "polymarket" / "captured"
WIMBLEDON = "2022 Wimbledon Championships: Who will win Djokovic vs. Sinner?"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    # No taker fee (a game market's is r = 0.05): the balances below are the delayed matches' alone.
    with approved_simulator(seed=61, **{**FAST, "allow_eoa_makers": False, "sports_delay_s": DELAY,
                                        "fee_rate": "0"}) as handle:
        yield handle


@pytest.fixture
def game(sim: SimHandle) -> dict[str, Any]:
    m = next(m for m in sim.markets() if m["sports"])
    sim.clear_book(m["condition_id"])
    return m


def _order_events(ws: Any, order_id: str, count: int, timeout: float = 3.0) -> list[dict[str, Any]]:
    return [recv_until(ws, lambda x: x.get("event_type") == "order" and x["id"] == order_id, timeout)
            for _ in range(count)]


def test_the_default_sports_markets_are_the_head_to_head_games(sim):
    rows = sim.markets()
    assert [m["question"] for m in rows if m["sports"]] == [WIMBLEDON]
    game_row = next(m for m in rows if m["sports"])
    clob = httpx.get(f"{sim.clob_host}/markets/{game_row['condition_id']}").json()
    assert clob["seconds_delay"] == DELAY
    other = next(m for m in rows if not m["sports"])
    assert httpx.get(f"{sim.clob_host}/markets/{other['condition_id']}").json()["seconds_delay"] == 0
    assert SimConfig().sports_delay_s == 3.0


def test_a_marketable_order_is_delayed_then_matched(sim, game):
    yes = game["yes_token_id"]
    sim.place_liquidity(yes, "SELL", "0.5", "20")
    client, wallet = deposit_client(sim)
    with connect(sim.ws_host + "user", open_timeout=5) as ws:
        subscribe_user(ws, client)
        resp = client.post_order(client.create_market_order(
            MarketOrderArgs(token_id=yes, amount=10, side="BUY", price=0.5)), OrderType.FOK)
        assert resp["success"] is True and resp["status"] == "delayed"
        assert (resp["makingAmount"], resp["takingAmount"], resp["tradeIDs"], resp["transactionsHashes"]) == (
            "", "", [], [])
        oid = resp["orderID"]
        assert client.get_order(oid)["status"] == "DELAYED"
        assert [o["id"] for o in client.get_open_orders()] == [oid]
        assert sim.balances(wallet)["reserved_pusd"] == "10"
        assert client.get_order_book(yes)["asks"] == [{"price": "0.5", "size": "20"}]  # not matched yet
        [placed] = _order_events(ws, oid, 1)
        assert (placed["type"], placed["status"], placed["size_matched"]) == ("PLACEMENT", "DELAYED", "0")
        [updated] = _order_events(ws, oid, 1)
        trade = recv_until(ws, lambda x: x.get("event_type") == "trade" and x["taker_order_id"] == oid)
    assert (trade["status"], trade["size"]) == ("MATCHED", "20")
    assert (updated["type"], updated["status"], updated["size_matched"]) == ("UPDATE", "MATCHED", "20")
    assert client.get_order(oid) is None  # filled, then forgotten
    assert client.get_open_orders() == []
    bal = sim.balances(wallet)
    assert (bal["pusd"], bal["reserved_pusd"], bal["tokens"]) == ("9990", "0", {yes: "20"})


def test_matched_as_the_book_is_when_the_delay_ends(sim, game):
    yes = game["yes_token_id"]
    sim.place_liquidity(yes, "SELL", "0.5", "30")
    client, wallet = deposit_client(sim)
    resp = client.post_order(client.create_order(OrderArgs(token_id=yes, price=0.5, size=20, side="BUY")))
    assert resp["status"] == "delayed"
    sim.clear_book(game["condition_id"])
    sim.place_liquidity(yes, "SELL", "0.45", "15")  # better, but less, by the time it matches
    wait_for(lambda: client.get_order(resp["orderID"])["status"] != "DELAYED", timeout=3)
    order = client.get_order(resp["orderID"])
    assert (order["status"], order["size_matched"]) == ("LIVE", "15")  # the rest of a GTC rests
    assert client.get_order_book(yes)["bids"] == [{"price": "0.5", "size": "5"}]
    assert sim.balances(wallet)["pusd"] == "9993.25"  # 15 × 0.45


def test_a_delayed_fok_that_cannot_fill_is_killed_as_the_venue_says(sim, game):
    yes = game["yes_token_id"]
    sim.place_liquidity(yes, "SELL", "0.5", "20")
    client, wallet = deposit_client(sim)
    with connect(sim.ws_host + "user", open_timeout=5) as ws:
        subscribe_user(ws, client)
        resp = client.post_order(client.create_market_order(
            MarketOrderArgs(token_id=yes, amount=10, side="BUY", price=0.5)), OrderType.FOK)
        assert resp["status"] == "delayed"
        sim.clear_book(game["condition_id"])
        sim.place_liquidity(yes, "SELL", "0.5", "19")  # one share short of the whole order
        placed, ended = _order_events(ws, resp["orderID"], 2)
    killed = json.loads((CAPTURED / "ws_user_order_fok_killed.json").read_text())  # as the venue sent it
    assert (placed["status"], ended["type"], ended["status"], ended["size_matched"], ended["order_type"]) == (
        "DELAYED", killed["type"], killed["status"], "0", killed["order_type"])
    assert client.get_order(resp["orderID"]) is None
    assert client.get_open_orders() == [] and client.get_trades() == []
    bal = sim.balances(wallet)
    assert (bal["pusd"], bal["reserved_pusd"]) == ("10000", "0")
    assert client.get_order_book(yes)["asks"] == [{"price": "0.5", "size": "19"}]


def test_a_delayed_fak_fills_what_is_there_then_or_ends_unmatched(sim, game):
    yes = game["yes_token_id"]
    client, wallet = deposit_client(sim)
    nothing = client.post_order(client.create_market_order(
        MarketOrderArgs(token_id=yes, amount=10, side="BUY", price=0.5)), OrderType.FAK)
    assert nothing["status"] == "delayed"  # not refused at once: its fate is decided later
    partial = client.post_order(client.create_market_order(
        MarketOrderArgs(token_id=yes, amount=10, side="BUY", price=0.5)), OrderType.FAK)
    with connect(sim.ws_host + "user", open_timeout=5) as ws:
        subscribe_user(ws, client)
        sim.place_liquidity(yes, "SELL", "0.5", "16")  # arrives during the delay
        first, second = (_order_events(ws, oid, 1)[0] for oid in (nothing["orderID"], partial["orderID"]))
    # Both see the same book when their turn comes: the first takes the 16, the second finds nothing.
    assert (first["status"], first["size_matched"]) == ("MATCHED", "16")
    assert (second["status"], second["size_matched"]) == ("UNMATCHED", "0")
    assert client.get_open_orders() == [] and client.get_order(partial["orderID"]) is None
    assert sim.balances(wallet)["pusd"] == "9992" and sim.balances(wallet)["reserved_pusd"] == "0"


def test_a_crossing_gtc_whose_liquidity_left_rests_live(sim, game):
    yes = game["yes_token_id"]
    sim.place_liquidity(yes, "SELL", "0.5", "20")
    client, _ = deposit_client(sim)
    with connect(sim.ws_host + "user", open_timeout=5) as ws:
        subscribe_user(ws, client)
        resp = client.post_order(client.create_order(OrderArgs(token_id=yes, price=0.5, size=20, side="BUY")))
        sim.clear_book(game["condition_id"])
        placed, rested = _order_events(ws, resp["orderID"], 2)
    assert (placed["status"], rested["type"], rested["status"]) == ("DELAYED", "UPDATE", "LIVE")
    assert client.get_order(resp["orderID"])["status"] == "LIVE"
    assert client.get_order_book(yes)["bids"] == [{"price": "0.5", "size": "20"}]
    quiet = client.post_order(client.create_order(OrderArgs(token_id=yes, price=0.4, size=20, side="BUY")))
    assert quiet["status"] == "live"  # not marketable: no delay


def test_a_delayed_order_can_be_cancelled_before_it_matches(sim, game):
    yes = game["yes_token_id"]
    sim.place_liquidity(yes, "SELL", "0.5", "20")
    client, wallet = deposit_client(sim)
    with connect(sim.ws_host + "user", open_timeout=5) as ws:
        subscribe_user(ws, client)
        resp = client.post_order(client.create_order(OrderArgs(token_id=yes, price=0.5, size=20, side="BUY")))
        assert client.cancel_order(OrderPayload(orderID=resp["orderID"]))["canceled"] == [resp["orderID"]]
        placed, cancelled = _order_events(ws, resp["orderID"], 2)
    assert (placed["status"], cancelled["type"], cancelled["status"]) == ("DELAYED", "CANCELLATION", "CANCELED")
    # A witness delayed after it (a FOK the book cannot fill, so it trades nothing) is released
    # later: once the witness has ended, the cancelled order's turn has come and gone.
    other, _ = deposit_client(sim)
    witness = other.post_order(other.create_market_order(
        MarketOrderArgs(token_id=yes, amount=20, side="BUY", price=0.5)), OrderType.FOK)
    assert witness["status"] == "delayed"
    wait_for(lambda: other.get_order(witness["orderID"]) is None, timeout=5)  # killed, and forgotten
    assert client.get_order(resp["orderID"]) is None
    assert client.get_trades() == []
    assert client.get_order_book(yes)["asks"] == [{"price": "0.5", "size": "20"}]
    bal = sim.balances(wallet)
    assert (bal["pusd"], bal["reserved_pusd"]) == ("10000", "0")


def test_a_delayed_order_the_account_can_no_longer_carry_is_cancelled_for_its_balance(sim, game):
    yes = game["yes_token_id"]
    sim.place_liquidity(yes, "SELL", "0.5", "20")
    client, wallet = deposit_client(sim)
    with connect(sim.ws_host + "user", open_timeout=5) as ws:
        subscribe_user(ws, client)
        resp = client.post_order(client.create_order(OrderArgs(token_id=yes, price=0.5, size=20, side="BUY")))
        assert resp["status"] == "delayed"
        sim.fund(wallet, pusd="-9995")  # the wallet's pUSD leaves it while the order waits
        placed, ended = _order_events(ws, resp["orderID"], 2)
    assert (placed["status"], ended["type"], ended["status"], ended["size_matched"]) == (
        "DELAYED", "CANCELLATION", "CANCELED_NOT_ENOUGH_BALANCE", "0")
    assert client.get_order(resp["orderID"]) is None and client.get_trades() == []
    assert sim.balances(wallet)["reserved_pusd"] == "0"
    assert client.get_order_book(yes)["asks"] == [{"price": "0.5", "size": "20"}]


def test_internal_liquidity_is_not_delayed(sim, game):
    yes = game["yes_token_id"]
    sim.place_liquidity(yes, "SELL", "0.5", "20")
    assert sim.place_liquidity(yes, "BUY", "0.5", "20")["matched"] == "20"


@pytest.mark.parametrize("settings,sports", [
    ({"sports_delay_s": 0}, 0),
    ({"sports_markets": "none"}, 0),
    ({"sports_markets": "all"}, 14),
    ({"sports_markets": "0,4"}, 2),
])
def test_which_markets_are_sports_and_no_delay(settings, sports):
    with approved_simulator(seed=62, **{**FAST, **settings}) as sim:
        rows = sim.markets()
        assert sum(m["sports"] for m in rows) == sports
        if settings.get("sports_markets") == "0,4":
            assert [i for i, m in enumerate(rows) if m["sports"]] == [0, 4]
        if not sports:
            game = next(m for m in rows if m["question"] == WIMBLEDON)
            sim.clear_book(game["condition_id"])
            sim.place_liquidity(game["yes_token_id"], "SELL", "0.5", "20")
            client, _ = deposit_client(sim)
            resp = client.post_order(client.create_order(
                OrderArgs(token_id=game["yes_token_id"], price=0.5, size=20, side="BUY")))
            assert resp["status"] == "matched"

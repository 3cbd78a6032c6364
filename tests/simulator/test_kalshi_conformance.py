"""The simulator's Kalshi side as Kalshi answers today, checked against Kalshi's published schemas
(simulator/kalshi/conformance.py: every answer it serves in this module, every WebSocket message it sends) and
Kalshi's documented rules: fixed-point strings everywhere, V2 orders only (the retired ones answer 410
and do nothing), its error envelope and codes, fees reported per fill with Kalshi's rounding, lifecycle
after close, pauses, token buckets without Retry-After. Spoken to through the desk's own client."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import httpx
import pytest
import websockets

from engine.venues.kalshi.client import KalshiClient
from engine.venues.kalshi.http import KalshiError, KalshiSigner
from simulator.kalshi.conformance import Conformance, document
from simulator.testing import SimHandle, running_simulator
from tests.kalshi import account, admin, binary_tickers, client, host, lifecycle, structure, trade

MICRO = 1_000_000


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=3, agents=False, prefill_books=False, kalshi_markets=6, kalshi_parlays=5) as handle:
        yield handle


@pytest.fixture(scope="module")
def conformance(sim: SimHandle) -> Conformance:
    found = Conformance()
    sim.call(lambda: sim.sim.kalshi.observers.append(found.observe))
    sim.call(lambda: setattr(sim.sim.kalshi.hub, "record", True))
    return found


@pytest.fixture(autouse=True)
def _every_answer_conforms(conformance: Conformance, sim: SimHandle) -> Iterator[None]:
    yield
    conformance.check_ws(sim.call(lambda: list(sim.sim.kalshi.hub.sent)))
    sim.call(lambda: sim.sim.kalshi.hub.sent.clear())
    assert conformance.problems == []


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def _ticker(sim: SimHandle, grid: str) -> str:
    return next(t for t in binary_tickers(sim) if structure(sim, t) == grid)


def test_market_data_is_fixed_point_and_discovery_can_leave_parlays_out(sim: SimHandle) -> None:
    async def go() -> None:
        c, _ = client(sim)
        r = c.http.request
        everything = await r("GET", "/markets", params={"limit": 3})
        assert all(m.get("mve_collection_ticker") for m in everything["markets"])  # parlay legs come first
        found = [m async for page in c.markets() for m in page]  # the client passes mve_filter=exclude
        assert sorted(m.ticker for m in found) == binary_tickers(sim) and all(m.mve_collection is None for m in found)
        tapered = _ticker(sim, "tapered_deci_cent")
        market = await c.market(tapered)
        assert market.price_ranges == ((0, 100_000, 1_000), (100_000, 900_000, 10_000), (900_000, MICRO, 1_000))
        book = await c.orderbook(tapered)
        assert (5_000, 10 * MICRO) in book.no_bids  # a sub-penny level: a YES ask at $0.9950, exactly
        assert [b.ticker for b in await c.orderbooks(binary_tickers(sim)[:3])] == binary_tickers(sim)[:3]
        raw = await r("GET", f"/markets/{tapered}")
        assert not any(k in raw["market"] for k in ("yes_bid", "no_bid", "last_price", "volume", "tick_size"))
        for path in ("/exchange/status", "/exchange/schedule", "/account/endpoint_costs", "/historical/cutoff",
                     f"/events/{market.event_ticker}", "/series/fee_changes"):
            await r("GET", path)
        assert (await c.series("KXSIMM")).fee_type == "quadratic_with_maker_fees"
        now = int(time.time())
        # a change Kalshi scheduled (an hour ahead, halving the fees: no order's reserve moves), listed in
        # Kalshi's shape (the autouse check) and read by the desk's client
        sim.call(lambda: sim.sim.kalshi.schedule_fee_change(
            "KXSIMM", {"fee_type": "quadratic_with_maker_fees", "fee_multiplier": 0.5, "in_s": 3600}, now * 1000))
        listed = await r("GET", "/series/fee_changes", params={"series_ticker": "KXSIMM"})
        assert [f["series_ticker"] for f in listed["series_fee_change_arr"]] == ["KXSIMM"]
        assert [(f.fee_type, f.fee_multiplier, f.at_ms // 1000) for f in await c.fee_changes("KXSIMM")] == [
            ("quadratic_with_maker_fees", Fraction(1, 2), now + 3600)]
        await c.candlesticks("KXSIMM", tapered, start_ts=now - 600, end_ts=now, period_minutes=1)
        await c.close()
    run(go())


def test_a_taker_pays_kalshis_fee_per_fill_and_the_balance_follows_exactly(sim: SimHandle) -> None:
    async def go() -> None:
        c, _ = client(sim)
        ticker = _ticker(sim, "deci_cent")
        market = await c.market(ticker)
        before = (await c.balance()).balance
        placed = await c.create_order(ticker=ticker, client_order_id="take-1", book_side="bid", price=market.yes_ask,
                                      count=1_370_000, time_in_force="immediate_or_cancel")
        assert placed.fill_count == 1_370_000 and placed.remaining_count == 0
        fills = await c.fills(ticker=ticker)
        fee = fills[0].fee  # 0.07 x 1.37 x P x (1 - P), rounded up to $0.0001, plus the balance's rounding
        p = market.yes_ask
        assert fee >= -(-7 * 1_370_000 * p * (MICRO - p) // (100 * MICRO * MICRO * 100)) * 100
        after = (await c.balance()).balance
        assert after == before - 1_370_000 * p // MICRO - fee  # exactly, to the micro-dollar
        assert after % 100 == 0  # a direct member's balance is on $0.0001
        raw = await c.http.request("GET", "/portfolio/balance", auth=True)
        assert raw["balance"] == after // 10_000  # the legacy integer cents truncate; balance_dollars is exact
        await c.close()
    run(go())


def _refused(coro: Any) -> KalshiError:
    async def go() -> KalshiError:
        try:
            await coro
        except KalshiError as exc:
            return exc
        raise AssertionError("not refused")
    found: KalshiError = run(go())
    return found


def test_bad_v2_orders_are_refused_with_kalshis_codes_and_change_nothing(sim: SimHandle) -> None:
    c, name = client(sim)
    ticker = _ticker(sim, "linear_cent")
    good = {"ticker": ticker, "client_order_id": "x", "side": "bid", "count": "1", "price": "0.0100",
            "time_in_force": "good_till_canceled", "self_trade_prevention_type": "taker_at_cross"}

    def post(**change: Any) -> KalshiError:
        body = {k: v for k, v in {**good, **change}.items() if v is not None}
        return _refused(c.http.request("POST", "/portfolio/events/orders", body=body, auth=True, write=True))

    assert post(ticker=None).code == "missing_parameters"
    assert post(count="1.234").code == "invalid_order_size"
    assert post(price="0.0150").code == "invalid_price"  # off a whole-cent grid
    assert post(price="0.12345").code == "invalid_price"
    assert post(time_in_force=None).code == "invalid_order"
    assert post(self_trade_prevention_type=None).code == "invalid_order"
    assert post(type="market").details == "type is not a field of a V2 order"
    assert post(side="yes").code == "invalid_order"
    assert post(count="100000000").code == "insufficient_balance"
    ask = run(c.market(ticker)).yes_ask
    cross = post(price=f"{ask / MICRO:.4f}", post_only=True)
    assert (cross.status, cross.code, cross.details) == (400, "invalid_order", "post only cross")
    run(c.http.request("POST", "/portfolio/events/orders", body=good, auth=True, write=True))
    assert post().status == 409 and post().code == "order_already_exists"
    assert len(run(c.orders())) == 1
    run(c.close())


def test_the_retired_order_endpoints_answer_410_and_do_nothing(sim: SimHandle) -> None:
    c, name = client(sim)
    ticker = binary_tickers(sim)[0]
    before = sim.call(lambda: sim.sim.kalshi.retired_calls)
    body = {"ticker": ticker, "side": "yes", "action": "buy", "count": 1, "type": "limit", "yes_price": 1}
    gone = _refused(c.http.request("POST", "/portfolio/orders", body=body, auth=True, write=True))
    assert (gone.status, gone.code) == (410, "deprecated_v1_order_endpoint")
    assert "Please switch to the V2 endpoints" in str(gone)
    _refused(c.http.request("DELETE", "/portfolio/orders/some-id", auth=True, write=True))
    assert sim.call(lambda: sim.sim.kalshi.retired_calls) == before + 2
    assert run(c.orders()) == []
    run(c.close())


def test_the_write_bucket_answers_429_with_no_retry_after(sim: SimHandle) -> None:
    key_id, private, _ = account(sim)
    signer = KalshiSigner(key_id, private)
    path = "/trade-api/v2/portfolio/events/orders"
    answers = []
    with httpx.Client(timeout=10) as http:
        for _ in range(20):  # a Basic write bucket holds 100 tokens: ten orders of 10 (refused or not)
            answers.append(http.post(f"{sim.clob_host}{path}", headers=signer.headers("POST", path), json={}))
    limited = [a for a in answers if a.status_code == 429]
    assert limited and limited[0].json() == {"error": "too many requests"}
    assert not any(h.lower().startswith(("retry-after", "x-ratelimit")) for h in limited[0].headers)
    sim.call(lambda: sim.sim.kalshi.observe("DELETE", "(raw)", 429, limited[0].text))


def test_a_market_closed_refuses_every_order_operation_and_settles_scalar_and_void(sim: SimHandle) -> None:
    c, name = client(sim)
    ticker, other = binary_tickers(sim)[4], binary_tickers(sim)[5]
    market = run(c.market(ticker))
    run(c.create_order(ticker=ticker, client_order_id="held", book_side="bid", price=market.yes_ask,
                       count=2_500_000, time_in_force="immediate_or_cancel"))
    resting = run(c.create_order(ticker=ticker, client_order_id="rest", book_side="bid", price=10_000,
                                 count=MICRO, time_in_force="good_till_canceled"))
    lifecycle(sim, ticker, "close")
    assert run(c.order(resting.order_id)).status == "canceled"  # cancelled at the close
    refused = _refused(c.create_order(ticker=ticker, client_order_id="late", book_side="bid", price=10_000,
                                      count=MICRO, time_in_force="good_till_canceled"))
    assert refused.code == "market_inactive" and "MARKET_INACTIVE" in str(refused)
    assert _refused(c.cancel_order(resting.order_id)).code == "market_inactive"
    lifecycle(sim, ticker, "determine", result="scalar", value="0.3000", timer_s=3600)
    assert run(c.market(ticker)).status == "determined"
    lifecycle(sim, ticker, "finalize")
    [paid] = [s for s in run(c.settlements()) if s.ticker == ticker]
    assert (paid.market_result, paid.value_cents, paid.revenue) == ("scalar", 30, 750_000)  # 2.5 x $0.30
    run(c.create_order(ticker=other, client_order_id="void", book_side="ask", price=run(c.market(other)).yes_bid,
                       count=MICRO, time_in_force="immediate_or_cancel"))
    cost = run(c.positions())
    lifecycle(sim, other, "determine", result="void", timer_s=0)
    lifecycle(sim, other, "finalize") if run(c.market(other)).status != "finalized" else None
    [void] = [s for s in run(c.settlements()) if s.ticker == other]
    assert void.market_result == "scalar" and void.value_cents is None  # how the simulator shows a void
    assert void.revenue == void.no_cost // 10_000 * 10_000 and void.no_count == MICRO
    assert run(c.market(other)).result == "" and cost
    # Get Positions (3.34.0): unsettled by default; settled ones on asking, paged by event, cursors per status
    assert {p.ticker for p in run(c.positions())} == set()
    settled = run(c.positions(settlement_status="settled"))
    assert {p.ticker for p in settled} == {ticker, other} and all(p.position == 0 for p in settled)
    assert {p.ticker for p in run(c.positions(settlement_status="all"))} == {ticker, other}
    r = c.http.request
    assert _refused(r("GET", "/portfolio/positions", params={"settlement_status": "open"}, auth=True)).status == 400
    one_event = run(r("GET", "/portfolio/positions", params={"settlement_status": "settled", "limit": 1}, auth=True))
    assert {p["ticker"] for p in one_event["market_positions"]} == {ticker, other}  # both markets: one event
    assert len(one_event["event_positions"]) == 1 and one_event["cursor"] == ""
    settled_cursor = "settled.0"  # the simulator's cursor for the settled list
    assert _refused(r("GET", "/portfolio/positions", params={"settlement_status": "all", "cursor": settled_cursor},
                      auth=True)).status == 400
    run(c.close())


def test_pauses_refuse_what_kalshi_refuses_and_cancel_what_asked_to_be(sim: SimHandle) -> None:
    c, name = client(sim)
    ticker = binary_tickers(sim)[1]
    keep = run(c.create_order(ticker=ticker, client_order_id="keep", book_side="bid", price=10_000, count=MICRO,
                              time_in_force="good_till_canceled"))
    drop = run(c.create_order(ticker=ticker, client_order_id="drop", book_side="bid", price=20_000, count=MICRO,
                              time_in_force="good_till_canceled", cancel_on_pause=True))
    soon = time.time() * 1000 + 60_000
    admin(sim, "/_sim/kalshi/exchange/pause", {"in_s": 60, "seconds": 30})
    assert any(abs(start - soon) < 2_000 for start, _ in run(c.maintenance_windows()))  # announced ahead
    admin(sim, "/_sim/kalshi/exchange/pause", {"clear": True})
    admin(sim, "/_sim/kalshi/exchange/pause", {"in_s": 0, "seconds": 30})
    try:
        status = run(c.exchange_status())
        assert status.trading_active is False and status.exchange_active is True and status.resume_ms
        assert run(c.order(drop.order_id)).status == "canceled"
        paused = _refused(c.create_order(ticker=ticker, client_order_id="paused", book_side="bid", price=10_000,
                                         count=MICRO, time_in_force="good_till_canceled"))
        assert (paused.status, paused.code) == (409, "trading_is_paused")  # as live clients log a pause
        assert run(c.cancel_order(keep.order_id)) == MICRO  # a trading pause allows cancels
        admin(sim, "/_sim/kalshi/exchange/pause", {"in_s": 0, "seconds": 30, "kind": "exchange"})
        assert run(c.exchange_status()).exchange_active is False
        assert _refused(c.cancel_order(drop.order_id)).code == "exchange_is_paused"  # an exchange pause refuses cancels
    finally:
        admin(sim, "/_sim/kalshi/exchange/pause", {"clear": True})
    assert run(c.exchange_status()).trading_active is True
    run(c.close())


def test_the_websocket_streams_books_and_the_accounts_own_fills_in_todays_shapes(sim: SimHandle) -> None:
    key_id, private, name = account(sim)
    signer = KalshiSigner(key_id, private)
    ticker = binary_tickers(sim)[3]
    c = KalshiClient.at(host(sim), key_id, private)
    url = f"ws://127.0.0.1:{sim.port}/trade-api/ws/v2"

    async def go() -> list[dict[str, Any]]:
        async with websockets.connect(url, additional_headers=signer.headers("GET", "/trade-api/ws/v2")) as ws:
            channels = ["orderbook_delta", "fill", "user_orders", "market_positions"]
            await ws.send(json.dumps({"id": 1, "cmd": "subscribe", "params": {"channels": channels,
                                                                           "market_tickers": [ticker]}}))
            got = [json.loads(await ws.recv()) for _ in range(5)]  # four subscribed, one snapshot
            book_sid = next(m["msg"]["sid"] for m in got if m.get("msg", {}).get("channel") == "orderbook_delta")
            market = await c.market(ticker)
            await c.create_order(ticker=ticker, client_order_id="rest-1", book_side="bid", price=market.yes_bid,
                                 count=2 * MICRO, time_in_force="good_till_canceled")
            await asyncio.to_thread(trade, sim, ticker, "ask", "0.01", "1000.50")  # sweeps past our bid
            await ws.send(json.dumps({"id": 2, "cmd": "update_subscription", "params": {
                "sids": [book_sid], "market_tickers": [ticker], "action": "get_snapshot"}}))
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not any(m.get("id") == 2 for m in got):
                got.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
            return got

    got = run(go())
    kinds = [m["type"] for m in got]
    assert kinds.count("orderbook_snapshot") == 2 and "orderbook_delta" in kinds
    book = [m for m in got if m["type"] in ("orderbook_snapshot", "orderbook_delta")]
    assert [m["seq"] for m in book] == list(range(1, len(book) + 1))  # one sequence, the re-sent snapshot on it
    fills = [m["msg"] for m in got if m["type"] == "fill"]
    assert [(f["client_order_id"], f["count_fp"], f["book_side"]) for f in fills] == [("rest-1", "2.00", "bid")]
    assert any(m["type"] == "user_order" and m["msg"]["status"] == "executed" for m in got)
    assert any(m["type"] == "market_position" and m["msg"]["position_fp"] == "2.00" for m in got)
    run(c.close())


def test_a_batch_is_taken_item_by_item_billed_per_item_and_refused_whole_only_past_the_write_budget(
        sim: SimHandle) -> None:
    """Kalshi's Batch Create / Cancel Orders (V2): each item taken or refused on its own, answered in its
    place (a refusal never undoes the others); each item billed (10 a create, 2 a cancel), so a batch the
    write bucket cannot hold whole is a 429 and nothing of it is done."""
    key_id, private, name = account(sim)
    c = KalshiClient.at(host(sim), key_id, private)
    ticker = _ticker(sim, "linear_cent")

    def body(n: int, price: str = "0.0100", **extra: Any) -> dict[str, Any]:
        return {"ticker": ticker, "client_order_id": f"b-{n}", "side": "bid", "count": "1.50", "price": price,
                "time_in_force": "good_till_canceled", "self_trade_prevention_type": "taker_at_cross", **extra}

    async def go() -> None:
        await c.pace_by_account()
        # as Kalshi lists them
        assert c.batches.costs == {"cancel": 2, "lookup": 2, "batch_create": 10, "batch_cancel": 2, "cancel_all": 100}
        bodies = [body(1), body(2, price="0.0150"), body(1), body(3, type="limit"), body(4, price="0.0200")]
        answered = await c.http.request("POST", "/portfolio/events/orders/batched", body={"orders": bodies},
                                        auth=True, write=True, cost=50)
        items = answered["orders"]
        assert [(i.get("error") or {}).get("code") for i in items] == [
            None, "invalid_price", "order_already_exists", "invalid_order", None]
        assert items[1]["ts_ms"] is None and "order_id" not in items[1] and items[1]["client_order_id"] == "b-2"
        assert [o.client_order_id for o in await c.orders(status="resting")] == ["b-4", "b-1"]  # the others stand
        read = await c.batches.create([body(5, price="0.0300"), body(6, price="0.0150")])
        assert read[0].placed is not None and read[0].placed.remaining_count == 1_500_000
        assert read[1].error is not None and read[1].error.code == "invalid_price" and read[1].placed is None
        ids = [o.order_id for o in await c.orders(status="resting")]
        cancelled = await c.batches.cancel([(i, ticker, 0) for i in ids] + [("no-such-order", ticker, 0)])
        assert [x.reduced_by for x in cancelled] == [1_500_000] * 3 + [0]
        assert cancelled[-1].error is not None and cancelled[-1].error.code == "not_found"
        assert await c.orders(status="resting") == []
        await c.close()

    run(go())
    signer, path = KalshiSigner(*account(sim)[:2]), "/trade-api/v2/portfolio/events/orders/batched"
    with httpx.Client(timeout=10) as http:
        over = http.post(f"{sim.clob_host}{path}", headers=signer.headers("POST", path),
                         json={"orders": [body(100 + n) for n in range(11)]})  # 110 tokens: more than 100 can hold
        assert over.status_code == 429 and over.json() == {"error": "too many requests"}
        cancels = http.request("DELETE", f"{sim.clob_host}{path}", headers=signer.headers("DELETE", path),
                               json={"orders": [{"order_id": f"x-{n}"} for n in range(51)]})  # 102 tokens
        assert cancels.status_code == 429
        whole = http.post(f"{sim.clob_host}{path}", headers=signer.headers("POST", path),
                          json={"orders": [body(200 + n) for n in range(10)]})  # 100 tokens: the bucket, full
        assert whole.status_code == 201 and all(i.get("error") is None for i in whole.json()["orders"])
        empty = http.post(f"{sim.clob_host}{path}", headers=signer.headers("POST", path), json={"orders": []})
        assert empty.status_code in (400, 429)
    sim.call(lambda: sim.sim.kalshi.observe("POST", "(raw)", 429, over.text))


def test_an_event_fee_change_is_listed_until_due_and_applies_at_its_time(sim: SimHandle) -> None:
    """Kalshi's Get Event Fee Changes: an override of the event's series' fees scheduled at a time, or
    cleared (both null); the event's fills pay it from then on, and `/events/{ticker}` says it."""
    c, _ = client(sim)
    ticker = _ticker(sim, "deci_cent")
    event = run(c.market(ticker)).event_ticker
    now = int(time.time() * 1000)
    sim.call(lambda: sim.sim.kalshi.schedule_event_fee_change(
        event, {"fee_type_override": "quadratic", "fee_multiplier_override": 2, "at_ms": now + 3_600_000}, now))
    sim.call(lambda: sim.sim.kalshi.schedule_event_fee_change(
        event, {"fee_type_override": None, "fee_multiplier_override": None, "at_ms": now + 7_200_000}, now))
    status, refused = admin(sim, f"/_sim/kalshi/events/{event}/fee-change", {"fee_type_override": "quadratic"})
    assert status == 400 and "fee_multiplier_override" in refused["error"]
    changes = run(c.event_fee_changes(event))
    assert [(ch.fees and (ch.fees.fee_type, ch.fees.fee_multiplier), ch.at_ms // 1000) for ch in changes] == [
        (("quadratic", Fraction(2)), (now + 3_600_000) // 1000), (None, (now + 7_200_000) // 1000)]
    assert run(c.event(event)).fees is None  # not in force yet
    due = sim.call(lambda: sim.sim.kalshi.schedule_event_fee_change(
        event, {"fee_type_override": "quadratic", "fee_multiplier_override": 3, "in_s": 0}, now))
    assert due and run(c.event(event)).fees == run(c.series("KXSIMD")).__class__("KXSIMD", "quadratic", Fraction(3))
    listed = run(c.http.request("GET", "/events/fee_changes", params={"event_ticker": event, "limit": 1}))
    assert len(listed["event_fee_changes"]) == 1 and listed["cursor"]  # paged; the one in force is not listed
    market = run(c.market(ticker))
    before = run(c.balance()).balance
    run(c.create_order(ticker=ticker, client_order_id="ev-1", book_side="bid", price=market.yes_ask, count=MICRO,
                       time_in_force="immediate_or_cancel"))
    fee = run(c.fills(ticker=ticker))[0].fee
    p = market.yes_ask
    assert fee >= 3 * 7 * p * (MICRO - p) // (100 * MICRO)  # three times the taker fee: the event's override
    assert before - run(c.balance()).balance == p + fee
    run(c.close())


def test_api_keys_say_their_scopes_restriction_and_the_attestation_and_a_lapsed_one_cannot_trade_sports(
        sim: SimHandle) -> None:
    from tests.kalshi import keypair

    key_id, private, name = account(sim)
    c = KalshiClient.at(host(sim), key_id, private)
    ticker = _ticker(sim, "linear_cent")
    keys = run(c.api_keys())
    assert keys.key(key_id) is not None and keys.key(key_id).subaccount is None
    assert keys.attestation_expires_ms is not None and keys.attestation_expires_ms > time.time() * 1000
    sub_private, sub_public = keypair()
    status, body = admin(sim, "/_sim/kalshi/api-keys", {"public_key": sub_public, "account": name, "subaccount": 3})
    assert status == 200 and body["account"] == f"{name}#sub3"
    restricted = KalshiClient.at(host(sim), body["api_key_id"], sub_private)
    assert run(restricted.api_keys()).key(body["api_key_id"]).subaccount == 3
    order = {"ticker": ticker, "side": "bid", "count": "1", "price": "0.0100", "time_in_force": "good_till_canceled",
             "self_trade_prevention_type": "taker_at_cross"}
    other = _refused(restricted.http.request("POST", "/portfolio/events/orders", body={**order, "subaccount": 0},
                                             auth=True, write=True))
    assert other.status == 403
    run(restricted.http.request("POST", "/portfolio/events/orders", body={**order, "subaccount": 3}, auth=True,
                                write=True))
    assert len(run(restricted.orders())) == 1 and run(c.orders()) == []  # the subaccount's, not the primary's
    admin(sim, "/_sim/kalshi/attestation", {"account": name, "expires_at_s": int(time.time()) - 1})
    assert run(c.api_keys()).attestation_expires_ms < time.time() * 1000
    run(c.http.request("POST", "/portfolio/events/orders", body=order, auth=True, write=True))  # not a barred market
    series = sim.call(lambda: sim.sim.kalshi.exchange.markets[ticker].series_ticker)
    admin(sim, f"/_sim/kalshi/series/{series}/categories", {"categories": ["Sports"]})
    try:  # Sports, Elections and Entertainment markets are barred (Kalshi's changelog of 2026-08-16)
        lapsed = _refused(c.http.request("POST", "/portfolio/events/orders", body={**order, "client_order_id": "s"},
                                         auth=True, write=True))
    finally:
        admin(sim, f"/_sim/kalshi/series/{series}/categories", {"categories": ["Simulated"]})
    assert lapsed.status == 403 and "attestation" in str(lapsed)
    assert run(c.balance()).balance > 0  # reads still answered
    run(c.close())
    run(restricted.close())


def test_the_cf_benchmarks_channel_streams_the_indices_asked_for_and_answers_its_actions(sim: SimHandle) -> None:
    """Kalshi's cfbenchmarks_value channel: indices by `index_ids` (market tickers refused), a value a
    second with its 60-second average, `indexlist`, and `subscribe_indices` without ids refused (24)."""
    key_id, private, _ = account(sim)
    signer = KalshiSigner(key_id, private)
    url = f"ws://127.0.0.1:{sim.port}/trade-api/ws/v2"

    async def go() -> list[dict[str, Any]]:
        async with websockets.connect(url, additional_headers=signer.headers("GET", "/trade-api/ws/v2")) as ws:
            async def send(ident: int, cmd: str, **params: Any) -> None:
                await ws.send(json.dumps({"id": ident, "cmd": cmd, "params": params}))

            await send(1, "subscribe", channels=["cfbenchmarks_value"], market_tickers=[binary_tickers(sim)[0]])
            await send(2, "subscribe", channels=["cfbenchmarks_value"], index_ids=["BRTI"])
            got = [json.loads(await ws.recv()) for _ in range(2)]
            sid = got[1]["msg"]["sid"]
            await send(3, "update_subscription", sid=sid, action="indexlist")
            await send(4, "update_subscription", sid=sid, action="subscribe_indices")
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not (
                    any(m["type"] == "cfbenchmarks_value" for m in got) and any(m.get("id") == 4 for m in got)):
                got.append(json.loads(await asyncio.wait_for(ws.recv(), 10)))
            return got

    got = run(go())
    assert got[0]["type"] == "error" and got[0]["msg"]["code"] == 11  # indices only on this channel
    assert [m["msg"]["index_ids"] for m in got if m["type"] == "cfbenchmarks_value_indexlist"] == [
        ["BRTI", "ETHUSD_RTI", "SOLUSD_RTI", "XRPUSD_RTI"]]
    assert any(m.get("id") == 4 and m["type"] == "error" and m["msg"]["code"] == 24 for m in got)
    value = next(m for m in got if m["type"] == "cfbenchmarks_value")
    assert value["msg"]["index_id"] == "BRTI" and json.loads(value["msg"]["data"])["id"] == "BRTI"
    assert all("sending_ts_ms" in m for m in got)


def test_every_published_route_is_served_and_was_checked(sim: SimHandle, conformance: Conformance) -> None:
    """The routes the fixture names: each answered here (whatever else ran in this process), so each
    was checked against its schema by the autouse check."""
    c, _ = client(sim)
    ticker = binary_tickers(sim)[2]
    market = run(c.market(ticker))
    series = run(c.event(market.event_ticker)).series_ticker

    async def every_route() -> None:
        r = c.http.request
        for path in ("/exchange/status", "/exchange/schedule", "/account/endpoint_costs", "/historical/cutoff",
                     f"/events/{market.event_ticker}", "/series/fee_changes", f"/series/{series}"):
            await r("GET", path)
        await r("GET", "/markets", params={"limit": 3, "mve_filter": "exclude"})
        await c.orderbook(ticker)
        await c.orderbooks([ticker])
        await c.trades(ticker)
        now = int(time.time())
        await c.candlesticks(series, ticker, start_ts=now - 600, end_ts=now, period_minutes=1)
        await c.balance()
        await c.fills()
        await c.settlements()
        await c.positions()
        await c.pace_by_account()
        placed = await c.create_order(ticker=ticker, client_order_id="last", book_side="bid", price=10_000,
                                      count=3 * MICRO, time_in_force="good_till_canceled")
        await c.amend_order(placed.order_id, ticker=ticker, book_side="bid", price=20_000, total_count=3 * MICRO)
        await c.decrease_order(placed.order_id, reduce_to=MICRO)
        await c.order(placed.order_id)
        await c.orders(status="resting")
        await c.cancel_order(placed.order_id, ticker=ticker)
        await c.pace_by_account()
        made = await c.batches.create([{"ticker": ticker, "client_order_id": "batch-last", "side": "bid",
                                      "count": "1.00", "price": "0.0100", "time_in_force": "good_till_canceled",
                                      "self_trade_prevention_type": "taker_at_cross"}])
        assert made[0].placed is not None
        await c.batches.cancel([(made[0].placed.order_id, ticker, 0)])
        await c.event_fee_changes(market.event_ticker)
        await c.api_keys()
        await c.balance(shard=0)
        moved = await c.account.transfer(source=0, destination=2, amount=10_000)
        assert [t.transfer_id for t in await c.account.transfers()] == [moved]
        await c.http.request("GET", f"/portfolio/intra_exchange_instance_transfers/{moved}", auth=True)
        await c.account.set_target_allocation({0: 90, 2: 10})
        assert await c.account.target_allocation() == {0: 90, 2: 10}
        await c.account.set_target_allocation({})
        await c.create_order(ticker=ticker, client_order_id="swept", book_side="bid", price=10_000, count=MICRO,
                             time_in_force="good_till_canceled")
        await c.batches.cancel_all()
        assert await c.orders(status="resting") == []
        await c.account.historical_positions()
        await c.close()

    run(every_route())
    served = {s.rsplit(" ", 1)[0] for s in conformance.seen}
    missing = [route for route in document()["responses"] if route not in served]
    assert missing == []

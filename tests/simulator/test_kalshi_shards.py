"""The simulator's Kalshi exchange shards, read from Kalshi's documents as strictly as they allow
(simulator/kalshi/shards.py names the pages): a market lives on one shard and collateral is checked on it,
a request that reaches another shard is refused `market_not_found` (an omitted index reaches shard 0), money
moves between shards by transfers that take time (accepted is not arrived; amounts in centicents), a target
allocation is kept by Kalshi's own transfers, an auto-routed write is billed to every shard's write bucket;
Cancel All Orders spans every shard and the minute after; pauses answer 409 `trading_is_paused` as live
clients log them, whole request or item by item; and settled positions move to `/historical/positions`
after the historical cutoff, a whole event at a time. Spoken to through the desk's own client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from engine.venues.kalshi.client import KalshiClient
from engine.venues.kalshi.http import KalshiError
from simulator.testing import SimHandle, running_simulator
from storage.sqlite.db import now_ms
from tests.kalshi import account, admin, binary_tickers, host

MICRO = 1_000_000


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=88, agents=False, prefill_books=False, kalshi_markets=4, kalshi_parlays=0,
                           kalshi_weekly_pause=False) as handle:
        yield handle


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def _refused(coro: Any) -> KalshiError:
    try:
        run(coro)
    except KalshiError as exc:
        return exc
    raise AssertionError("Kalshi took it")


def _client(sim: SimHandle, funds: dict[str, str] | None = None) -> tuple[KalshiClient, str]:
    key_id, private, name = account(sim)
    if funds is not None:
        status, body = admin(sim, f"/_sim/kalshi/accounts/{name}/shards", {"balances": funds})
        assert status == 200, body
    return KalshiClient.at(host(sim), key_id, private), name


def _on_shard(sim: SimHandle, ticker: str, shard: int) -> None:
    event = sim.call(lambda: sim.sim.kalshi.exchange.markets[ticker].event_ticker)
    status, body = admin(sim, f"/_sim/kalshi/events/{event}/shard", {"exchange_index": shard})
    assert status == 200, body


def _until(check: Callable[[], bool], what: str, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"never: {what}")


def test_collateral_is_checked_on_the_markets_shard_and_the_index_routes_strictly(sim: SimHandle) -> None:
    ticker = binary_tickers(sim)[2]  # (its event's only market: [0] and [1] share one)
    _on_shard(sim, ticker, 2)
    c, name = _client(sim, {"0": "600.00", "1": "399.50", "2": "0.50"})  # the issue's split: $1,000 in all
    market = run(c.market(ticker))
    assert market.exchange_index == 2
    balance = run(c.balance())
    assert balance.balance == 1_000 * MICRO and balance.breakdown == {0: 600 * MICRO, 1: 399_500_000,
                                                                        2: 500_000, 3: 0}
    assert run(c.balance(shard=1)).balance == 399_500_000

    def order(shard: int | None, client_id: str, count: int = 5 * MICRO) -> Any:
        return c.create_order(ticker=ticker, client_order_id=client_id, book_side="bid", price=100_000,
                              count=count, time_in_force="good_till_canceled", shard=shard)

    for shard, label in ((None, "omitted"), (0, "zero"), (1, "one")):
        refused = _refused(order(shard, f"wrong-{label}"))
        assert (refused.status, refused.code) == (404, "market_not_found"), label  # not where the market lives
    short = _refused(order(2, "short"))  # $0.50 on shard 2 cannot hold $0.50 of bids and their fee
    assert (short.status, short.code) == (400, "insufficient_balance") and "exchange index 2" in short.details
    placed = run(order(-1, "auto", count=MICRO))  # auto-routed by its ticker: taken, $0.10 and its fee held on 2
    assert placed.remaining_count == MICRO
    assert run(c.balance()).breakdown[0] == 600 * MICRO  # shard 0's money never funded it
    routed = run(c.orders(status="resting"))
    assert [o.exchange_index for o in routed] == [2]
    run(c.close())


def test_an_auto_routed_write_is_billed_to_every_shards_bucket_and_a_named_one_to_its_own() -> None:
    with running_simulator(seed=89, agents=False, prefill_books=False, kalshi_markets=2, kalshi_parlays=0,
                           kalshi_weekly_pause=False, rate_limits=True) as sim:
        ticker = binary_tickers(sim)[0]
        _on_shard(sim, ticker, 2)
        c, name = _client(sim, {"2": "50.00"})

        def order(shard: int, client_id: str) -> Any:
            return c.create_order(ticker=ticker, client_order_id=client_id, book_side="bid", price=10_000,
                                  count=MICRO, time_in_force="good_till_canceled", shard=shard)

        run(order(2, "named"))
        buckets = sim.call(lambda: {k[1] for k in sim.sim.kalshi.buckets if k[0] == name})
        assert "write" not in buckets and "writeshard2" in buckets  # a named shard: its own bucket only
        run(order(-1, "auto"))
        buckets = sim.call(lambda: {k[1] for k in sim.sim.kalshi.buckets if k[0] == name})
        assert {"write", "writeshard1", "writeshard2", "writeshard3"} <= buckets  # auto-routed: every one
        run(c.close())


def test_a_transfer_takes_time_and_its_amount_is_in_centicents(sim: SimHandle) -> None:
    c, name = _client(sim, {"0": "100.00"})
    bad = _refused(c.http.request("POST", "/portfolio/intra_exchange_instance_transfer", auth=True, body={
        "source": "event_contract", "destination": "event_contract", "amount": 10_000_000,
        "source_exchange_shard": 0, "destination_exchange_shard": 2}))  # $1,000 in centicents: more than shard 0 has
    assert bad.code == "insufficient_balance"
    moved = run(c.account.transfer(source=0, destination=2, amount=25 * MICRO))  # 250,000 centicents
    balance = run(c.balance())
    assert balance.breakdown[0] == 75 * MICRO and balance.breakdown[2] == 0  # accepted is not arrived
    [pending] = run(c.account.transfers())
    assert (pending.transfer_id, pending.status, pending.amount) == (moved, "pending", 25 * MICRO)
    _until(lambda: run(c.balance()).breakdown[2] == 25 * MICRO, "the transfer arriving on shard 2")
    assert [t.status for t in run(c.account.transfers())] == ["complete"] and run(c.balance()).balance == 100 * MICRO
    run(c.close())


def test_a_target_allocation_is_kept_by_kalshis_own_transfers(sim: SimHandle) -> None:
    c, name = _client(sim, {"0": "200.00"})
    run(c.account.set_target_allocation({0: 75, 2: 25}))
    wrong = _refused(c.http.request("POST", "/portfolio/target_balance_allocation", auth=True,
                                    body={"allocations": [{"exchange_index": 0, "percent": 70}]}))
    assert wrong.code == "invalid_parameters"  # must total 100
    sim.call(lambda: sim.sim.kalshi.transfers.rebalanced_ms.pop(name, None))  # its next 10-second round is now
    _until(lambda: run(c.balance()).breakdown.get(2) == 50 * MICRO, "Kalshi moving a quarter to shard 2")
    assert run(c.balance()).breakdown[0] == 150 * MICRO
    run(c.account.set_target_allocation({}))
    assert run(c.account.target_allocation()) == {}
    run(c.close())


def test_cancel_all_spans_every_shard_and_the_minute_after(sim: SimHandle) -> None:
    zero, two = binary_tickers(sim)[0], binary_tickers(sim)[2]  # (shard 2 since the first test)
    c, name = _client(sim, {"0": "100.00", "2": "100.00"})
    for ticker, shard in ((zero, 0), (two, 2), (two, 2)):
        run(c.create_order(ticker=ticker, client_order_id=f"r-{ticker}-{now_ms()}", book_side="bid", price=10_000,
                           count=MICRO, time_in_force="good_till_canceled", shard=shard))
    assert len(run(c.orders(status="resting"))) == 3
    run(c.batches.cancel_all())  # 204, no body
    assert run(c.orders(status="resting")) == []
    late = run(c.create_order(ticker=zero, client_order_id="late", book_side="bid", price=10_000, count=MICRO,
                              time_in_force="good_till_canceled", shard=0))
    assert late.remaining_count == MICRO  # taken...
    _until(lambda: run(c.orders(status="resting")) == [], "the order placed in the minute after cancelled too")
    run(c.close())


def test_a_pause_is_refused_409_trading_is_paused_whole_or_item_by_item(sim: SimHandle) -> None:
    zero, other = binary_tickers(sim)[0], binary_tickers(sim)[1]
    c, name = _client(sim)
    body = {"side": "bid", "count": "1.00", "price": "0.0100", "time_in_force": "good_till_canceled",
            "self_trade_prevention_type": "taker_at_cross"}
    admin(sim, f"/_sim/kalshi/markets/{other}/deactivate", {})  # one market halted
    try:
        made = run(c.batches.create([{**body, "ticker": zero, "client_order_id": "ok"},
                                     {**body, "ticker": other, "client_order_id": "halted"}]))
        assert made[0].placed is not None
        assert made[1].error is not None and made[1].error.code == "trading_is_paused"  # that item alone
        single = _refused(c.create_order(ticker=other, client_order_id="halted-1", book_side="bid", price=10_000,
                                         count=MICRO, time_in_force="good_till_canceled"))
        assert (single.status, single.code) == (409, "trading_is_paused")
    finally:
        admin(sim, f"/_sim/kalshi/markets/{other}/activate", {})
    admin(sim, "/_sim/kalshi/exchange/pause", {"in_s": 0, "seconds": 30})
    try:
        whole = _refused(c.batches.create([{**body, "ticker": zero, "client_order_id": "paused"}]))
        assert (whole.status, whole.code) == (409, "trading_is_paused")  # the whole batch, as live clients see it
    finally:
        admin(sim, "/_sim/kalshi/exchange/pause", {"clear": True})
    run(c.close())


def test_settled_positions_move_to_the_archive_a_whole_event_at_a_time(sim: SimHandle) -> None:
    ticker = binary_tickers(sim)[3]
    c, name = _client(sim)
    ask = run(c.market(ticker)).yes_ask
    run(c.create_order(ticker=ticker, client_order_id="held", book_side="bid", price=ask, count=2 * MICRO,
                       time_in_force="immediate_or_cancel"))
    assert [p.ticker for p in run(c.positions())] == [ticker]
    admin(sim, f"/_sim/kalshi/markets/{ticker}/determine", {"result": "yes", "timer_s": 0})
    _until(lambda: sim.call(lambda: sim.sim.kalshi.exchange.markets[ticker].status) == "finalized", "finalized")
    assert {p.ticker for p in run(c.positions(settlement_status="settled"))} == {ticker}
    assert run(c.account.historical_positions()) == []  # live until the cutoff passes it (90 days by default)
    admin(sim, "/_sim/kalshi/historical/cutoff", {"lag_s": 0})
    try:
        _until(lambda: [p.ticker for p in run(c.account.historical_positions())] == [ticker], "archived")
        assert run(c.positions(settlement_status="all")) == []  # never listed in both
        assert run(c.account.settled_tickers()) == {ticker}
    finally:
        admin(sim, "/_sim/kalshi/historical/cutoff", {"lag_s": 90 * 86_400})
    run(c.close())


def test_the_desk_paces_by_the_buckets_the_account_reads_whatever_its_tier(sim: SimHandle) -> None:
    """Kalshi's read bucket holds two seconds of budget on Basic and Advanced, one above (Rate Limits and
    Tiers): the desk paces by the capacity `/account/limits` answers, never by an assumed one."""
    from engine.venues.kalshi.http import BURST_SHARE

    try:
        for tier, read, write in (("premier", (1000, 1000), (1000, 2000)), ("basic", (200, 400), (100, 100))):
            assert admin(sim, "/_sim/kalshi/tier", {"tier": tier})[0] == 200
            c, _ = _client(sim)
            limits = run(c.pace_by_account())
            assert (limits.tier, limits.read, limits.write) == (tier, read, write)
            assert c.http.pacer.read.capacity == int(read[1] * BURST_SHARE)
            assert c.http.pacer.write.capacity == int(write[1] * BURST_SHARE)
            assert c.batches.costs["cancel_all"] == write[1]  # a batch cancel as big as the tier's bucket
            run(c.close())
    finally:
        admin(sim, "/_sim/kalshi/tier", {"tier": "basic"})

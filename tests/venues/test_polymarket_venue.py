"""The live venue adapter (real py-clob-client-v2 underneath) against the simulator: every
call the adapter makes, checked against the simulator's own view."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from contracts.domain import Side, Tif
from engine.logs import _redactor
from engine.venues.base import (
    OrderRejected,
    TradeStatus,
    VenueError,
    VenueOrderStatus,
)
from engine.venues.polymarket.venue import cancel_everything
from simulator.testing import SimHandle, approved_simulator
from tests.venues.conftest import QUIET, fresh_market, new_key, order, run, settings_for, venue_for

ORDER_ID_LENGTH = 66


def test_api_creds_are_derived_once_redacted_and_usable_when_configured(sim: SimHandle) -> None:
    key = new_key()

    async def scenario() -> tuple[str, str, str]:
        first = venue_for(sim, key=key)
        await first.connect()
        creds = (first._auth["apiKey"], first._auth["secret"], first._auth["passphrase"])
        await first.close()
        again = venue_for(sim, key=key)  # the key exists now: create fails, derive returns it
        await again.connect()
        assert again._auth["apiKey"] == creds[0]
        await again.close()
        return creds

    api_key, secret, passphrase = run(scenario())
    assert _redactor.redact(f"key={api_key} secret={secret} pass={passphrase}") == "key=*** secret=*** pass=***"
    market = fresh_market(sim)

    async def configured() -> VenueOrderStatus:
        venue = venue_for(sim, key=key, POLY_API_KEY=api_key, POLY_API_SECRET=secret, POLY_API_PASSPHRASE=passphrase)
        try:
            result = await venue.submit(await venue.prepare(order(market, Side.BUY, 100_000, 5_000_000)))
            return result.status
        finally:
            await venue.close()

    assert run(configured()) is VenueOrderStatus.LIVE


def test_partial_api_creds_are_refused(sim: SimHandle) -> None:
    venue = venue_for(sim, POLY_API_KEY="00000000-0000-4000-8000-000000000000")
    with pytest.raises(VenueError, match="go together"):
        run(venue.connect())
    run(venue.close())


def test_limit_order_lifecycle(sim: SimHandle) -> None:
    market = fresh_market(sim)

    async def scenario() -> None:
        venue = venue_for(sim)
        try:
            prepared = await venue.prepare(order(market, Side.BUY, 420_000, 12_340_000))
            body = json.loads(prepared.payload)
            assert len(prepared.venue_order_id) == ORDER_ID_LENGTH
            assert body["owner"] == venue._auth["apiKey"] and body["orderType"] == "GTC"
            assert (body["order"]["makerAmount"], body["order"]["takerAmount"]) == ("5182800", "12340000")
            result = await venue.submit(prepared)
            assert (result.venue_order_id, result.status) == (prepared.venue_order_id, VenueOrderStatus.LIVE)
            address = venue.signer.funder
            assert sim.open_order_count(address) == 1
            [listed] = await venue.open_orders()
            assert (listed.venue_order_id, listed.price, listed.size, listed.filled) == (
                prepared.venue_order_id, 420_000, 12_340_000, 0)
            assert (await venue.get_order(prepared.venue_order_id)).status is VenueOrderStatus.LIVE
            canceled = await venue.cancel([prepared.venue_order_id])
            assert canceled.canceled == (prepared.venue_order_id,)
            assert sim.open_order_count(address) == 0
            assert await venue.get_order(prepared.venue_order_id) is None  # the venue forgets finished orders
            assert await venue.open_orders() == []
            again = await venue.cancel([prepared.venue_order_id, "0x" + "ab" * 32])
            assert set(again.not_canceled) == {prepared.venue_order_id, "0x" + "ab" * 32}
        finally:
            await venue.close()

    run(scenario())


def test_marketable_orders_fok_fak_and_lookup_by_trades(sim: SimHandle) -> None:
    market = fresh_market(sim)
    yes = market["yes_token_id"]
    sim.place_liquidity(yes, "SELL", "0.55", "30")

    async def scenario() -> None:
        venue = venue_for(sim)
        try:
            fok = await venue.prepare(order(market, Side.BUY, 560_000, 10_000_000, Tif.FOK))
            body = json.loads(fok.payload)["order"]
            assert (body["makerAmount"], body["takerAmount"]) == ("5600000", "10000000")  # $5.60 budget
            result = await venue.submit(fok)
            assert result.status is VenueOrderStatus.MATCHED and result.trade_ids
            # Matched in full on arrival: the venue knows it only through its trades.
            found = await venue.get_order(fok.venue_order_id)
            assert found is not None and found.status is VenueOrderStatus.MATCHED and found.filled > 0
            with pytest.raises(OrderRejected, match="fully filled or killed"):
                await venue.submit(await venue.prepare(order(market, Side.BUY, 550_000, 500_000_000, Tif.FOK)))
            fak = await venue.submit(await venue.prepare(order(market, Side.BUY, 550_000, 50_000_000, Tif.FAK)))
            assert fak.status is VenueOrderStatus.MATCHED
            fills = {f.venue_order_id: f for f in await venue.trades()}
            taker = fills[fok.venue_order_id]
            assert (taker.side, taker.liquidity, taker.token_id) == (Side.BUY, "TAKER", yes)
            assert fills[fak.venue_order_id].size == 30_000_000 - taker.size  # took what was left
            sim.fund(venue.signer.funder, token_id=yes, tokens="20")
            sim.place_liquidity(yes, "BUY", "0.45", "20")
            sold = await venue.submit(await venue.prepare(order(market, Side.SELL, 450_000, 20_000_000, Tif.FOK)))
            assert sold.status is VenueOrderStatus.MATCHED
        finally:
            await venue.close()

    run(scenario())


def test_batch_placement_reports_each_order(sim: SimHandle) -> None:
    market = fresh_market(sim)

    async def scenario() -> None:
        venue = venue_for(sim)
        try:
            good = [await venue.prepare(order(market, Side.BUY, p, 5_000_000)) for p in (100_000, 110_000)]
            small = await venue.prepare(order(market, Side.BUY, 120_000, 1_000_000))  # below the 5-share minimum
            results = await venue.submit_many([good[0], small, good[1]])
            assert [r.status for r in results] == [VenueOrderStatus.LIVE, VenueOrderStatus.INVALID,
                                                   VenueOrderStatus.LIVE]
            assert "lower than the minimum" in (results[1].error or "")
            assert [r.venue_order_id for r in results] == [good[0].venue_order_id, small.venue_order_id,
                                                           good[1].venue_order_id]
            assert sim.open_order_count(venue.signer.funder) == 2
            with pytest.raises(VenueError, match="at most 15"):
                await venue.submit_many([good[0]] * 16)
        finally:
            await venue.close()

    run(scenario())


def test_cancel_variants(sim: SimHandle) -> None:
    one, two = fresh_market(sim, index=0), fresh_market(sim, index=1)

    async def scenario() -> None:
        venue = venue_for(sim)
        try:
            placed: dict[Any, Any] = {}
            for name, market, outcome in (("y1", one, "yes"), ("y2", one, "yes"), ("n1", one, "no"),
                                          ("other", two, "yes")):
                prepared = await venue.prepare(order(market, Side.BUY, 100_000 + len(placed) * 10_000, 5_000_000,
                                                     outcome=outcome))
                await venue.submit(prepared)
                placed[name] = prepared.venue_order_id
            batch = await venue.cancel([placed["y1"], placed["y2"], placed["y1"]])  # a repeated id is sent once
            assert set(batch.canceled) == {placed["y1"], placed["y2"]} and not batch.not_canceled
            single = await venue.cancel([placed["n1"]])
            assert set(single.canceled) == {placed["n1"]}
            again = await venue.cancel([placed["n1"]])
            assert placed["n1"] in again.not_canceled and not again.canceled
            everything = await venue.cancel_all()
            assert set(everything.canceled) == {placed["other"]}
            assert sim.open_order_count(venue.signer.funder) == 0
        finally:
            await venue.close()

    run(scenario())


def test_gtd_post_only_and_neg_risk_routing(sim: SimHandle) -> None:
    market, group = fresh_market(sim), fresh_market(sim, neg_risk=True)
    sim.place_liquidity(market["yes_token_id"], "SELL", "0.60", "10")

    async def scenario() -> None:
        venue = venue_for(sim)
        try:
            gtd = await venue.prepare(order(market, Side.BUY, 300_000, 5_000_000, Tif.GTD,
                                            expires_at_s=int(time.time()) + 3600))
            assert (await venue.submit(gtd)).status is VenueOrderStatus.LIVE
            crossing = order(market, Side.BUY, 600_000, 5_000_000, post_only=True)
            with pytest.raises(OrderRejected, match="crosses book"):
                await venue.submit(await venue.prepare(crossing))
            size = round(float(group["min_size"]) * 1_000_000)
            nr = await venue.submit(await venue.prepare(order(group, Side.BUY, 100_000, size)))
            assert nr.status is VenueOrderStatus.LIVE
        finally:
            await venue.close()

    run(scenario())


def test_balances_follow_fills(sim: SimHandle) -> None:
    market = fresh_market(sim)
    yes = market["yes_token_id"]
    sim.place_liquidity(yes, "SELL", "0.50", "10")

    async def scenario() -> None:
        venue = venue_for(sim)
        try:
            before = await venue.balances([yes])
            await venue.submit(await venue.prepare(order(market, Side.BUY, 500_000, 10_000_000, Tif.FOK)))
            after = await venue.balances([yes])
            assert before.tokens[yes] == 0 and after.tokens[yes] == 10_000_000
            # 5 pUSD and the taker fee of this market (r = 0.05, e = 1): 10 × 0.05 × 0.5 × 0.5 = 0.125.
            assert before.collateral - after.collateral == 5_000_000 + 125_000
            assert after.collateral * 1 == int(float(sim.balances(venue.signer.funder)["pusd"]) * 1_000_000)
        finally:
            await venue.close()

    run(scenario())


def test_pagination_of_open_orders_and_trades() -> None:
    with approved_simulator(seed=12, page_size=3, **QUIET) as small_pages:
        market = fresh_market(small_pages)
        yes = market["yes_token_id"]

        async def scenario() -> None:
            venue = venue_for(small_pages)
            try:
                ids = []
                for i in range(8):
                    prepared = await venue.prepare(order(market, Side.BUY, 100_000 + i * 10_000, 5_000_000))
                    await venue.submit(prepared)
                    ids.append(prepared.venue_order_id)
                assert sorted(o.venue_order_id for o in await venue.open_orders()) == sorted(ids)
                small_pages.place_liquidity(yes, "SELL", "0.10", "40")  # fills all 8 bids above it
                fills = await venue.trades()
                assert sorted(f.venue_order_id for f in fills) == sorted(ids)
                assert all(f.liquidity == "MAKER" and f.side is Side.BUY for f in fills)
                assert await venue.open_orders() == []
            finally:
                await venue.close()

        run(scenario())


def test_cancel_everything_works_without_an_engine(sim: SimHandle) -> None:
    market = fresh_market(sim)
    key = new_key()

    async def place() -> str:
        venue = venue_for(sim, key=key)
        try:
            await venue.submit(await venue.prepare(order(market, Side.BUY, 150_000, 5_000_000)))
            await venue.submit(await venue.prepare(order(market, Side.BUY, 160_000, 5_000_000)))
            return venue.signer.funder
        finally:
            await venue.close()

    address = run(place())
    assert sim.open_order_count(address) == 2
    result = run(cancel_everything(settings_for(sim, key)))
    assert len(result.canceled) == 2 and sim.open_order_count(address) == 0


def test_trade_statuses_reach_the_fills(sim: SimHandle) -> None:
    market = fresh_market(sim)
    sim.place_liquidity(market["yes_token_id"], "SELL", "0.50", "5")
    sim.configure(fail_rate=1.0)

    async def scenario() -> list[TradeStatus]:
        venue = venue_for(sim)
        try:
            placed = await venue.submit(await venue.prepare(order(market, Side.BUY, 500_000, 5_000_000, Tif.FOK)))

            async def statuses() -> list[TradeStatus]:
                return [f.status for f in await venue.trades() if f.venue_order_id == placed.venue_order_id]

            final = (TradeStatus.CONFIRMED, TradeStatus.FAILED)  # polled until the chain has had its say
            deadline = asyncio.get_running_loop().time() + 10
            found = await statuses()
            while not (found and all(s in final for s in found)) and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.05)
                found = await statuses()
            return found
        finally:
            await venue.close()

    try:
        assert run(scenario()) == [TradeStatus.FAILED]
    finally:
        sim.configure(fail_rate=0.0)

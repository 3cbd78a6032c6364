"""The simulator's Kalshi answers amends and decreases as Kalshi's Amend Order (V2) and Decrease Order (V2)
pages say (OpenAPI 3.29.0), read strictly where they are silent: the answer's counts present only when the
amend filled or changed the resting size (null otherwise), what cannot change refused (ticker, side, a total
already filled, a decrease of more than rests, both `reduce_by` and `reduce_to`), a post-only order an amend
would make cross refused as its create would be, each routed to its market's shard, and during a pause a
decrease refused as an amend is (a cancel still goes); the queue place is kept on a decrease only."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from engine.venues.kalshi.http import KalshiRefused
from simulator.testing import SimHandle, running_simulator
from storage.sqlite.db import now_ms
from tests.kalshi import binary_tickers, client, structure

CENT, MICRO = 10_000, 1_000_000


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=41, agents=False, prefill_books=False, kalshi_markets=2) as handle:
        yield handle


def test_amend_and_decrease_answer_and_refuse_as_kalshis_pages_say(sim: SimHandle) -> None:
    ticker = next(t for t in binary_tickers(sim) if structure(sim, t) == "linear_cent")
    ask = int(sim.call(lambda: min(o.price for o in sim.sim.kalshi.exchange.books[ticker].orders() if not o.bid)))
    price = ask - 10 * CENT
    c, account = client(sim)

    def seq(order_id: str) -> int:
        return int(sim.call(lambda: sim.sim.kalshi.exchange.orders[order_id].seq))

    async def refused(call: object, code: str) -> None:
        with pytest.raises(KalshiRefused) as found:
            await call  # type: ignore[misc]
        assert found.value.code == code, found.value

    async def go() -> None:
        try:
            made = await c.create_order(ticker=ticker, client_order_id="am-1", book_side="bid", price=price,
                                        count=5 * MICRO, time_in_force="good_till_canceled", post_only=True)
            first = seq(made.order_id)
            moved = await c.amend_order(made.order_id, ticker=ticker, book_side="bid", price=price + CENT,
                                        total_count=5 * MICRO, shard=0)
            assert (moved.order_id, moved.remaining_count, moved.fill_count) == (made.order_id, None, None)
            assert seq(made.order_id) > first  # a new price: the back of the queue
            grown = await c.amend_order(made.order_id, ticker=ticker, book_side="bid", price=price + CENT,
                                        total_count=7 * MICRO, shard=0)
            assert (grown.remaining_count, grown.fill_count) == (7 * MICRO, 0)
            before = seq(made.order_id)
            shrunk = await c.decrease_order(made.order_id, reduce_by=2 * MICRO, shard=0)
            assert shrunk.remaining_count == 5 * MICRO and seq(made.order_id) == before  # its place kept
            await refused(c.amend_order(made.order_id, ticker=ticker, book_side="ask", price=price,
                                        total_count=5 * MICRO, shard=0), "order_side_mismatch")
            await refused(c.amend_order(made.order_id, ticker=ticker, book_side="bid", price=ask,
                                        total_count=5 * MICRO, shard=0), "invalid_order")  # post only cross
            await refused(c.decrease_order(made.order_id, reduce_by=6 * MICRO, shard=0), "invalid_order_size")
            await refused(c.amend_order(made.order_id, ticker=ticker, book_side="bid", price=price,
                                        total_count=5 * MICRO, shard=2), "market_not_found")  # another shard
            await refused(c.http.request("POST", f"/portfolio/events/orders/{made.order_id}/decrease",
                                         body={"reduce_by": "1.00", "reduce_to": "1.00"}, auth=True, write=True),
                          "invalid_parameters")
            kept = sim.call(lambda: sim.sim.kalshi.exchange.orders[made.order_id])
            assert (kept.price, kept.remaining) == (price + CENT, 5 * MICRO)  # every refusal left it as it was
            sim.call(lambda: sim.sim.kalshi.lifecycle.deactivate(ticker, now_ms()))
            try:
                await refused(c.decrease_order(made.order_id, reduce_to=MICRO, shard=0), "trading_is_paused")
                assert await c.cancel_order(made.order_id, ticker=ticker, shard=0) == 5 * MICRO  # a cancel goes
            finally:
                sim.call(lambda: sim.sim.kalshi.lifecycle.activate(ticker, now_ms()))
        finally:
            await c.close()

    asyncio.run(go())
    assert account

"""Quotes moved in place on Kalshi (issue 91, item 2), through the desk's executor and its own Kalshi client,
live against the simulator's Kalshi side (which answers as Kalshi's Amend and Decrease Order (V2) pages say)
and on the paper venue standing in for Kalshi:

- a quote that only shrinks is Kalshi's Decrease Order (V2): one request, and the order keeps its place in the
  queue: another trader's order that arrived at the price after it does not fill first;
- a quote whose price moves is one Amend Order (V2) (one request instead of a cancel and a create), at the back
  of its new level's queue, as the page says any amend but a decrease is;
- fewer write tokens and requests than cancel-and-replace for the same quote moves (the simulator bills each
  request what Kalshi's Rate Limits page says it costs: an amend or a decrease 10, a cancel 2, a create 10);
- an amend Kalshi refuses falls back to cancel and replace; a crash between an amend's intent and its answer
  is settled from Kalshi at start-up, never sent again;
- the paper venue for Kalshi keeps the queue place on a decrease and loses it on a price move, as live does.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contracts.domain import Intent, MarketInfo, Quote, Side, Tif
from contracts.order_status import OrderStatus
from contracts.settings import load_settings
from contracts.venues import KALSHI
from contracts.venues.kalshi.ids import CONTRACT, LOT, market_id, token_id
from engine.execution import amends as amends_module
from engine.execution.executor import Executor
from engine.execution.lookups import ExecutorConfig
from engine.execution.recovery import recover
from engine.feeds.catalog import MarketCatalog
from engine.feeds.market_data_events import TradePrint
from engine.venues.kalshi.venue import KalshiVenue
from engine.venues.paper import PaperVenue
from simulator.kalshi.exchange import Placement
from simulator.testing import SimHandle, running_simulator
from storage.engine_stores import order_amends
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.execution.fakes import Clock, ScriptedBooks, count_trips, p
from tests.kalshi import binary_tickers, keypair, paper_kalshi, register, structure, trade

CENT = 10_000
THIRD = "third-trader"  # another trader resting orders in the same market


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=23, agents=False, prefill_books=False, kalshi_markets=3) as handle:
        yield handle


def _market(ticker: str) -> MarketInfo:
    return MarketInfo(condition_id=market_id(ticker), question="Kalshi: moved?", yes_token=token_id(ticker, "yes"),
                      no_token=token_id(ticker, "no"), tick=CENT, min_size=LOT, kalshi_fee_type="quadratic",
                      price_grid=((0, CONTRACT, CENT),))


def _bid(price: int, contracts: int) -> Intent:
    return Intent("mm", "", (Quote(Side.BUY, price, contracts * CONTRACT, Tif.GTC, post_only=True),))


class Live:
    """One desk on Kalshi live, on its own account: its venue, executor and what Kalshi billed it."""

    def __init__(self, sim: SimHandle, tmp: Path, ticker: str, name: str, *, amends: bool = True,
                 db: Database | None = None, pem: tuple[str, str] | None = None) -> None:
        self.sim, self.ticker, self.cid = sim, ticker, market_id(ticker)
        if pem is None:
            private_pem, public_pem = keypair()
            pem = (register(sim, public_pem), private_pem)
        self.pem = pem
        env = tmp / f"{name}.env"
        env.write_text(f"DATA_SOURCE=simulator\nSIMULATOR_PORT={sim.port}\nKALSHI_API_KEY_ID={pem[0]}\n"
                       f"KALSHI_PRIVATE_KEY={pem[1].strip().replace(chr(10), chr(92) + 'n')}\n")
        settings = load_settings({"TRADER_ENV_FILE": str(env), "TRADER_DB": str(tmp / f"{name}.db")})
        assert settings.kalshi is not None
        self.account = str(sim.call(lambda: sim.sim.kalshi.keys.keys[pem[0]].account))
        self.venue = KalshiVenue(settings.kalshi, poll_s=3600, reconcile_s=3600, stream=False)
        if db is None:
            migrate(tmp / f"{name}.db")
            db = Database(tmp / f"{name}.db")
        self.db = db
        counter = iter(range(1, 10**9))
        self.executor = Executor(db, self.venue, MarketCatalog([_market(ticker)]), mode="live", clock=now_ms,
                                 venue_name=KALSHI, new_client_id=lambda: f"{name}-{next(counter)}",
                                 config=ExecutorConfig(amends=amends))
        self.executor.load()
        self.executor.gate.unblock()

    async def step(self, intent: Intent) -> None:
        self.executor.set_intents([Intent(intent.strategy, self.cid, intent.quotes)])
        await self.executor.reconcile()
        self.executor.drain()

    async def sync(self) -> None:
        """Kalshi's fills and ended orders, read from REST (the stream is off in these tests)."""
        await self.venue.poll_once()
        self.executor.drain()

    def billed(self) -> int:
        return int(self.sim.call(lambda: self.sim.sim.kalshi.billed[(self.account, "write")]))

    def orders(self) -> list[tuple[Any, ...]]:
        with self.db.read() as conn:
            return [tuple(r) for r in conn.exec_driver_sql(
                "SELECT id, price, size, filled, status FROM orders ORDER BY id")]

    def amends(self) -> dict[str, int]:
        with self.db.read() as conn:
            return order_amends.count_by_status(conn, "live", KALSHI)


def _requests(sim: SimHandle) -> Counter[str]:
    seen: Counter[str] = Counter()
    sim.call(lambda: sim.sim.kalshi.observers.append(
        lambda method, route, status, body: seen.update([f"{method} {route.removeprefix('/portfolio/events')}"])))
    return seen


def _writes(seen: Counter[str]) -> Counter[str]:
    return Counter({k: v for k, v in seen.items() if k.split()[0] in ("POST", "DELETE")})


def _ticker(sim: SimHandle) -> tuple[str, int]:
    """A whole-cent market whose bids are taken away (a taker selling there meets only the orders a test
    rests), and a YES price 10 cents under its best ask."""
    ticker = next(t for t in binary_tickers(sim) if structure(sim, t) == "linear_cent")

    def bare() -> int:
        exchange = sim.sim.kalshi.exchange
        for order in [o for o in exchange.books[ticker].orders() if o.bid]:
            exchange.cancel(order.account, order.order_id, now_ms())
        return min(o.price for o in exchange.books[ticker].orders() if not o.bid)

    return ticker, int(sim.call(bare)) - 10 * CENT


def _third_bids(sim: SimHandle, ticker: str, price: int, contracts: int) -> None:
    """Another trader rests a YES bid at `price` (its own account, funded)."""
    def place() -> None:
        exchange = sim.sim.kalshi.exchange
        exchange.open_account(THIRD).credit(0, 10**12)
        exchange.place(THIRD, Placement(ticker, "bid", price, contracts * CONTRACT, "good_till_canceled",
                                        "taker_at_cross"), now_ms())
    sim.call(place)


def _third_resting(sim: SimHandle, ticker: str) -> int:
    return int(sim.call(lambda: sum(o.remaining for o in sim.sim.kalshi.exchange.books[ticker].orders()
                                    if o.account == THIRD)))


def _cancel_everything(desk: Live, sim: SimHandle, ticker: str) -> None:
    def clear() -> None:
        exchange = sim.sim.kalshi.exchange
        for order in [o for o in exchange.books[ticker].orders() if o.account in (THIRD, desk.account)]:
            exchange.cancel(order.account, order.order_id, now_ms())
    sim.call(clear)


def test_live_a_shrinking_quote_is_a_decrease_that_keeps_its_place_in_the_queue(sim: SimHandle,
                                                                                  tmp_path: Path) -> None:
    ticker, price = _ticker(sim)
    desk = Live(sim, tmp_path, ticker, "shrink")
    seen = _requests(sim)

    async def scenario() -> None:
        await desk.venue.start()
        try:
            await desk.step(_bid(price, 10))
            [(order_id, _, _, _, status)] = desk.orders()
            assert status == "LIVE"
            _third_bids(sim, ticker, price, 10)  # another trader joins the level, behind the desk
            seen.clear()
            before = desk.billed()
            await desk.step(_bid(price, 4))  # the quote shrinks
            assert _writes(seen) == {"POST /orders/{order_id}/decrease": 1}  # one request: no cancel, no create
            assert desk.billed() - before == 10  # (a cancel and a create: 2 + 10)
            assert desk.orders() == [(order_id, price, 4 * CONTRACT, 0, "LIVE")] and desk.amends() == {"applied": 1}
            assert trade(sim, ticker, "ask", f"{price / 1e6:.2f}", "4") == 4  # a taker sells 4 at the price
            await desk.sync()
            # The desk's order was first in the queue and still is: it filled, the other trader's did not.
            assert desk.orders() == [(order_id, price, 4 * CONTRACT, 4 * CONTRACT, "FILLED")]
            assert _third_resting(sim, ticker) == 10 * CONTRACT
        finally:
            _cancel_everything(desk, sim, ticker)
            await desk.venue.close()

    asyncio.run(scenario())
    desk.db.dispose()


def test_live_a_moved_price_is_one_amend_at_the_back_of_its_new_queue(sim: SimHandle, tmp_path: Path) -> None:
    ticker, price = _ticker(sim)
    desk = Live(sim, tmp_path, ticker, "move")
    seen = _requests(sim)
    higher = price + 2 * CENT

    async def scenario() -> None:
        await desk.venue.start()
        try:
            await desk.step(_bid(price, 5))
            [(order_id, *_)] = desk.orders()
            _third_bids(sim, ticker, higher, 3)  # another trader already rests where the desk moves to
            seen.clear()
            before = desk.billed()
            await desk.step(_bid(higher, 5))
            assert _writes(seen) == {"POST /orders/{order_id}/amend": 1}
            assert desk.billed() - before == 10
            assert desk.orders() == [(order_id, higher, 5 * CONTRACT, 0, "LIVE")] and desk.amends() == {"applied": 1}
            # Kalshi puts an amended price at the back of the queue: the other trader's 3 fill first.
            assert trade(sim, ticker, "ask", f"{higher / 1e6:.2f}", "3") == 3
            await desk.sync()
            assert desk.orders() == [(order_id, higher, 5 * CONTRACT, 0, "LIVE")] and _third_resting(sim, ticker) == 0
            assert trade(sim, ticker, "ask", f"{higher / 1e6:.2f}", "2") == 2
            await desk.sync()
            assert desk.orders() == [(order_id, higher, 5 * CONTRACT, 2 * CONTRACT, "PARTIALLY_FILLED")]
            # A larger size at the same price is an amend too (not a decrease): what was filled stays counted.
            seen.clear()
            await desk.step(_bid(higher, 6))
            assert _writes(seen) == {"POST /orders/{order_id}/amend": 1}
            assert desk.orders() == [(order_id, higher, 8 * CONTRACT, 2 * CONTRACT, "PARTIALLY_FILLED")]
            resting = sim.call(lambda: [o.remaining for o in sim.sim.kalshi.exchange.books[ticker].orders()
                                        if o.account == desk.account])
            assert resting == [6 * CONTRACT]
        finally:
            _cancel_everything(desk, sim, ticker)
            await desk.venue.close()

    asyncio.run(scenario())
    desk.db.dispose()


def _script(price: int) -> list[Intent]:
    """A quote's moves: placed, shrunk twice, moved up, moved down, shrunk."""
    return [_bid(price, 10), _bid(price, 8), _bid(price, 6), _bid(price + CENT, 6), _bid(price, 6), _bid(price, 3)]


def test_live_amends_spend_fewer_write_tokens_and_requests_than_cancel_and_replace(sim: SimHandle,
                                                                                      tmp_path: Path) -> None:
    ticker, price = _ticker(sim)
    seen = _requests(sim)
    spent: dict[bool, tuple[int, int]] = {}

    async def run(amends: bool) -> None:
        desk = Live(sim, tmp_path, ticker, f"script{int(amends)}", amends=amends)
        await desk.venue.start()
        try:
            seen.clear()
            before = desk.billed()
            for intent in _script(price):
                await desk.step(intent)
            spent[amends] = (desk.billed() - before, sum(_writes(seen).values()))
            assert [o[1:] for o in desk.orders() if o[4] == "LIVE"] == [(price, 3 * CONTRACT, 0, "LIVE")]
        finally:
            _cancel_everything(desk, sim, ticker)
            await desk.venue.close()
            desk.db.dispose()

    asyncio.run(run(True))
    asyncio.run(run(False))
    # Five moves: amended, one request and 10 tokens each; replaced, a cancel (2) and a create (10) each.
    assert spent[True] == (10 + 5 * 10, 1 + 5)
    assert spent[False] == (10 + 5 * 12, 1 + 5 * 2)


def test_live_an_amend_kalshi_refuses_falls_back_to_cancel_and_replace(sim: SimHandle, tmp_path: Path) -> None:
    """A post-only quote moved to where it would take: Kalshi refuses the amend (`post only cross`, as its
    create), and the desk cancels the order and sends the new one, which Kalshi refuses as it always has."""
    ticker, price = _ticker(sim)
    desk = Live(sim, tmp_path, ticker, "refused")
    seen = _requests(sim)
    ask = int(sim.call(lambda: min(o.price for o in sim.sim.kalshi.exchange.books[ticker].orders() if not o.bid)))

    async def scenario() -> None:
        await desk.venue.start()
        try:
            await desk.step(_bid(price, 5))
            [(order_id, *_)] = desk.orders()
            seen.clear()
            await desk.step(_bid(ask, 5))
            assert _writes(seen) == {"POST /orders/{order_id}/amend": 1, "DELETE /orders/{order_id}": 1,
                                     "POST /orders": 1}
            rows = desk.orders()
            assert rows[0] == (order_id, price, 5 * CONTRACT, 0, "CANCELED")  # not left resting at its old price
            assert rows[1][1:] == (ask, 5 * CONTRACT, 0, "REJECTED")
            assert desk.amends() == {"refused": 1}
            assert sim.call(lambda: [o for o in sim.sim.kalshi.exchange.books[ticker].orders()
                                     if o.account == desk.account]) == []
        finally:
            _cancel_everything(desk, sim, ticker)
            await desk.venue.close()

    asyncio.run(scenario())
    desk.db.dispose()


class Crash(BaseException):
    """The engine dies at a failpoint (os._exit in the process tests): nothing after it runs."""


@pytest.mark.parametrize("at", ["after_amend_intent", "after_amend_sent"])
def test_live_a_crash_between_an_amends_intent_and_its_answer_is_settled_from_kalshi(
        sim: SimHandle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, at: str) -> None:
    ticker, price = _ticker(sim)
    desk = Live(sim, tmp_path, ticker, f"crash-{at}")
    seen = _requests(sim)
    sent = at == "after_amend_sent"

    def crash_point(name: str) -> None:
        if name == at:
            raise Crash(name)

    async def before_the_crash() -> int:
        await desk.venue.start()
        await desk.step(_bid(price, 10))
        [(order_id, *_)] = desk.orders()
        monkeypatch.setattr(amends_module, "crash_point", crash_point)
        seen.clear()
        with pytest.raises(Crash):
            await desk.step(_bid(price, 4))
        monkeypatch.undo()
        await desk.venue.client.close()  # the process is gone: nothing of it is closed in order
        return order_id

    order_id = asyncio.run(before_the_crash())
    assert sum(_writes(seen).values()) == int(sent)  # the intent was written; sent only past it
    with desk.db.read() as conn:
        assert order_amends.count_by_status(conn, "live", KALSHI) == {"pending": 1}
    restarted = Live(sim, tmp_path, ticker, f"crash-{at}", db=desk.db, pem=desk.pem)  # the same database and key

    async def after_the_restart() -> None:
        ex = restarted.executor
        await ex.start()
        try:
            seen.clear()
            await recover(ex)
            assert _writes(seen) == {}  # start-up reads Kalshi; it never sends the amend again
            assert restarted.amends() == ({"applied": 1} if sent else {"lost": 1})
            size = (4 if sent else 10) * CONTRACT
            assert restarted.orders() == [(order_id, price, size, 0, "LIVE")]
            resting = sim.call(lambda: [o.remaining for o in sim.sim.kalshi.exchange.books[ticker].orders()
                                        if o.account == restarted.account])
            assert resting == [size]  # the ledger and Kalshi agree
            assert ex.state.amending == {}
        finally:
            _cancel_everything(restarted, sim, ticker)
            await ex.venue.close()

    asyncio.run(after_the_restart())
    desk.db.dispose()


# -- paper: Kalshi's paper ledger moves its orders as Kalshi does ------------------------------------


def _paper(tmp: Path, name: str) -> tuple[PaperVenue, Executor, Clock, ScriptedBooks, str]:
    ticker = f"KXTEST-26{name.upper()}"
    db, clock, books, catalog, venue = paper_kalshi(tmp / f"{name}.db", _market(ticker))
    counter = iter(range(1, 10**9))
    executor = Executor(db, venue, catalog, mode="paper", clock=clock, venue_name=KALSHI,
                        new_client_id=lambda: f"{name}-{next(counter)}")
    executor.load()
    executor.gate.unblock()
    return venue, executor, clock, books, ticker


def _paper_step(executor: Executor, loop: asyncio.AbstractEventLoop, ticker: str, intent: Intent) -> None:
    executor.set_intents([Intent(intent.strategy, market_id(ticker), intent.quotes)])
    loop.run_until_complete(executor.reconcile())
    executor.drain()


def _sells_at(venue: PaperVenue, ticker: str, price: float, contracts: int) -> None:
    venue.on_market_event(TradePrint(token_id(ticker, "yes"), p(price), contracts * CONTRACT, Side.SELL, 0))


def test_paper_a_decrease_keeps_the_queue_place_a_price_move_loses_it(tmp_path: Path) -> None:
    venue, executor, clock, books, ticker = _paper(tmp_path, "paperq")
    yes = token_id(ticker, "yes")
    calls = count_trips(venue.trips)
    loop = asyncio.new_event_loop()
    loop.run_until_complete(venue.start())
    _paper_step(executor, loop, ticker, _bid(p(0.40), 10))  # behind the 100 the level shows
    [order] = executor.state.orders.values()
    assert order.venue_order_id is not None
    books.set(yes, bids=[(0.40, 150)], asks=[(0.45, 100)])  # 50 more join the level, behind the desk
    venue.on_book_changed(yes)
    calls.clear()
    _paper_step(executor, loop, ticker, _bid(p(0.40), 4))
    assert calls == {"place": 1} and venue.resting[order.venue_order_id].queue_ahead == 100 * CONTRACT
    assert executor.state.orders[order.id].size == 4 * CONTRACT
    _sells_at(venue, ticker, 0.40, 100)  # the 100 ahead trade away
    _sells_at(venue, ticker, 0.40, 4)
    executor.drain()
    assert order.id not in executor.state.orders  # filled: the 50 behind it still wait
    row = executor.state.closed[order.venue_order_id]
    assert (row.status, row.filled) == (OrderStatus.FILLED, 4 * CONTRACT)
    # A price move puts the order at the back of its new level's queue.
    _paper_step(executor, loop, ticker, _bid(p(0.40), 5))
    [moved] = executor.state.orders.values()
    assert moved.venue_order_id is not None
    books.set(yes, bids=[(0.40, 50), (0.39, 80)], asks=[(0.45, 100)])
    calls.clear()
    _paper_step(executor, loop, ticker, _bid(p(0.39), 5))
    assert calls == {"place": 1} and executor.state.orders[moved.id].price == p(0.39)
    assert venue.resting[moved.venue_order_id].queue_ahead == 80 * CONTRACT  # all the level shows is ahead
    with executor.db.read() as conn:
        assert order_amends.count_by_status(conn, "paper", KALSHI) == {"applied": 2}
        # (the paper book keeps the order's new terms, for a restart)
        assert conn.exec_driver_sql("SELECT price, size, queue_ahead FROM paper_orders WHERE venue_order_id = ?",
                                    (moved.venue_order_id,)).fetchone() == (p(0.39), 5 * CONTRACT, 80 * CONTRACT)
    loop.close()
    executor.db.dispose()

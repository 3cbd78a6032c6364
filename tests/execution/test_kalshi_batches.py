"""A ladder of quotes on Kalshi placed, requoted, withdrawn and killed through the desk's executor,
live against the simulator's Kalshi side and on the paper venue standing in for Kalshi: Kalshi's
batched V2 orders (POST and DELETE /portfolio/events/orders/batched), each batch as many items as
the account's write budget pays for at once (a Basic account: 5 creates, 25 cancels in the desk's
share of the bucket), every item answered in its place (one Kalshi refuses leaves the others
resting), never a 429, and on paper one request a batch as live sends them."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from contracts.domain import Intent, MarketInfo, Quote, Side, Tif
from contracts.order_status import OrderStatus
from contracts.settings import load_settings
from contracts.venues import KALSHI
from contracts.venues.kalshi.grid import WHOLE_CENTS
from contracts.venues.kalshi.ids import CONTRACT, LOT, market_id, token_id
from engine.execution.cash_book import paper_starting_cash
from engine.execution.executor import Executor
from engine.feeds.catalog import MarketCatalog
from engine.venues.kalshi.venue import KalshiVenue
from engine.venues.paper import PaperConfig, PaperVenue
from simulator.testing import SimHandle, running_simulator
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.execution.fakes import Clock, ScriptedBooks, p
from tests.kalshi import binary_tickers, keypair, register, structure

RUNGS = 12  # three batches of creates (5, 5, 2), one batch of cancels


def _ladder(low: float, *, odd: float | None = None) -> Intent:
    """Twelve post-only YES bids a cent apart from `low` (one at `odd` instead of the last, when given)."""
    prices = [round(low + n / 100, 4) for n in range(RUNGS)]
    if odd is not None:
        prices[-1] = odd
    return Intent("ladder", "", tuple(Quote(Side.BUY, p(x), CONTRACT, Tif.GTC, post_only=True) for x in prices))


def _market(ticker: str, grid: tuple[tuple[int, int, int], ...] = WHOLE_CENTS) -> MarketInfo:
    return MarketInfo(condition_id=market_id(ticker), question="Kalshi: ladder?", yes_token=token_id(ticker, "yes"),
                      no_token=token_id(ticker, "no"), tick=grid[0][2], min_size=LOT,
                      kalshi_fee_type="quadratic", price_grid=grid)


def _executor(db: Database, venue: Any, catalog: MarketCatalog, clock: Any, mode: str) -> Executor:
    counter = iter(range(1, 10**9))
    executor = Executor(db, venue, catalog, mode=mode, clock=clock, venue_name=KALSHI,
                        new_client_id=lambda: f"lad-{next(counter)}")
    executor.load()
    executor.gate.unblock()
    return executor


async def _step(executor: Executor, intent: Intent | None, cid: str) -> None:
    if intent is None:
        executor.withdraw()
    else:
        executor.set_intents([Intent(intent.strategy, cid, intent.quotes)])
    await executor.reconcile()
    executor.drain()


def _open(executor: Executor) -> list[int]:
    return sorted(o.price for o in executor.state.orders.values() if o.status is OrderStatus.LIVE)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_simulator(seed=11, agents=False, prefill_books=False, kalshi_markets=3) as handle:
        yield handle


def test_live_a_ladder_goes_in_batches_within_the_write_budget_and_a_refused_rung_leaves_the_others(
        sim: SimHandle, tmp_path: Path) -> None:
    ticker = next(t for t in binary_tickers(sim) if structure(sim, t) == "linear_cent")
    cid = market_id(ticker)
    private_pem, public_pem = keypair()
    env = tmp_path / "k.env"
    env.write_text(f"DATA_SOURCE=simulator\nSIMULATOR_PORT={sim.port}\nKALSHI_API_KEY_ID={register(sim, public_pem)}\n"
                   f"KALSHI_PRIVATE_KEY={private_pem.strip().replace(chr(10), chr(92) + 'n')}\n")
    settings = load_settings({"TRADER_ENV_FILE": str(env), "TRADER_DB": str(tmp_path / "t.db")})
    assert settings.kalshi is not None
    # The desk believes in a finer grid than Kalshi's whole cents: the $0.0150 rung is Kalshi's to refuse.
    catalog = MarketCatalog([_market(ticker, ((0, CONTRACT, 1_000),))])
    venue = KalshiVenue(settings.kalshi, poll_s=3600, reconcile_s=3600, stream=False,
                        grid_of=lambda c: ((0, CONTRACT, 1_000),))
    migrate(tmp_path / "t.db")
    db = Database(tmp_path / "t.db")
    requests: Counter[str] = Counter()
    sim.call(lambda: sim.sim.kalshi.observers.append(
        lambda method, route, status, body: requests.update([f"{method} {route} {status}"])))
    executor = _executor(db, venue, catalog, now_ms, "live")

    async def scenario() -> None:
        await venue.start()
        try:
            assert venue.client.batches.limit("batch_create") == 5 and venue.client.batches.limit("batch_cancel") == 25
            requests.clear()
            await _step(executor, _ladder(0.02, odd=0.015), cid)
            assert requests["POST /portfolio/events/orders/batched 201"] == 3  # 12 rungs: 5, 5 and 2
            assert len(_open(executor)) == RUNGS - 1 and p(0.015) not in _open(executor)  # refused alone
            rejected = [o for o in db_rows(db) if o[1] == "REJECTED"]
            assert len(rejected) == 1 and "invalid_price" in rejected[0][2]
            requests.clear()
            await _step(executor, _ladder(0.20), cid)  # the requote: every rung moves
            assert requests["DELETE /portfolio/events/orders/batched 200"] == 1  # eleven cancels in one batch
            assert requests["POST /portfolio/events/orders/batched 201"] == 3
            assert _open(executor) == [p(0.20 + n / 100) for n in range(RUNGS)]
            requests.clear()
            await _step(executor, None, cid)  # withdrawn
            assert requests["DELETE /portfolio/events/orders/batched 200"] == 1 and _open(executor) == []
            await _step(executor, _ladder(0.05), cid)
            requests.clear()
            await executor.kill()
            executor.drain()
            # A kill is Kalshi's Cancel All Orders: one call for every resting order, on every shard
            assert requests["DELETE /portfolio/events/orders 204"] == 1 and _open(executor) == []
            assert requests["DELETE /portfolio/events/orders/batched 200"] == 0
            assert not any(k.startswith(("POST /portfolio/events/orders 2", "DELETE /portfolio/events/orders/{"))
                           for k in requests)  # nothing one by one
            assert await venue.open_orders() == []
            assert venue.client.http.busy == 0  # within the write budget: never refused
        finally:
            await venue.close()

    asyncio.run(scenario())
    db.dispose()


def db_rows(db: Database) -> list[tuple[Any, ...]]:
    with db.read() as conn:
        return [tuple(r) for r in conn.exec_driver_sql("SELECT price, status, coalesce(error, '') FROM orders")]


def test_paper_sends_kalshis_batches_one_request_each_as_live_does(tmp_path: Path) -> None:
    ticker = "KXTEST-26LADDER"
    cid = market_id(ticker)
    migrate(tmp_path / "p.db")
    db = Database(tmp_path / "p.db")
    clock = Clock()
    books = ScriptedBooks(clock)
    books.set(token_id(ticker, "yes"), bids=[(0.40, 100)], asks=[(0.45, 100)])
    catalog = MarketCatalog([_market(ticker)])
    venue = PaperVenue(db, books, catalog, config=PaperConfig(starting_cash=1_000 * CONTRACT), clock=clock,
                       venue_name=KALSHI)
    with db.write() as conn:
        paper_starting_cash(conn, 1_000 * CONTRACT, clock(), venue=KALSHI)
    trips: Counter[str] = Counter()
    place, cancelling = venue.trips.place, venue.trips.cancelling_orders

    async def counted_place() -> bool:
        trips["place"] += 1
        return await place()

    @asynccontextmanager
    async def counted_cancel(ids: set[str]) -> AsyncIterator[None]:
        trips["cancel"] += 1
        async with cancelling(ids):
            yield

    venue.trips.place = counted_place  # type: ignore[method-assign]  # counts the real call, then makes it
    venue.trips.cancelling_orders = counted_cancel  # type: ignore[method-assign, assignment]  # the same, for cancels
    loop = asyncio.new_event_loop()
    loop.run_until_complete(venue.start())
    executor = _executor(db, venue, catalog, clock, "paper")
    loop.run_until_complete(_step(executor, _ladder(0.02), cid))
    assert trips == {"place": 3} and len(_open(executor)) == RUNGS  # 5, 5 and 2: one request a batch
    loop.run_until_complete(_step(executor, _ladder(0.20), cid))
    assert trips == {"place": 6, "cancel": 1} and _open(executor) == [p(0.20 + n / 100) for n in range(RUNGS)]
    loop.run_until_complete(_step(executor, None, cid))
    assert trips == {"place": 6, "cancel": 2} and _open(executor) == []
    loop.run_until_complete(_step(executor, _ladder(0.05), cid))
    loop.run_until_complete(executor.kill())
    executor.drain()
    assert _open(executor) == [] and loop.run_until_complete(venue.open_orders()) == []
    loop.close()
    db.dispose()


def _live(sim: SimHandle, tmp_path: Path, ticker: str, name: str) -> tuple[KalshiVenue, Executor, Database]:
    private_pem, public_pem = keypair()
    env = tmp_path / f"{name}.env"
    env.write_text(f"DATA_SOURCE=simulator\nSIMULATOR_PORT={sim.port}\nKALSHI_API_KEY_ID={register(sim, public_pem)}\n"
                   f"KALSHI_PRIVATE_KEY={private_pem.strip().replace(chr(10), chr(92) + 'n')}\n")
    settings = load_settings({"TRADER_ENV_FILE": str(env), "TRADER_DB": str(tmp_path / f"{name}.db")})
    assert settings.kalshi is not None
    venue = KalshiVenue(settings.kalshi, poll_s=3600, reconcile_s=3600, stream=False)
    migrate(tmp_path / f"{name}.db")
    db = Database(tmp_path / f"{name}.db")
    return venue, _executor(db, venue, MarketCatalog([_market(ticker)]), now_ms, "live"), db


def test_live_a_halted_markets_rungs_refused_item_by_item_as_paused_are_maintenance_not_refusals(
        sim: SimHandle, tmp_path: Path) -> None:
    """Kalshi halts one market: a batch of its rungs is answered item by item 409 `trading_is_paused` (live
    clients' code). Each is the venue's maintenance (held back, never a refusal the desk counts toward a halt,
    never a fault); once the market trades again the rungs are placed."""
    from engine.execution.bus import PlacementRefused, VenueFault, VenuePhase

    ticker = next(t for t in binary_tickers(sim) if structure(sim, t) == "linear_cent")
    venue, executor, db = _live(sim, tmp_path, ticker, "halted")
    reasons: Counter[str] = Counter()
    faults: list[str] = []
    executor.bus.subscribe(PlacementRefused, lambda e: reasons.update([e.reason]))
    executor.bus.subscribe(VenueFault, lambda e: faults.append(e.message))
    cid = market_id(ticker)

    async def scenario() -> None:
        await venue.start()
        try:
            sim.call(lambda: sim.sim.kalshi.lifecycle.deactivate(ticker, now_ms()))
            await _step(executor, _ladder(0.02), cid)
            assert set(reasons) == {"VENUE_MAINTENANCE"} and faults == []  # each item a pause, none refused
            assert executor.health.phase is VenuePhase.MAINTENANCE and _open(executor) == []
            sim.call(lambda: sim.sim.kalshi.lifecycle.activate(ticker, now_ms()))
            executor.health.next_probe_ms = 0  # (its probe is due: the test's seconds)
            await _step(executor, _ladder(0.02), cid)
            assert len(_open(executor)) == RUNGS and reasons["VENUE_REFUSED"] == 0
        finally:
            sim.call(lambda: sim.sim.kalshi.lifecycle.activate(ticker, now_ms()))  # (the market trades again)
            await venue.close()

    asyncio.run(scenario())
    db.dispose()


def test_live_a_kill_is_kalshis_cancel_all_with_the_per_order_path_behind_it(sim: SimHandle, tmp_path: Path) -> None:
    """The kill sends Cancel All Orders; what still rests after it (Kalshi cancels at most 10,000 a call, or
    the call failed) is cancelled order by order; for the minute after, the desk places nothing that would
    rest (Kalshi may cancel it too), fill-and-kill orders still go."""
    from engine.venues.kalshi.http import KalshiUnavailable

    ticker = next(t for t in binary_tickers(sim) if structure(sim, t) == "linear_cent")
    cid = market_id(ticker)
    requests: Counter[str] = Counter()
    sim.call(lambda: sim.sim.kalshi.observers.append(
        lambda method, route, status, body: requests.update([f"{method} {route} {status}"])))

    async def scenario(venue: KalshiVenue, executor: Executor, db: Database, failing: bool) -> None:
        await venue.start()
        try:
            await _step(executor, _ladder(0.02), cid)
            assert len(_open(executor)) == RUNGS, db_rows(db)
            if failing:
                async def fails() -> None:
                    raise KalshiUnavailable("Kalshi 503: no answer")
                venue.client.batches.cancel_all = fails  # type: ignore[method-assign]  # the call fails: order by order
            requests.clear()
            answer = await executor.kill()
            executor.drain()
            assert _open(executor) == [] and await venue.open_orders() == [], answer
            batched = requests["DELETE /portfolio/events/orders/batched 200"]
            assert (requests["DELETE /portfolio/events/orders 204"], batched) == ((0, 1) if failing else (1, 0))
            holds = venue.funds.quote_holds({cid: [(10_000, CONTRACT)]}, {}, now_ms())
            if failing:
                assert cid not in holds
            else:  # Kalshi may cancel orders placed in the minute after: none that rests is sent
                assert holds[cid].reason == "VENUE_MAINTENANCE" and holds[cid].takes and not holds[cid].sells
        finally:
            await venue.close()

    for failing in (False, True):
        venue, executor, db = _live(sim, tmp_path, ticker, f"kill{int(failing)}")
        asyncio.run(scenario(venue, executor, db, failing))
        db.dispose()

"""One engine, two venues (engine/trading/passes/ledger.py): a strategy that names a paired Kalshi market
(`kalshi:<ticker>`) trades it in the real trading core, on Kalshi's paper ledger beside the
Polymarket desk, on the Kalshi book the desk reads through its own Kalshi client (the simulator's
Kalshi side here). Its orders are Kalshi's (on the market's price grid, counts in 0.01 contracts,
keyed `kalshi`), nothing
of it reaches Polymarket's venue or ledger, a kill cancels it with the desk's, and a restart reads
its resting orders back to it alone."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from contracts.domain import Intent, Quote, Side, Tif
from contracts.market_filter import validate_market_spec
from contracts.settings import load_settings
from contracts.venue_policies import policy_for_market
from contracts.venues import KALSHI, POLYMARKET
from contracts.venues.kalshi import ids as kalshi_ids
from contracts.venues.kalshi.grid import on_grid
from engine.execution import portfolio
from engine.trading.core import TradingCore
from simulator.testing import SimHandle, approved_simulator
from storage.desk.venue_pairs import add_pair
from storage.sqlite.db import Database, now_ms
from storage.sqlite.migrations import migrate
from tests.kalshi import binary_tickers

pytestmark = pytest.mark.slow
SH = kalshi_ids.CONTRACT
MM = {"fair_value": "mid", "half_spread": 0.03, "size": 10, "skew_per_share": 0, "max_spread": 1}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=73, agents=False, kalshi_markets=4) as handle:
        yield handle


def _core(tmp: Path, sim: SimHandle, kalshi_market: int = 0) -> tuple[TradingCore, str, str]:
    """A paper desk with a Polymarket market maker and a Kalshi one, on a pair linked by hand."""
    market = sim.market(neg_risk=False)
    ticker = binary_tickers(sim)[kalshi_market]
    kalshi = kalshi_ids.market_id(ticker)
    db_path = tmp / "t.db"
    if not db_path.exists():
        migrate(db_path)
    db = Database(db_path)
    with db.write() as conn:
        fresh = not conn.execute(text("SELECT COUNT(*) FROM strategies")).scalar_one()
        for name, markets in (("poly", [market["condition_id"]]), ("kx", [kalshi])) if fresh else ():
            conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at,
                                     updated_at, updated_by)
                                 VALUES (:n, 'market_making', :p, :m, 1, 0, 0, 'test')"""),
                         {"n": name, "p": json.dumps(MM), "m": json.dumps(markets)})
    if fresh:
        add_pair(db, condition_id=market["condition_id"], kalshi_ticker=ticker, inverted=False,
                 polymarket_question="q", kalshi_title="Kalshi's question", warnings=[], actor="test")
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "SIMULATOR_PORT": str(sim.port),
                              "TRADER_DB": str(db_path)})
    return TradingCore(settings, db), kalshi, ticker


async def _started(core: TradingCore, kalshi: str) -> None:
    await core.start(operator=True)
    core.gate.unblock()
    await core._stop_loop()  # ticked by hand
    info = core.catalog.get(kalshi)
    assert info is not None
    for _ in range(200):  # the poller's first read of the Kalshi book
        if core.books.book(info.yes_token) is not None:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the Kalshi book was never read")


def _settle(sim: SimHandle, ticker: str, result: str) -> None:
    """Kalshi determines the market and, its settlement timer run out, finalizes it."""
    def go() -> None:
        life = sim.sim.kalshi.lifecycle
        life.determine(ticker, result, None, 0, now_ms())
        if sim.sim.kalshi.exchange.markets[ticker].status != "finalized":
            life.finalize(ticker, now_ms())
    sim.call(go)


def _orders(core: TradingCore) -> list[tuple]:
    with core.db.read() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT venue, mode, strategy, token_id, price, size, status FROM orders ORDER BY id")).all()]


def test_a_strategy_naming_a_kalshi_market_trades_kalshis_paper_ledger(tmp_path: Path, sim: SimHandle) -> None:
    core, kalshi, ticker = _core(tmp_path, sim)

    async def scenario() -> list[tuple]:
        await _started(core, kalshi)
        ledger = core.ledgers.get(KALSHI)
        assert ledger is not None and ledger.live and ledger.strategies == {"kx"}
        await core.tick()
        ledger.executor.drain()
        placed = _orders(core)
        result = await core.kill()
        assert "kalshi_paper" in result
        ledger.executor.drain()
        await core.stop()
        return placed

    placed = asyncio.run(scenario())
    info = core.catalog.get(kalshi)
    assert info is not None and info.price_grid
    ours = [o for o in placed if o[2] == "kx"]
    assert ours, "the Kalshi strategy placed nothing"
    assert {(venue, mode) for venue, mode, *_ in ours} == {("kalshi", "paper")}
    assert {token for *_, token, _, _, _ in ours} <= {kalshi_ids.token_id(ticker, "yes"),
                                                      kalshi_ids.token_id(ticker, "no")}
    assert all(on_grid(price, info.price_grid) and size % kalshi_ids.LOT == 0 for *_, price, size, _ in ours)
    # The Polymarket strategy's orders are Polymarket's: no Kalshi token ever reached that venue.
    assert all(venue == "polymarket" and not token.startswith("kalshi:")
               for venue, _, strategy, token, *_ in placed if strategy == "poly")
    # The kill cancelled the Kalshi ledger's orders with the desk's.
    assert all(order[-1] != "LIVE" for order in _orders(core))
    with core.db.read() as conn:
        live = conn.execute(text("SELECT COUNT(*) FROM paper_orders WHERE status = 'LIVE'")).scalar_one()
        deposits = conn.execute(text("SELECT venue, ref FROM cash_ledger WHERE kind = 'deposit' ORDER BY venue")).all()
    assert live == 0
    assert [tuple(d) for d in deposits] == [("kalshi", "kalshi:initial"), ("polymarket", "initial")]
    with core.db.read() as conn:
        told = conn.execute(text("SELECT subject FROM alerts WHERE code = 'KALSHI_PAPER'")).scalars().all()
    assert told == ["kx"]  # the operator is told it trades on paper, once


def test_a_restart_reads_the_kalshi_ledgers_resting_orders_back_to_it(tmp_path: Path, sim: SimHandle) -> None:
    core, kalshi, _ = _core(tmp_path, sim)

    async def first() -> set[str]:
        await _started(core, kalshi)
        await core.tick()
        ledger = core.ledgers.get(KALSHI)
        assert ledger is not None
        ledger.executor.drain()
        resting = {o.client_id for o in ledger.executor.state.orders.values()}
        await core.desk.drain()  # the desk's own orders only: a crash leaves the ledger's resting
        return resting

    resting = asyncio.run(first())
    assert resting
    again, _, _ = _core(tmp_path, sim)

    async def second() -> tuple[set[str], set[str]]:
        await _started(again, kalshi)
        ledger = again.ledgers.get(KALSHI)
        assert ledger is not None
        theirs = {o.client_id for o in ledger.executor.state.orders.values()}
        desk = {o.client_id for o in again.executor.state.orders.values()}
        await again.stop()
        return theirs, desk

    theirs, desk = asyncio.run(second())
    assert resting <= theirs
    assert not resting & desk


def test_a_market_kalshi_settles_pays_kalshis_paper_ledger_in_cash(tmp_path: Path, sim: SimHandle) -> None:
    core, kalshi, ticker = _core(tmp_path, sim, kalshi_market=1)
    yes = kalshi_ids.token_id(ticker, "yes")

    async def scenario() -> tuple[int, int, int]:
        await _started(core, kalshi)
        ledger = core.ledgers.get(KALSHI)
        assert ledger is not None and core.link.references.poller is not None
        # The market settles while the fill's later reports are still on their way: the ledger must
        # settle what it holds at once, not fold those reports at the payout first.
        await _bought(core, kalshi, yes, 5 * SH, settled=False)
        assert ledger.executor.state.totals("kx", yes).size == 5 * SH
        before, desk_before = ledger.executor.state.cash, core.executor.state.cash
        _settle(sim, ticker, "yes")
        assert await core.link.references.poller.read_settlements() == 1
        assert core.catalog.resolution(kalshi) is not None
        core.catalog.load(core.db)  # settled: closed to the strategies, a reload included
        market = core.catalog.get(kalshi)
        assert market is not None and market.closed
        for _ in range(300):  # the ledger settles its position, Kalshi's paper settlement pays it
            await core.tick()
            await core.scheduled.collections()
            if ledger.executor.state.cash > before:
                break
            await asyncio.sleep(0.05)
        after, desk_after = ledger.executor.state.cash, core.executor.state.cash
        assert ledger.executor.state.totals("kx", yes).size == 0
        await core.stop()
        return after - before, desk_after - desk_before, ledger.executor.state.redeemable

    paid, desk_moved, still_owed = asyncio.run(scenario())
    assert paid == 5 * SH and still_owed == 0  # five winning contracts, a dollar each, in cash
    assert desk_moved == 0  # Polymarket's ledger is not paid for Kalshi's market
    with core.db.read() as conn:
        booked = conn.execute(text("SELECT venue, amount FROM cash_ledger WHERE kind = 'redemption'")).all()
    assert [tuple(b) for b in booked] == [("kalshi", 5 * SH)]


def test_a_market_kalshi_voids_pays_kalshis_paper_ledger_back_at_cost(tmp_path: Path, sim: SimHandle) -> None:
    """Kalshi's paper ledger has no settlement list: the market read settled with no result is the void,
    and each position is paid back at its own cost, at once; the market is closed."""
    core, kalshi, ticker = _core(tmp_path, sim, kalshi_market=2)
    yes = kalshi_ids.token_id(ticker, "yes")

    async def scenario() -> dict[str, Any]:
        await _started(core, kalshi)
        ledger = core.ledgers.get(KALSHI)
        poller = core.link.references.poller
        assert ledger is not None and ledger.mode == "paper" and poller is not None
        await _bought(core, kalshi, yes, 6 * SH)
        totals = ledger.executor.state.totals("kx", yes)
        seen: dict[str, Any] = {"cost": totals.cost, "fees": totals.fees, "before": ledger.executor.state.cash}
        _settle(sim, ticker, "void")
        seen["told"] = await poller.read_settlements()
        state = ledger.executor.state
        after = state.totals("kx", yes)
        seen["after"] = (after.size, after.realized, state.cash, state.redeemable)
        market = core.catalog.get(kalshi)
        seen["closed"] = market is not None and market.closed and core.catalog.resolution(kalshi) is None
        await core.stop()
        return seen

    seen = asyncio.run(scenario())
    size, realized, cash, owed = seen["after"]
    assert seen["told"] == 1 and size == 0 and owed == 0
    assert cash == seen["before"] + seen["cost"] and realized == 0 and seen["fees"] > 0  # its cost back, not its fee
    assert seen["closed"]
    with core.db.read() as conn:
        booked = conn.execute(text("SELECT venue, amount FROM cash_ledger WHERE kind = 'redemption'")).all()
        alerts = conn.execute(text("SELECT COUNT(*) FROM alerts WHERE code = 'KALSHI_VOID'")).scalar_one()
    assert [tuple(b) for b in booked] == [("kalshi", seen["cost"])] and alerts == 1


def test_a_void_of_a_market_nothing_was_held_in_books_no_money_and_closes_it(tmp_path: Path, sim: SimHandle) -> None:
    core, kalshi, ticker = _core(tmp_path, sim, kalshi_market=3)

    async def scenario() -> tuple[int, bool]:
        await _started(core, kalshi)
        poller = core.link.references.poller
        assert poller is not None
        _settle(sim, ticker, "void")
        told = await poller.read_settlements()
        market = core.catalog.get(kalshi)
        await core.stop()
        return told, market is not None and market.closed

    assert asyncio.run(scenario()) == (1, True)
    with core.db.read() as conn:
        cash = conn.execute(text("SELECT COUNT(*) FROM cash_ledger WHERE kind = 'redemption'")).scalar_one()
        said = conn.execute(text("SELECT message FROM alerts WHERE code = 'KALSHI_VOID'")).scalars().all()
    assert cash == 0 and len(said) == 1 and "held nothing there" in said[0]


async def _bought(core: TradingCore, kalshi: str, token: str, size: int, *, settled: bool = True) -> None:
    """The Kalshi ledger buys `size` of `token` at its ask (a fill-and-kill): settled, or (`settled`
    False) as soon as the fill is known, its later status reports still on their way."""
    ledger = core.ledgers.get(KALSHI)
    assert ledger is not None
    await core.tick()  # the ledger's risk sees the Kalshi book this pass
    book = core.books.book(token)
    assert book is not None and book.asks
    ledger.executor.set_intents([Intent("kx", kalshi, (Quote(Side.BUY, book.asks[0].price, size, Tif.FAK),))])
    await ledger.executor.reconcile()
    for _ in range(200):
        ledger.executor.venue.advance()  # type: ignore[attr-defined]  # the ledger's venue is a PaperVenue
        ledger.executor.drain()
        totals = ledger.executor.state.totals("kx", token)
        if totals.settled if settled else totals.size:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the Kalshi buy never filled")


async def _left(core: TradingCore, token: str) -> int:
    """What the Kalshi ledger still holds of `token` once its sale is answered (bounded wait)."""
    ledger = core.ledgers.get(KALSHI)
    assert ledger is not None
    for _ in range(200):
        ledger.executor.venue.advance()  # type: ignore[attr-defined]  # the ledger's venue is a PaperVenue
        ledger.executor.drain()
        if not ledger.executor.state.totals("kx", token).size:
            break
        await asyncio.sleep(0.05)
    return ledger.executor.state.totals("kx", token).size


def test_a_flatten_sells_kalshis_positions_too(tmp_path: Path, sim: SimHandle) -> None:
    core, kalshi, ticker = _core(tmp_path, sim)
    yes = kalshi_ids.token_id(ticker, "yes")

    async def scenario() -> tuple[dict, int]:
        await _started(core, kalshi)
        await _bought(core, kalshi, yes, 4 * SH)
        await core.pause()  # a flatten is refused while strategies trade
        answer = await core.operator.flatten({})
        held = await _left(core, yes)
        await core.stop()
        return answer, held

    answer, held = asyncio.run(scenario())
    sold = [(p["condition_id"], p["outcome"]) for a in answer["kalshi_paper"] for p in a["positions"]]
    assert sold == [(kalshi, "YES")] and held == 0  # sold on Kalshi's ledger, with the desk's flatten


def test_the_operators_exit_sells_a_kalshi_position_on_kalshis_ledger(tmp_path: Path, sim: SimHandle) -> None:
    core, kalshi, ticker = _core(tmp_path, sim)
    yes = kalshi_ids.token_id(ticker, "yes")

    async def scenario() -> tuple[dict, int]:
        await _started(core, kalshi)
        await _bought(core, kalshi, yes, 5 * SH)
        answer = await core.operator.exit({"strategy": "kx", "condition_id": kalshi, "ledger": "paper"})
        held = await _left(core, yes)  # sold on Kalshi's paper venue (the desk holds nothing there)
        await core.stop()
        return answer, held

    answer, held = asyncio.run(scenario())
    assert answer["positions"] and held == 0
    with core.db.read() as conn:
        sells = conn.execute(text("SELECT venue, token_id FROM fills WHERE side = 'SELL'")).all()
        astray = conn.execute(text("SELECT COUNT(*) FROM orders WHERE venue = 'polymarket' "
                                   "AND token_id LIKE 'kalshi:%'")).scalar_one()
    assert [tuple(s) for s in sells] and {tuple(s) for s in sells} == {("kalshi", yes)}
    assert astray == 0  # nothing of Kalshi's was sent to Polymarket's venue


def test_kalshi_nets_a_strategys_yes_and_no_into_dollars(tmp_path: Path, sim: SimHandle) -> None:
    core, kalshi, ticker = _core(tmp_path, sim)
    yes, no = kalshi_ids.token_id(ticker, "yes"), kalshi_ids.token_id(ticker, "no")

    async def scenario() -> tuple[int, int, int, int, int]:
        await _started(core, kalshi)
        ledger = core.ledgers.get(KALSHI)
        assert ledger is not None
        core.deciding = False  # the operator's buys alone: the market maker stays out of this one
        await core.tick()
        books = [core.books.book(t) for t in (yes, no)]
        assert all(b is not None and b.asks for b in books)
        yes_ask, no_ask = (b.asks[0].price for b in books if b is not None)
        # Both sides bought from flat in one pass (as a market maker's bid and ask both filling before it
        # re-plans): a YES-space sell with no YES held buys NO.
        buy_no = Quote(Side.SELL, kalshi_ids.CONTRACT - no_ask, 3 * SH, Tif.FAK)
        ledger.executor.set_intents([Intent("kx", kalshi, (Quote(Side.BUY, yes_ask, 5 * SH, Tif.FAK), buy_no))])
        await ledger.executor.reconcile()
        for _ in range(200):
            ledger.executor.venue.advance()  # type: ignore[attr-defined]  # the ledger's venue is a PaperVenue
            ledger.executor.drain()
            state = ledger.executor.state
            if state.totals("kx", yes).settled and state.totals("kx", no).settled:
                break
            await asyncio.sleep(0.05)
        cash_before = ledger.executor.state.cash
        kalshi_exposure = portfolio.exposure(ledger.executor.state, core.catalog).total
        await core.tick()  # the ledger's pass nets what Kalshi would net
        # The desk (paper, holding nothing) counts Kalshi's paper exposure against its total limit.
        assert core.risk.ctx is not None and core.risk.ctx.exposure.total == kalshi_exposure > 0
        state = ledger.executor.state
        held = state.totals("kx", yes).size, state.totals("kx", no).size
        realized = state.totals("kx", yes).realized + state.totals("kx", no).realized
        await core.stop()
        return *held, state.cash - cash_before, realized, yes_ask + no_ask

    held_yes, held_no, cash_in, realized, pair_cost = asyncio.run(scenario())
    assert (held_yes, held_no) == (2 * SH, 0)  # three pairs netted: two YES left, no NO
    assert cash_in == 3 * SH  # a dollar a pair, at once
    assert realized == 3 * (kalshi_ids.CONTRACT - pair_cost)  # what the three pairs cost against their dollar
    with core.db.read() as conn:
        booked = conn.execute(text("SELECT venue, kind, amount FROM cash_ledger WHERE kind = 'merge'")).all()
    assert [tuple(b) for b in booked] == [("kalshi", "merge", 3 * SH)]


def test_a_strategy_names_one_venues_markets() -> None:
    errors = validate_market_spec(["0xabc", "kalshi:KXTEST-1"])
    assert "one venue" in errors["markets"]
    assert validate_market_spec(["kalshi:KXTEST-1", "kalshi:KXTEST-2"]) == {}


def test_a_paired_market_kalshi_shows_not_binary_is_closed_unpriced_and_alerted(tmp_path: Path,
                                                                                sim: SimHandle) -> None:
    """A pair stored before pairing refused scalar markets: the poller's status read finds it, its
    book leaves the cache (no reference price from a YES that pays a value), the market is closed to
    the strategies (also across a catalog reload), the Kalshi strategy's resting orders go, and the
    operator is told once what to do."""
    core, kalshi, ticker = _core(tmp_path, sim)
    yes = kalshi_ids.token_id(ticker, "yes")

    def market_type(kind: str) -> None:
        sim.call(lambda: setattr(sim.sim.kalshi.exchange.markets[ticker], "market_type", kind))

    async def scenario() -> dict[str, Any]:
        await _started(core, kalshi)
        poller = core.link.references.poller
        ledger = core.ledgers.get(KALSHI)
        assert poller is not None and ledger is not None
        await core.tick()
        ledger.executor.drain()
        seen: dict[str, Any] = {"resting": [o for o in _orders(core) if o[2] == "kx" and o[-1] == "LIVE"]}
        market_type("scalar")
        seen["told"] = (await poller.read_settlements(), await poller.read_settlements())
        poly = next(cid for cid, (paired, _) in core.link.references.pairs().items() if paired == kalshi)
        seen["poly"] = poly
        seen["priced"] = (core.books.book(yes), core.link.references.source.reference(poly))
        seen["read"] = await poller.poll_once()
        seen["book_after_poll"] = core.books.book(yes)
        core.catalog.load(core.db)  # a reload (the market refresh) keeps it closed
        market = core.catalog.get(kalshi)
        seen["closed"] = market is not None and market.closed and not market.accepting_orders
        for _ in range(200):  # the next passes cancel what the strategy had resting there
            await core.tick()
            ledger.executor.venue.advance()  # type: ignore[attr-defined]  # the ledger's venue is a PaperVenue
            ledger.executor.drain()
            if not [o for o in _orders(core) if o[2] == "kx" and o[-1] in ("LIVE", "CANCEL_PENDING")]:
                break
            await asyncio.sleep(0.05)
        seen["after"] = [o for o in _orders(core) if o[2] == "kx" and o[-1] in ("LIVE", "CANCEL_PENDING")]
        await core.stop()
        return seen

    try:
        seen = asyncio.run(scenario())
    finally:
        market_type("binary")
    assert seen["resting"], "the Kalshi strategy had nothing resting to begin with"
    assert seen["told"] == (1, 0)  # told once
    assert seen["priced"] == (None, None) and seen["read"] == 0 and seen["book_after_poll"] is None
    assert seen["closed"] and seen["after"] == []
    with core.db.read() as conn:
        alerts = conn.execute(text("SELECT level, message FROM alerts WHERE code = 'KALSHI_PAIR_NOT_BINARY'")).all()
    assert len(alerts) == 1 and alerts[0][0] == "critical"
    assert ticker in alerts[0][1] and "scalar" in alerts[0][1] and "pairs remove" in alerts[0][1]
    assert f"paired with {seen['poly']}" in alerts[0][1]  # names the Polymarket market it priced


def test_one_pass_protects_every_ledger(tmp_path: Path, sim: SimHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    """A protection written once, in the ledger pass (engine/trading/passes/ledger_pass.py), runs for the desk's
    ledger and for Kalshi's beside it: the exits that hold a strategy out of its market, and the gate."""
    from engine.trading.passes import ledger_pass

    core, kalshi, _ = _core(tmp_path, sim)
    exits_for: list[str] = []
    gated_for: list[str] = []
    start_exits, hold_for_game_start = ledger_pass.start_exits, ledger_pass.hold_for_game_start

    def recording_start_exits(site: Any, *args: Any) -> None:
        exits_for.append(site.executor.venue_name)
        start_exits(site, *args)

    def recording_hold(intents: list[Intent], catalog: Any, *args: Any) -> Any:
        gated_for.extend(policy_for_market(intent.condition_id).venue for intent in intents)
        return hold_for_game_start(intents, catalog, *args)

    monkeypatch.setattr(ledger_pass, "start_exits", recording_start_exits)
    monkeypatch.setattr(ledger_pass, "hold_for_game_start", recording_hold)

    async def scenario() -> None:
        await _started(core, kalshi)
        await core.tick()
        await core.stop()

    asyncio.run(scenario())
    assert {POLYMARKET, KALSHI} <= set(exits_for)
    assert {POLYMARKET, KALSHI} <= set(gated_for)

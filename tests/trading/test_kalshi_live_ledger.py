"""Kalshi armed live (engine/trading/passes/ledger.py, mode `live`): the real trading core on a paper desk sends a
promoted strategy's Kalshi orders to Kalshi itself (the simulator's Kalshi side, an account registered with
its own RSA key) through the desk's own client, and keeps Kalshi's live ledger true to the account: its
cash starts at Kalshi's balance, fills and fees are Kalshi's, a settlement is booked from Kalshi's own
settlement list at `finalized` and the ledger's cash then equals Kalshi's balance to the micro-dollar (a
market Kalshi voids too, its positions paid back at cost); a balance Kalshi holds that the ledger cannot
explain halts the Kalshi ledger alone; a restart reads its resting orders back, and books what Kalshi settled or
voided meanwhile before it compares the ledger with Kalshi (no halt for it, however brief)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from contracts.domain import Intent, Quote, Side, Tif
from contracts.order_status import OrderStatus
from contracts.settings import load_settings
from contracts.venues import KALSHI
from contracts.venues.kalshi import ids as kalshi_ids
from engine.execution.credits import book_venue_credits
from engine.execution.recovery import recover
from engine.risk.gate import TradingState
from engine.risk.ledger_risk import VenueLedgerRisk
from engine.trading.core import TradingCore
from engine.trading.settlement.void_refunds import book_refunds
from engine.venues.kalshi.settlement import KalshiSettlement
from engine.venues.kalshi.venue import KalshiVenue
from simulator.kalshi.exchange import OTHER, Placement
from simulator.testing import SimHandle, approved_simulator
from storage.sqlite.db import Database, now_ms
from tests.kalshi_desk import MM, Desk, bought, started, until

pytestmark = pytest.mark.slow
SH = kalshi_ids.CONTRACT


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=79, agents=False, kalshi_markets=5) as handle:
        yield handle


_started, _until, _bought = started, until, bought


def test_a_live_kalshi_fill_and_settlement_keep_the_ledger_equal_to_kalshis_balance(
        tmp_path: Path, sim: SimHandle) -> None:
    desk = Desk(tmp_path, sim)
    core = desk.core()
    opening = desk.balance()

    async def scenario() -> dict[str, int]:
        await _started(core, desk.kalshi)
        ledger = core.ledgers.get(KALSHI)
        assert ledger is not None and ledger.mode == "live" and isinstance(ledger.executor.venue, KalshiVenue)
        seen = {"opening_cash": ledger.executor.state.cash}
        await _bought(core, desk, 5 * SH)
        seen["after_fill"] = ledger.executor.state.cash
        seen["balance_after_fill"] = desk.balance()
        desk.settle("yes")
        # Kalshi lists the payment before the desk has seen the market resolve: not booked yet (it would be
        # cash nobody was owed, beside the claim the resolution then opens).
        await core.scheduled.collections()
        seen["before_resolution"] = ledger.executor.state.cash
        assert core.link.references.poller is not None
        assert await core.link.references.poller.read_settlements() == 1

        async def paid() -> bool:
            await core.tick()
            await core.scheduled.collections()
            return ledger.executor.state.cash > seen["after_fill"]

        for _ in range(300):
            if await paid():
                break
            await asyncio.sleep(0.05)
        seen["after_settlement"] = ledger.executor.state.cash
        seen["redeemable"] = ledger.executor.state.redeemable
        seen["balance_after_settlement"] = desk.balance()
        await core.stop()
        return seen

    seen = asyncio.run(scenario())
    assert seen["opening_cash"] == opening  # live cash starts at Kalshi's balance, not at a paper deposit
    assert seen["after_fill"] == seen["balance_after_fill"] < opening  # the fill and its fee, to the cent
    assert seen["before_resolution"] == seen["after_fill"]
    assert seen["after_settlement"] - seen["after_fill"] == 5 * SH and seen["redeemable"] == 0
    assert seen["after_settlement"] == seen["balance_after_settlement"]
    with core.db.read() as conn:
        booked = conn.execute(text("SELECT mode, venue, amount FROM cash_ledger WHERE kind = 'redemption'")).all()
        astray = conn.execute(text("SELECT COUNT(*) FROM orders WHERE NOT (venue = 'kalshi' AND mode = 'live')"))
        synced = conn.execute(text("SELECT message FROM alerts WHERE code = 'CASH_SYNC'")).scalars().all()
    # The start's sync names Kalshi's cash as Kalshi holds it (dollars in the account), not a wallet's pUSD.
    assert any("the Kalshi account's balance" in m for m in synced) and not any("pUSD" in m for m in synced)
    assert [tuple(b) for b in booked] == [("live", "kalshi", 5 * SH)]  # Kalshi's settlement, booked once
    assert astray.scalar_one() == 0


def test_a_market_kalshi_voids_is_paid_back_at_cost_and_the_ledger_trades_on(tmp_path: Path, sim: SimHandle) -> None:
    desk = Desk(tmp_path, sim, market=2)  # (markets 0, 1 and 3 are the other tests')
    core = desk.core()
    yes = kalshi_ids.token_id(desk.ticker, "yes")

    async def scenario() -> dict[str, Any]:
        await _started(core, desk.kalshi)
        ledger = core.ledgers.get(KALSHI)
        assert ledger is not None and ledger.mode == "live"
        await _bought(core, desk, 5 * SH)
        totals = ledger.executor.state.totals("kx", yes)
        seen: dict[str, Any] = {"cost": totals.cost, "fees": totals.fees, "cash_before": ledger.executor.state.cash}
        desk.settle("void")
        poller = core.link.references.poller
        assert poller is not None
        seen["told"] = (await poller.read_settlements(), poller.settled.get(desk.ticker), await poller.poll_once())
        await core.scheduled.collections()
        state = ledger.executor.state
        seen["after"] = (state.totals("kx", yes).size, state.cash, state.redeemable, desk.balance())
        seen["realized"] = (state.totals("kx", yes).realized, state.totals("kx", yes).fees)
        market = core.catalog.get(desk.kalshi)
        seen["closed"] = market is not None and market.closed
        core.catalog.load(core.db)  # a reload (or a restart) reads it closed again, from the booked refund
        market = core.catalog.get(desk.kalshi)
        seen["closed_after_load"] = market is not None and market.closed and not market.accepting_orders
        for _ in range(2):  # a difference counts once two checks in a row see it: none is seen
            await ledger.check_balances(tolerance_usdc=0.0, every_s=0)
        seen["trading"] = _risk(ledger).in_force().trading_state
        # Read again (a restart's fresh reader): the refund and its payment are not booked twice.
        settings = load_settings(desk.env).kalshi
        assert settings is not None
        again = KalshiSettlement(settings, lambda cid: False)
        seen["again"] = (await book_refunds(ledger.executor, core.catalog, again),
                         len(await book_venue_credits(ledger.executor, again)), ledger.executor.state.cash)
        await core.stop()
        return seen

    seen = asyncio.run(scenario())
    size, cash, redeemable, balance = seen["after"]
    assert size == 0 and redeemable == 0  # the contracts left the ledger, and what Kalshi paid back is paid
    assert cash == balance == seen["cash_before"] + seen["cost"]  # paid back at cost, to the cent
    assert seen["realized"] == (0, seen["fees"]) and seen["fees"] > 0  # nothing won or lost; Kalshi keeps its fee
    assert seen["closed"] and seen["closed_after_load"] and seen["trading"] is TradingState.ACTIVE
    assert seen["again"] == (0, 0, cash)
    assert seen["told"] == (1, "", 0)  # told once, as voided; the settled market (its book) is not read again
    with core.db.read() as conn:
        booked = conn.execute(text("SELECT amount FROM cash_ledger WHERE kind = 'redemption'")).scalars().all()
        alerts = conn.execute(text("SELECT code FROM alerts WHERE code IN ('KALSHI_VOID', 'CREDIT_UNCLAIMED', "
                                   "'REDEMPTION_MISMATCH', 'BALANCE_MISMATCH')")).scalars().all()
    assert booked == [seen["cost"]] and alerts == ["KALSHI_VOID"]


def test_a_void_while_the_engine_was_down_is_booked_at_restart_and_the_ledger_trades_on(
        tmp_path: Path, sim: SimHandle) -> None:
    """What Kalshi voided while the engine was down is booked by recovery before it compares the
    ledger with Kalshi: no halt for it at the restart, not even one that clears itself later."""
    desk = Desk(tmp_path, sim, market=3)
    yes = kalshi_ids.token_id(desk.ticker, "yes")

    async def before(core: TradingCore) -> int:
        await _started(core, desk.kalshi)
        ledger = core.ledgers.get(KALSHI)
        assert ledger is not None
        await _bought(core, desk, 4 * SH)
        cost = ledger.executor.state.totals("kx", yes).cost
        await core.stop()
        return cost

    cost = asyncio.run(before(desk.core()))
    desk.settle("void")  # while the engine is down
    restarted = now_ms()
    again = desk.core()

    async def after() -> dict[str, Any]:
        await _started(again, desk.kalshi)
        ledger = again.ledgers.get(KALSHI)
        assert ledger is not None
        at_start = {"trading": (ledger.risk.memory.trading_state, ledger.risk.memory.reason),
                    "size": ledger.executor.state.totals("kx", yes).size, "cash": ledger.executor.state.cash}
        await again.scheduled.collections()
        for _ in range(2):  # the contracts Kalshi took back are off the ledger too: the checks agree
            await ledger.check_balances(tolerance_usdc=0.0, every_s=0)
        state = ledger.executor.state
        seen = {"size": state.totals("kx", yes).size, "cash": state.cash, "balance": desk.balance(),
                "trading": _risk(ledger).in_force().trading_state, "book": again.books.book(yes), "at_start": at_start}
        await again.stop()
        return seen

    seen = asyncio.run(after())
    assert seen["at_start"] == {"trading": (TradingState.ACTIVE, None), "size": 0, "cash": seen["balance"]}
    assert seen["size"] == 0 and seen["cash"] == seen["balance"] and seen["trading"] is TradingState.ACTIVE
    assert seen["book"] is None  # the restarted poller read the market's status first: its book, over, never read
    with again.db.read() as conn:
        booked = conn.execute(text("SELECT kind, amount FROM cash_ledger WHERE mode = 'live' AND venue = 'kalshi' "
                                   "AND kind != 'deposit'")).all()
    assert [tuple(b) for b in booked] == [("redemption", cost)]  # paid back at cost, once, nothing adjusted
    with again.db.read() as conn:
        alerts = conn.execute(text("SELECT code FROM alerts WHERE code IN ('BALANCE_MISMATCH', 'KALSHI_VOID', "
                                   "'CASH_SYNC', 'CREDIT_UNCLAIMED') AND created_at >= :t"), {"t": restarted}).all()
        halts = conn.execute(text("SELECT COUNT(*) FROM alerts WHERE message LIKE '%HALTED%' AND created_at >= :t"),
                             {"t": restarted}).scalar_one()
    assert [a[0] for a in alerts] == ["KALSHI_VOID"] and halts == 0  # no false halt, no cash booked as moved


def test_money_kalshi_holds_that_the_ledger_cannot_explain_halts_the_kalshi_ledger_alone(
        tmp_path: Path, sim: SimHandle) -> None:
    desk = Desk(tmp_path, sim, market=1)
    core = desk.core()

    move = desk.move_balance

    def stored() -> tuple[str, str]:
        with core.db.read() as conn:
            ledger_row = conn.execute(text("SELECT trading_state FROM venue_risk WHERE mode = 'live' "
                                         "AND venue = 'kalshi'")).scalar_one()
            desk_row = conn.execute(text("SELECT trading_state FROM engine_state WHERE id = 1")).scalar_one()
        return str(ledger_row), str(desk_row)

    async def scenario() -> dict[str, Any]:
        await _started(core, desk.kalshi)
        ledger = core.ledgers.get(KALSHI)
        assert ledger is not None and ledger.mode == "live"
        move(50 * SH)  # $50 paid in from outside the desk
        for _ in range(2):  # a difference counts once two checks in a row see it
            await ledger.check_balances(tolerance_usdc=1.0, every_s=0)
        seen: dict[str, Any] = {"halted": (_risk(ledger).in_force().trading_state, _risk(ledger).in_force().reason),
                                   "desk": core.risk.memory.trading_state, "stored": stored()}
        move(-50 * SH)  # taken out again: the ledger and Kalshi agree
        for _ in range(2):
            await ledger.check_balances(tolerance_usdc=1.0, every_s=0)
        seen["cleared"] = _risk(ledger).in_force().trading_state
        seen["stored_after"] = stored()
        move(20 * SH)  # $20 paid in again, and this time the operator looks, then presses Start
        for _ in range(2):
            await ledger.check_balances(tolerance_usdc=1.0, every_s=0)
        seen["halted_again"] = _risk(ledger).in_force().trading_state
        await core.clear_start_halts()
        for _ in range(2):  # the Start booked the $20: the next checks agree
            await ledger.check_balances(tolerance_usdc=1.0, every_s=0)
        seen["after_start"] = (_risk(ledger).in_force().trading_state, ledger.executor.state.cash, desk.balance())
        await core.stop()
        return seen

    seen = asyncio.run(scenario())
    assert seen["halted"] == (TradingState.HALTED, "BALANCE_MISMATCH")
    assert seen["desk"] is TradingState.ACTIVE  # the desk trades on
    assert seen["stored"] == ("HALTED", "ACTIVE")
    assert seen["cleared"] is TradingState.ACTIVE and seen["stored_after"] == ("ACTIVE", "ACTIVE")
    assert seen["halted_again"] is TradingState.HALTED
    state, cash, balance = seen["after_start"]
    assert state is TradingState.ACTIVE and cash == balance  # the Start booked the difference, audited
    with core.db.read() as conn:
        booked = conn.execute(text("SELECT amount FROM cash_ledger WHERE mode = 'live' AND venue = 'kalshi' "
                                   "AND kind = 'adjustment'")).scalars().all()
    assert booked == [20 * SH]
    with core.db.read() as conn:
        drift = conn.execute(text("SELECT subject, message FROM alerts WHERE code = 'BALANCE_DRIFT'")).all()
    assert [subject for subject, _ in drift] == ["Kalshi live", "Kalshi live"]  # the $50, then the $20
    assert "Kalshi's balance differs from the ledger by +50.000000 USD" in drift[0][1]


def test_a_restart_reads_kalshis_resting_orders_back_to_the_live_ledger(tmp_path: Path, sim: SimHandle) -> None:
    desk = Desk(tmp_path, sim, market=1)  # (market 0 is settled by the first test)
    core = desk.core()
    yes = kalshi_ids.token_id(desk.ticker, "yes")

    async def first() -> set[str]:
        await _started(core, desk.kalshi)
        await core.tick()
        ledger = core.ledgers.get(KALSHI)
        book = core.books.book(yes)
        assert ledger is not None and book is not None and book.bids
        low = max(kalshi_ids.CENT, book.bids[-1].price - 5 * kalshi_ids.CENT)  # rests well below the book
        ledger.executor.set_intents([Intent("kx", desk.kalshi, (Quote(Side.BUY, low, 2 * SH, Tif.GTC),))])
        await ledger.executor.reconcile()
        await _until(lambda: desk.resting() == 1, "the order resting at Kalshi")
        ledger.executor.drain()
        resting = {o.client_id for o in ledger.executor.state.orders.values()}
        await core.desk.drain()  # the desk's own orders only: a crash leaves the ledger's resting
        return resting

    resting = asyncio.run(first())
    assert len(resting) == 1
    again = desk.core()

    async def second() -> tuple[set[str], int]:
        await _started(again, desk.kalshi)
        ledger = again.ledgers.get(KALSHI)
        assert ledger is not None
        back = {o.client_id for o in ledger.executor.state.orders.values()}
        result = await again.kill()
        await _until(lambda: desk.resting() == 0, "the kill at Kalshi")
        await again.stop()
        answer = result["kalshi_live"]
        assert isinstance(answer, dict)
        return back, int(answer["cancelled"])

    back, cancelled = asyncio.run(second())
    assert back == resting and cancelled == 1
    with again.db.read() as conn:
        entries = conn.execute(text("SELECT kind FROM cash_ledger WHERE mode = 'live' AND venue = 'kalshi'"))
        kinds = sorted(entries.scalars().all())
    # One opening deposit; the restart booked no adjustment for what the resting order held back at Kalshi.
    assert kinds == ["deposit"]


def test_only_promoted_strategies_trade_kalshi_live_and_one_per_market() -> None:
    from engine.trading.passes.routing import traders_on

    class Kind:
        def __init__(self, spans_venues: bool) -> None:
            self.spans_venues = spans_venues

    class Hosted:
        def __init__(self, markets: list[str], live: bool, spans_venues: bool = False) -> None:
            self.markets, self.live, self.instance = markets, live, Kind(spans_venues)

    hosted = {"a": Hosted(["kalshi:K-1"], True), "b": Hosted(["kalshi:K-1"], True),
              "c": Hosted(["kalshi:K-2"], False), "d": Hosted(["0xabc"], False),
              "e": Hosted(["0xdef"], True, spans_venues=True), "f": Hosted(["0xabc"], True, spans_venues=True)}
    pairs = {"0xdef": ("kalshi:K-1", False), "0xabc": ("kalshi:K-3", True)}
    assert traders_on(hosted, KALSHI, "paper", pairs) == ({"a", "b", "c", "e", "f"}, {})
    traders, held = traders_on(hosted, KALSHI, "live", pairs)
    assert traders == {"a", "f"} and set(held) == {"b", "c", "e"}
    assert "strategy a trades kalshi:K-1" in held["b"] and "paper only" in held["c"]
    assert "strategy a trades kalshi:K-1" in held["e"]  # a cross-venue strategy's Kalshi leg counts too


def test_a_fill_at_kalshi_while_the_engine_was_down_is_booked_at_restart(tmp_path: Path, sim: SimHandle) -> None:
    desk = Desk(tmp_path, sim, market=1)
    core = desk.core()
    yes = kalshi_ids.token_id(desk.ticker, "yes")

    async def first() -> int:
        await _started(core, desk.kalshi)
        await core.tick()
        ledger, book = core.ledgers.get(KALSHI), core.books.book(yes)
        assert ledger is not None and book is not None and book.bids and book.asks
        inside = book.bids[0].price + kalshi_ids.CENT  # the best bid, below the best ask
        assert inside < book.asks[0].price
        ledger.executor.set_intents([Intent("kx", desk.kalshi, (Quote(Side.BUY, inside, 3 * SH, Tif.GTC),))])
        await ledger.executor.reconcile()
        await _until(lambda: desk.resting() == 1, "the bid resting at Kalshi")
        await core.desk.drain()  # the engine dies here: the bid stays at Kalshi
        return inside

    price = asyncio.run(first())
    desk.taken("ask", price, 3 * SH)  # filled while nobody watched
    assert desk.resting() == 0
    again = desk.core()

    async def second() -> tuple[int, int, int]:
        await _started(again, desk.kalshi)
        ledger = again.ledgers.get(KALSHI)
        assert ledger is not None
        held, cash, working = ledger.executor.state.totals("kx", yes).size, ledger.executor.state.cash, \
            len(ledger.executor.state.orders)
        await again.stop()
        return held, cash, working

    held, cash, working = asyncio.run(second())
    assert held == 3 * SH and working == 0  # the fill is the ledger's, the order closed
    assert cash == desk.balance()  # to the cent, fee included
    with again.db.read() as conn:
        kinds = sorted(conn.execute(text("SELECT kind FROM cash_ledger WHERE mode = 'live' AND venue = 'kalshi'"))
                       .scalars().all())
    assert kinds == ["deposit"]  # nothing booked as an unexplained adjustment


def test_live_kalshi_nets_yes_and_no_as_the_ledger_does_and_an_exit_sells_there(
        tmp_path: Path, sim: SimHandle) -> None:
    desk = Desk(tmp_path, sim, market=1)
    core = desk.core()
    yes, no = kalshi_ids.token_id(desk.ticker, "yes"), kalshi_ids.token_id(desk.ticker, "no")

    position = desk.position

    async def scenario() -> dict[str, Any]:
        await _started(core, desk.kalshi)
        ledger = core.ledgers.get(KALSHI)
        assert ledger is not None
        await core.tick()
        books = [core.books.book(t) for t in (yes, no)]
        assert all(b is not None and b.asks for b in books)
        yes_ask, no_ask = (b.asks[0].price for b in books if b is not None)
        buy_no = Quote(Side.SELL, kalshi_ids.CONTRACT - no_ask, 2 * SH, Tif.FAK)  # a YES-space sell buys NO
        # 5.37 YES and 2 NO: Kalshi nets them to 3.37 YES, a fractional residue the exit sells whole
        ledger.executor.set_intents([Intent("kx", desk.kalshi, (Quote(Side.BUY, yes_ask, 5_370_000, Tif.FAK), buy_no))])
        await ledger.executor.reconcile()

        def both() -> bool:
            ledger.executor.drain()
            state = ledger.executor.state
            return bool(state.totals("kx", yes).settled and state.totals("kx", no).settled)

        await _until(both, "both sides filled at Kalshi")
        await core.tick()  # the ledger nets what Kalshi netted
        seen: dict[str, Any] = {"netted": (ledger.executor.state.totals("kx", yes).size,
                                              ledger.executor.state.totals("kx", no).size),
                                   "kalshi_position": position(), "cash": ledger.executor.state.cash,
                                   "balance": desk.balance()}
        answer = await core.operator.exit({"strategy": "kx", "condition_id": desk.kalshi, "ledger": "live"})
        assert answer["positions"]

        def sold() -> bool:
            ledger.executor.drain()
            return not ledger.executor.state.totals("kx", yes).size

        await _until(sold, "the exit's sale at Kalshi")
        seen["after_exit"] = (position(), ledger.executor.state.cash, desk.balance())
        await core.stop()
        return seen

    seen = asyncio.run(scenario())
    assert seen["netted"] == (3_370_000, 0) and seen["kalshi_position"] == 3_370_000  # Kalshi's 3.37 YES, the ledger's
    assert seen["cash"] == seen["balance"]  # two pairs: a dollar each, as Kalshi paid them
    kalshi_left, cash, balance = seen["after_exit"]
    assert kalshi_left == 0 and cash == balance


def _kalshi_book(desk: Desk, bid: int, ask: int) -> None:
    """Kalshi's book of the desk's market made another trader's bid and ask alone (500 contracts each)."""
    def make() -> None:
        exchange = desk.sim.sim.kalshi.exchange
        exchange.close_resting(desk.ticker, now_ms(), "test", lambda o: o.account != desk.account)
        for side, price in (("bid", bid), ("ask", ask)):
            exchange.place(OTHER, Placement(desk.ticker, side, price, 500 * SH, "good_till_canceled", ""), now_ms())
    desk.sim.call(make)


def test_a_live_kalshi_market_maker_whose_ask_is_the_touch_leaves_it_resting(tmp_path: Path, sim: SimHandle) -> None:
    """Kalshi's book holds the live ledger's own orders, in both of the market's books (a YES ask is a NO bid): its
    ask at the touch, read as the market's, lowered the mid it priced from, so it cancelled the ask and placed it
    again on every decision, deciding on events (engine/trading/ledgers/own_orders.py, `OwnBooks`)."""
    desk = Desk(tmp_path, sim, market=4)  # (0 to 3 are the other tests'; the last test settles 4 after this one)
    maker = {**MM, "half_spread": 0.02, "max_inventory": 10}  # holding 10 at its cap, it only asks
    db = Database(desk.db_path)
    with db.write() as conn:
        conn.execute(text("UPDATE strategies SET params = :p WHERE name = 'kx'"), {"p": json.dumps(maker)})
    db.dispose()
    core = desk.core()
    assert core.config.decide_on_events == 1

    def asks(since: int) -> list[tuple[int, str]]:
        with core.db.read() as conn:
            return [tuple(r) for r in conn.execute(text(
                "SELECT price, status FROM orders WHERE strategy = 'kx' AND side = 'SELL' AND created_at >= :t "
                "ORDER BY id"), {"t": since})]

    async def scenario() -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
        await _started(core, desk.kalshi)
        await _bought(core, desk, 10 * SH)
        _kalshi_book(desk, 300_000, 440_000)  # mid 0.37: its ask 0.37 + 0.02 = 0.39 is the touch
        core.deciding = True
        core._loop = asyncio.create_task(core._run())
        ledger = core.ledgers.get(KALSHI)
        assert ledger is not None

        def resting_ask() -> bool:
            ledger.executor.drain()
            return any(o.side is Side.SELL and o.price == 390_000 and o.status is OrderStatus.LIVE
                       for o in ledger.executor.state.orders.values())

        await _until(resting_ask, "its ask at 0.39 resting at Kalshi")
        first_at = min(o.created_at for o in ledger.executor.state.orders.values() if o.side is Side.SELL)
        await _until(lambda: core.clock() > first_at + 3_000, "three seconds (six timed passes)", tries=200)
        placed = asks(first_at)
        before = asks(0)
        await core.stop()
        return placed, before

    placed, every = asyncio.run(scenario())
    assert placed == [(390_000, "LIVE")], every  # placed once, resting: not cancelled and placed again


def test_a_result_kalshi_paid_before_the_desk_heard_of_it_is_settled_by_recovery_before_it_compares(
        tmp_path: Path, sim: SimHandle) -> None:
    """Kalshi settled the market `yes` and paid it, and the desk has not read its status yet (as at a
    restart whose status read has not come): recovery settles it from Kalshi's settlement list before
    comparing, so the ledger agrees with Kalshi at once, the payment pays its claim."""
    desk = Desk(tmp_path, sim, market=4)  # (after the market maker's test of it: this one settles it)
    core = desk.core()
    yes = kalshi_ids.token_id(desk.ticker, "yes")

    async def scenario() -> dict[str, Any]:
        await _started(core, desk.kalshi)
        ledger = core.ledgers.get(KALSHI)
        assert ledger is not None
        await _bought(core, desk, 4 * SH)
        desk.settle("yes")
        assert core.catalog.resolution(desk.kalshi) is None  # nobody told the desk
        report = await recover(ledger.executor, ledger.settlement, settle_resolutions=ledger._before_balances)
        ledger.risk.balances_checked(report.mismatches)  # what the ledger's open does with them
        state = ledger.executor.state
        seen = {"mismatches": report.mismatches, "size": state.totals("kx", yes).size, "cash": state.cash,
                "balance": desk.balance(), "trading": _risk(ledger).in_force().trading_state,
                "redeemable": state.redeemable}
        await core.stop()
        return seen

    seen = asyncio.run(scenario())
    assert seen["mismatches"] == [] and seen["trading"] is TradingState.ACTIVE
    assert seen["size"] == 0 and seen["redeemable"] == 0 and seen["cash"] == seen["balance"]
    with core.db.read() as conn:
        booked = conn.execute(text("SELECT kind, amount FROM cash_ledger WHERE mode = 'live' AND venue = 'kalshi' "
                                   "AND kind != 'deposit'")).all()
        alerts = conn.execute(text("SELECT code FROM alerts WHERE code IN ('BALANCE_MISMATCH', 'CREDIT_UNCLAIMED', "
                                   "'CASH_SYNC')")).scalars().all()
    assert [tuple(b) for b in booked] == [("redemption", 4 * SH)]  # a dollar a contract, once, as Kalshi paid
    assert alerts == ["CASH_SYNC"]  # the first start's, nothing since


def _risk(ledger: Any) -> VenueLedgerRisk:
    """A ledger other than the desk's: its own risk, held at the desk's where the desk is more cautious."""
    assert isinstance(ledger.risk, VenueLedgerRisk)
    return ledger.risk

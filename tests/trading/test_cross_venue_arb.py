"""Cross-venue arbitrage (issue 40, item 6): the real trading core on a paper desk, a Polymarket market
(the simulator's) linked by hand to a Kalshi market (the simulator's Kalshi side, read through the
desk's own Kalshi client), and a `cross_venue_arb` strategy. When this market's YES ask plus the Kalshi NO ask plus
both venues' taker fees cost under 1 minus the margin, it buys both: the YES on Polymarket's ledger,
the NO on Kalshi's, the same number of contracts (in Kalshi's 0.01 steps). A leg that filled alone is unwound on its own
ledger; a leg its venue's risk refuses keeps the other from being sent; the two legs never trade two
kinds of money."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from contracts.cross_venue import complement_side
from contracts.domain import MICRO, Side, Tif
from contracts.settings import load_settings
from contracts.venues import KALSHI
from contracts.venues.kalshi import ids as kalshi_ids
from engine.execution.planner import OrderSpec
from engine.risk.gate import TradingState
from engine.trading.core import TradingCore
from engine.trading.passes import cross_arbs
from simulator.testing import SimHandle, approved_simulator
from storage.desk.venue_pairs import add_pair
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.helpers import paper_venue, set_book
from tests.kalshi import binary_tickers

pytestmark = pytest.mark.slow
SH = kalshi_ids.CONTRACT
ARB = {"margin": 0.02, "max_size": 10, "max_capital": 100}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=89, agents=False, kalshi_markets=1) as handle:
        yield handle


def _kalshi_bid(sim: SimHandle, ticker: str) -> int:
    """The Kalshi market's best YES bid, whole cents (a NO ask is 100 less it)."""
    best = int(sim.call(lambda: max(o.price for o in sim.sim.kalshi.exchange.books[ticker].orders() if o.bid)))
    return best // kalshi_ids.CENT


def _desk(tmp: Path, sim: SimHandle, *, limits: dict[str, str] | None = None,
          params: dict[str, Any] | None = None) -> tuple[TradingCore, dict, str, int]:
    """A paper desk with one cross-venue strategy on a pair whose YES-here + NO-on-Kalshi costs 0.90."""
    market = sim.market(neg_risk=False)
    ticker = binary_tickers(sim)[0]
    bid = _kalshi_bid(sim, ticker)
    ask = bid - 10  # this market's YES at 10 cents under Kalshi's YES bid: a pair costs 0.90 before fees
    assert ask >= 15, f"the seeded Kalshi market's bid ({bid}c) leaves no room for the test's prices"
    set_book(sim, market, ("SELL", f"{ask / 100:.2f}", "200"), ("BUY", f"{(ask - 2) / 100:.2f}", "200"))
    db_path = tmp / "x.db"
    migrate(db_path)
    db = Database(db_path)
    with db.write() as conn:
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by) VALUES ('xa', 'cross_venue_arb', :p, :m, 1, 0, 0, 'test')"""),
                     {"p": json.dumps({**ARB, **(params or {})}), "m": json.dumps([market["condition_id"]])})
        for name, value in (limits or {}).items():
            conn.execute(text("INSERT INTO risk_limits (name, value, version, updated_at, updated_by) "
                              "VALUES (:n, :v, 1, 0, 'test')"), {"n": name, "v": value})
    add_pair(db, condition_id=market["condition_id"], kalshi_ticker=ticker, inverted=False,
             polymarket_question="q", kalshi_title="Kalshi's question", warnings=[], actor="test")
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "SIMULATOR_PORT": str(sim.port),
                              "TRADER_DB": str(db_path)})
    return TradingCore(settings, db), market, ticker, ask


async def _started(core: TradingCore, market: dict, ticker: str) -> None:
    await core.start(operator=True)
    core.gate.unblock()
    await core._stop_loop()  # ticked by hand
    for _ in range(300):  # both venues' books read
        poly, kalshi = core.books.book(market["yes_token_id"]), core.books.book(kalshi_ids.token_id(ticker, "no"))
        if poly is not None and poly.asks and kalshi is not None and kalshi.asks:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the two venues' books were never read")


async def _settled(core: TradingCore, done: Any) -> None:
    """Both paper venues advanced until `done()` (bounded)."""
    for _ in range(300):
        paper_venue(core).advance()
        core.executor.drain()
        if (kalshi := core.ledgers.get(KALSHI)) is not None:
            kalshi.executor.venue.advance()  # type: ignore[attr-defined]  # Kalshi's paper ledger: a PaperVenue
            kalshi.executor.drain()
        if done():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("never settled")


def _orders(core: TradingCore) -> list[tuple]:
    with core.db.read() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT venue, mode, token_id, side, price, size, tif FROM orders WHERE strategy = 'xa' ORDER BY id"))]


def test_a_cross_venue_edge_buys_one_side_on_each_venue(tmp_path: Path, sim: SimHandle) -> None:
    core, market, ticker, ask = _desk(tmp_path, sim)
    no = kalshi_ids.token_id(ticker, "no")

    async def scenario() -> tuple[int, int]:
        await _started(core, market, ticker)
        kalshi = core.ledgers.get(KALSHI)
        assert kalshi is not None and kalshi.strategies == {"xa"}  # the Kalshi leg's ledger opened
        await core.tick()

        def both() -> bool:
            return bool(core.executor.state.totals("xa", market["yes_token_id"]).settled
                        and kalshi.executor.state.totals("xa", no).settled)

        await _settled(core, both)
        for _ in range(3):  # further passes: nothing uneven to unwind, no second attempt past the edge's depth
            await core.tick()
            await _settled(core, lambda: True)
        held = (core.executor.state.totals("xa", market["yes_token_id"]).size,
                kalshi.executor.state.totals("xa", no).size)
        await core.stop()
        return held

    here, there = asyncio.run(scenario())
    assert here == there and here >= SH  # the same count on each venue
    placed = _orders(core)
    yes_legs = [o for o in placed if o[0] == "polymarket"]
    no_legs = [o for o in placed if o[0] == "kalshi"]
    assert yes_legs and no_legs and len(yes_legs) == len(no_legs)
    assert {(o[2], o[3], o[6]) for o in yes_legs} == {(market["yes_token_id"], "BUY", "FAK")}
    assert {(o[2], o[3], o[6]) for o in no_legs} == {(no, "BUY", "FAK")}
    assert all(o[4] <= ask * MICRO // 100 for o in yes_legs)  # never above the ask it priced
    with core.db.read() as conn:
        sells = conn.execute(text("SELECT COUNT(*) FROM orders WHERE strategy = 'xa' AND side = 'SELL'")).scalar_one()
        partial = conn.execute(text("SELECT COUNT(*) FROM alerts WHERE code = 'ARB_PARTIAL'")).scalar_one()
    assert sells == 0 and partial == 0


def test_a_leg_that_filled_alone_is_unwound_on_its_own_ledger(tmp_path: Path, sim: SimHandle) -> None:
    core, market, ticker, ask = _desk(tmp_path, sim, params={"margin": 0.45})  # it sees no edge of its own
    yes = market["yes_token_id"]

    async def scenario() -> int:
        await _started(core, market, ticker)
        core.deciding = False
        await core.tick()
        info = core.catalog.get(market["condition_id"])
        assert info is not None
        # The Polymarket leg filled, the Kalshi leg did not (its liquidity went first): 10 YES unhedged.
        await core.executor.place_now([("xa", info, OrderSpec(yes, info.outcome_of(yes), Side.BUY, ask * MICRO // 100,
                                                              10 * SH, Tif.FAK), "cross-venue arbitrage")])
        await _settled(core, lambda: core.executor.state.totals("xa", yes).settled == 10 * SH)
        core.deciding = True
        for _ in range(60):  # the next passes see the legs uneven and sell the excess once settled
            await core.tick()
            await _settled(core, lambda: True)
            if not core.executor.state.totals("xa", yes).size:
                break
        held = core.executor.state.totals("xa", yes).size
        await core.stop()
        return held

    held = asyncio.run(scenario())
    assert held == 0
    with core.db.read() as conn:
        sells = conn.execute(text("SELECT venue, token_id FROM orders WHERE strategy = 'xa' AND side = 'SELL'")).all()
        alerts = conn.execute(text("SELECT message FROM alerts WHERE code = 'ARB_PARTIAL'")).scalars().all()
        decisions = conn.execute(text("SELECT reason FROM decisions WHERE strategy = 'xa'")).scalars().all()
    assert {tuple(s) for s in sells} == {("polymarket", yes)}  # sold where it was held
    assert len(alerts) == 1 and "cross-venue" in alerts[0]
    assert "GROUP_INCOMPLETE" in decisions  # the decisions log says so


def test_a_leg_its_venue_refuses_keeps_the_other_from_being_sent(tmp_path: Path, sim: SimHandle) -> None:
    core, market, ticker, _ = _desk(tmp_path, sim)

    async def scenario() -> None:
        await _started(core, market, ticker)
        kalshi = core.ledgers.get(KALSHI)
        assert kalshi is not None
        # Kalshi's ledger halted by its own breaker: its leg is refused there, Polymarket's would pass.
        kalshi.risk.escalate(TradingState.HALTED, "DRAWDOWN", "a test's drawdown")
        for _ in range(3):
            await core.tick()
        await core.stop()

    asyncio.run(scenario())
    assert _orders(core) == []  # not the Polymarket leg alone
    with core.db.read() as conn:
        why = conn.execute(text("SELECT detail FROM decisions WHERE strategy = 'xa' "
                                "AND reason = 'GROUP_INCOMPLETE'")).scalars().all()
    assert why and "neither leg is sent" in why[0]


def test_both_legs_trade_one_money() -> None:
    class Ledger:
        def __init__(self, mode: str, strategies: set[str]) -> None:
            self.mode, self.live, self.strategies = mode, True, strategies
            self.risk, self.arbitrage = object(), object()

    class Hosted:
        def __init__(self, live: bool) -> None:
            self.live = live

    desk = cross_arbs.Site(Ledger("live", set()), object(), object())  # type: ignore[arg-type]  # stand-ins with what sites reads
    paper = Ledger("paper", set())
    said = cross_arbs.sites(desk, paper, Ledger("paper", {"xa"}), "xa", Hosted(live=True))  # type: ignore[arg-type]  # as above
    assert isinstance(said, str) and "both legs of an arbitrage trade one money" in said
    found = cross_arbs.sites(desk, paper, Ledger("paper", {"xa"}), "xa", Hosted(live=False))  # type: ignore[arg-type]  # as above
    assert not isinstance(found, str) and found[0].site is paper  # not promoted: both legs on paper
    assert isinstance(cross_arbs.sites(desk, paper, Ledger("live", set()), "xa", Hosted(live=True)), str)  # type: ignore[arg-type]  # as above


@pytest.mark.parametrize("outcome, inverted, side", [("YES", False, "no"), ("NO", False, "yes"),
                                                     ("YES", True, "yes"), ("NO", True, "no")])
def test_the_kalshi_leg_is_the_side_that_pays_when_this_one_loses(outcome: str, inverted: bool, side: str) -> None:
    assert complement_side(outcome, inverted) == side


def test_a_cross_venue_strategy_names_polymarket_markets_only() -> None:
    from contracts.market_filter import validate_market_spec

    said = validate_market_spec(["kalshi:KXTEST-1"], "cross_venue_arb")
    assert "names the Polymarket markets you paired with Kalshi" in said["markets"]
    assert validate_market_spec(["0xabc"], "cross_venue_arb") == {}
    assert validate_market_spec(["kalshi:KXTEST-1"], "market_making") == {}  # another kind may trade Kalshi alone


def test_a_leg_uneven_by_less_than_the_minimum_is_shown_as_dust_and_taken_off_the_next_pair(
        tmp_path: Path, sim: SimHandle) -> None:
    """The Polymarket leg filled at a better price than its limit: a fraction of a share more than the
    Kalshi leg (0.065, as measured), which no order can sell. It is said once as dust with its reason,
    never sold, and the next pair's Polymarket leg is that much smaller, so the legs end even to a lot."""
    core, market, ticker, ask = _desk(tmp_path, sim)
    yes, no = market["yes_token_id"], kalshi_ids.token_id(ticker, "no")

    async def scenario() -> tuple[int, int, list[int]]:
        await _started(core, market, ticker)
        kalshi = core.ledgers.get(KALSHI)
        assert kalshi is not None
        core.deciding = False
        await core.tick()
        info, theirs = core.catalog.get(market["condition_id"]), kalshi.catalog.get(kalshi_ids.market_id(ticker))
        assert info is not None and theirs is not None
        await core.executor.place_now([("xa", info, OrderSpec(yes, info.outcome_of(yes), Side.BUY,
                                                              ask * MICRO // 100, 10 * SH, Tif.FAK), "test")])
        await kalshi.executor.place_now([("xa", theirs, OrderSpec(no, theirs.outcome_of(no), Side.BUY,
                                                                  (100 - ask) * MICRO // 100, 10 * SH, Tif.FAK),
                                          "test")])
        await _settled(core, lambda: core.executor.state.totals("xa", yes).settled == 10 * SH
                       and kalshi.executor.state.totals("xa", no).settled == 10 * SH)
        held = core.executor.state.totals("xa", yes)  # the price improvement's extra fraction of a share
        core.executor.state.set_position("xa", yes, market["condition_id"], info.outcome_of(yes),
                                         replace(held, settled=held.settled + 65_000))
        with core.db.write() as conn:  # in the ledger as in its mirror
            conn.execute(text("UPDATE positions SET settled = settled + 65000 WHERE strategy = 'xa' AND "
                              "token_id = :t AND mode = 'paper'"), {"t": yes})
        core.deciding = True
        for _ in range(4):
            await core.tick()
            await _settled(core, lambda: True)
        legs = [o[5] for o in _orders(core) if o[6] == "FAK" and o[3] == "BUY"]
        here, there = core.executor.state.totals("xa", yes).size, kalshi.executor.state.totals("xa", no).size
        await core.stop()
        return here, there, legs

    here, there, legs = asyncio.run(scenario())
    assert here - there == 65_000  # 9.94 YES at this price is no amount the venue takes: the dust stays, said
    assert len(set(legs)) == 1  # never a leg sized off to a whole share less (that would unbalance the other)
    with core.db.read() as conn:
        sells = conn.execute(text("SELECT COUNT(*) FROM orders WHERE strategy = 'xa' AND side = 'SELL'")).scalar_one()
        dust = conn.execute(text("SELECT message FROM alerts WHERE code = 'ARB_DUST'")).scalars().all()
    assert sells == 0
    assert len(dust) == 1 and "0.065" in dust[0] and "below the market's minimum order" in dust[0]


def test_the_next_pair_takes_a_legs_dust_off_where_the_venue_can_express_it() -> None:
    """0.065 YES beyond the Kalshi leg: the next pair's Polymarket leg is 0.06 smaller at a price where
    that amount is legal; at one where it is not, it is left whole (the dust stays, said as such)."""
    from types import SimpleNamespace

    from contracts.domain import MarketInfo, Outcome
    from engine.execution.ledger import PositionTotals
    from engine.execution.state import ExecutionState

    market = MarketInfo(condition_id="c", question="?", yes_token="Y", no_token="N", tick=10_000, min_size=5 * SH)
    poly, theirs = ExecutionState("paper"), ExecutionState("paper", "kalshi")
    poly.set_position("xa", "Y", "c", Outcome.YES, PositionTotals(settled=10 * SH + 65_000))
    theirs.set_position("xa", "kalshi:K:no", "kalshi:K", Outcome.NO, PositionTotals(settled=10 * SH))

    def site(state: ExecutionState) -> Any:
        return SimpleNamespace(site=SimpleNamespace(executor=SimpleNamespace(state=state)))

    decided = SimpleNamespace(strategy="xa", desk=site(poly), paired=site(theirs))
    legal = OrderSpec("Y", Outcome.YES, Side.BUY, 500_000, 10 * SH, Tif.FAK)
    assert cross_arbs._absorbing(decided, market, legal, "kalshi:K:no").size == 10 * SH - 60_000  # type: ignore[arg-type]  # a stand-in with what it reads
    awkward = replace(legal, price=260_000)  # 9.94 x 0.26 is no amount the venue takes
    assert cross_arbs._absorbing(decided, market, awkward, "kalshi:K:no") == awkward  # type: ignore[arg-type]  # as above

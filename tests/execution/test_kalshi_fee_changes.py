"""Kalshi's scheduled fee changes on the paper ledger: a market's fee settings carry the changes Kalshi
lists for its series and for its event's override of them (contracts/kalshi_fees.py FeeSchedule, kept
with the pair as JSON), and a paper fill pays the settings in force at its own time: the old ones a
millisecond before the change, the new ones a millisecond after, with no read in between; an event's
override takes precedence over its series' settings while it is in force, and once cleared the series'
apply again. Backtests (before the read) and the arbitrage's edge read the same schedule."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from contracts.domain import Intent, Quote, Side, Tif
from contracts.kalshi_fee_store import schedule_json
from contracts.kalshi_fees import EventFeeChange, FeeChange, FeeSchedule, KalshiFees
from contracts.kalshi_ids import market_id
from contracts.venues import KALSHI, POLYMARKET
from engine.execution.executor import Executor
from engine.feeds.catalog import kalshi_market
from engine.strategies.cross_venue_arb import CrossVenueArb
from engine.venues.paper import PaperConfig
from tests.desk import Desk, make_desk
from tests.execution.fakes import SH, p
from tests.execution.test_venue_ledgers import START, kalshi_side
from tests.strategies.builders import book, info, snap, state, view

TICKER = "KXTEST-26"
QUADRATIC, DOUBLED = KalshiFees("quadratic", 1_000_000), KalshiFees("quadratic", 2_000_000)


@pytest.fixture
def desk(tmp_path: Path) -> Desk:
    return make_desk(tmp_path / "d.db", config=PaperConfig(starting_cash=START))


def _kalshi(desk: Desk, change_at: int) -> Executor:
    """A Kalshi paper ledger on a market as the catalog reads it from its pair: its series read (at
    quadratic, x1) before a change to x2 that Kalshi scheduled for `change_at`."""
    row = {"ticker": TICKER, "title": "Kalshi: test?", "fee_type": "quadratic", "fee_multiplier_ppm": 1_000_000,
           "fee_changes": schedule_json((FeeChange(change_at, DOUBLED),), desk.clock() - 60_000)}
    return kalshi_side(desk, market=kalshi_market(row)).executor


def _take(desk: Desk, executor: Executor) -> None:
    cid = f"kalshi:{TICKER}"
    executor.set_intents([Intent("arb", cid, (Quote(Side.BUY, p(0.40), 10 * SH, Tif.FAK),))])
    desk.run(executor.reconcile())
    executor.drain()
    executor.set_intents([])
    desk.run(executor.reconcile())
    executor.drain()


def test_a_paper_fill_pays_the_fee_in_force_at_its_own_time_either_side_of_a_scheduled_change(desk: Desk) -> None:
    change_at = desk.clock() + 1_000
    executor = _kalshi(desk, change_at)
    desk.books.set(f"kalshi:{TICKER}:yes", bids=[(0.38, 500)], asks=[(0.40, 500)])
    desk.clock.advance(999)  # a millisecond before the change: the old settings
    _take(desk, executor)
    desk.clock.advance(2)  # a millisecond after it, the series never read again: the new ones
    _take(desk, executor)
    # 0.07 x 10 x 0.40 x 0.60 = $0.1680 at x1, $0.3360 at x2 (both exact to $0.0001: no rounding fee)
    assert desk.rows("SELECT fee FROM fills ORDER BY id") == [(168_000,), (336_000,)]
    assert executor.state.cash == START - 8 * SH - 168_000 - 336_000


def test_a_schedule_gives_the_settings_in_force_at_a_time_after_and_before_its_read() -> None:
    schedule = FeeSchedule(QUADRATIC, (FeeChange(5_000, DOUBLED),), read_at_ms=1_000)
    assert [schedule.at(t) for t in (1_000, 4_999, 5_000, 9_000)] == [QUADRATIC, QUADRATIC, DOUBLED, DOUBLED]
    # a backtest before the read: the series read at 9,000 already shows a change made at 5,000; before
    # it, the settings are not known, and paper charges the dearest known ones rather than flatter
    read_later = FeeSchedule(DOUBLED, (FeeChange(5_000, DOUBLED),), read_at_ms=9_000)
    assert [read_later.at(t) for t in (4_999, 5_000, 9_500)] == [KalshiFees(), DOUBLED, DOUBLED]
    assert FeeSchedule(QUADRATIC, (), read_at_ms=9_000).at(1) == QUADRATIC  # no change: the read holds


def test_the_arbitrage_prices_its_edge_with_the_fees_in_force_when_it_decides() -> None:
    """0.40 here + 0.55 for Kalshi's NO locks in about 3 cents a pair at Kalshi's x1 fees (1.73 cents a
    contract at 0.55); from the x4 Kalshi scheduled (6.93 cents) it loses: the same books, decided a
    millisecond either side of the change, trade and then do not."""
    change_at = 1_700_000_000_000
    kalshi = info(market_id(TICKER), kalshi_fee_type="quadratic", kalshi_fee_multiplier_ppm=1_000_000,
                  kalshi_fee_changes=((change_at, "quadratic", 4_000_000),), kalshi_fees_read_at=change_at - 60_000)
    here = replace(view("c1", yes=book(asks=[("0.40", 100)]), no=book(asks=[("0.62", 100)])), pair=(kalshi.condition_id,
                                                                                                   False))
    theirs = view(kalshi.condition_id, market=kalshi, yes=book(asks=[("0.62", 100)]), no=book(asks=[("0.55", 100)]))
    arb = CrossVenueArb("arb", {"margin": 0.005, "max_size": 10, "max_capital": 100})
    funded = replace(state("arb", cash=1_000), venue_cash={POLYMARKET: 1_000 * SH, KALSHI: 1_000 * SH})

    def legs(now_ms: int) -> int:
        return sum(len(i.quotes) for i in arb.decide(snap(here, theirs, now_ms=now_ms), funded, now_ms))

    assert (legs(change_at - 1), legs(change_at)) == (2, 0)


TRIPLED = KalshiFees("quadratic", 3_000_000)


def _event_market(desk: Desk, override_at: int, cleared_at: int) -> Executor:
    """A Kalshi paper ledger on a market whose series pays quadratic x1 (read a minute ago) and whose
    event Kalshi scheduled an override for: x3 from `override_at`, cleared at `cleared_at`."""
    kept = schedule_json((), desk.clock() - 60_000, event_changes=(EventFeeChange(override_at, TRIPLED),
                                                                   EventFeeChange(cleared_at, None)))
    row = {"ticker": TICKER, "title": "Kalshi: test?", "fee_type": "quadratic", "fee_multiplier_ppm": 1_000_000,
           "fee_changes": kept}
    return kalshi_side(desk, market=kalshi_market(row)).executor


def test_a_paper_fill_pays_an_events_override_from_its_time_and_the_series_fee_once_it_is_cleared(
        desk: Desk) -> None:
    override_at, cleared_at = desk.clock() + 1_000, desk.clock() + 5_000
    executor = _event_market(desk, override_at, cleared_at)
    desk.books.set(f"kalshi:{TICKER}:yes", bids=[(0.38, 500)], asks=[(0.40, 500)])
    for step in (999, 2, 3_998, 2):  # either side of the override's time, then of its clearing
        desk.clock.advance(step)
        _take(desk, executor)
    # $0.1680 at the series' x1, $0.5040 under the event's x3, $0.1680 again once the override is cleared
    assert desk.rows("SELECT fee FROM fills ORDER BY id") == [(168_000,), (504_000,), (504_000,), (168_000,)]


def test_an_events_override_stands_over_the_series_and_its_changes_before_and_after_the_read() -> None:
    """Read at 10,000 with the event's x3 in force (the series' own x1 kept beside it): the override
    holds over a series change to x2 at 12,000 until Kalshi clears it at 20,000, and the series' x2 then
    applies. Before the read (a backtest): an override known to have started at 8,000 applies from then;
    before it, with nothing known of what the event paid, the dearest known settings."""
    schedule = FeeSchedule(TRIPLED, (FeeChange(12_000, DOUBLED),), read_at_ms=10_000, series_base=QUADRATIC,
                           event_changes=(EventFeeChange(8_000, TRIPLED), EventFeeChange(20_000, None)))
    assert [schedule.at(t) for t in (10_000, 12_000, 19_999, 20_000)] == [TRIPLED, TRIPLED, TRIPLED, DOUBLED]
    assert [schedule.at(t) for t in (7_999, 8_000, 9_999)] == [KalshiFees(), TRIPLED, TRIPLED]
    unread = FeeSchedule(QUADRATIC, (), read_at_ms=10_000, event_changes=(EventFeeChange(15_000, TRIPLED),))
    assert [unread.at(t) for t in (5_000, 14_999, 15_000)] == [QUADRATIC, QUADRATIC, TRIPLED]  # none before
    kept = kalshi_market({"ticker": TICKER, "title": "t", "fee_type": "quadratic", "fee_multiplier_ppm": 3_000_000,
                          "fee_changes": schedule_json((FeeChange(12_000, DOUBLED),), 10_000, series_base=QUADRATIC,
                                                       event_changes=schedule.event_changes)})
    from contracts.kalshi_fees import market_fees_at  # what paper, backtests and the arbitrage read

    assert [market_fees_at(kept, t) for t in (9_000, 19_999, 20_000)] == [TRIPLED, TRIPLED, DOUBLED]


def test_the_arbitrage_prices_its_edge_with_an_events_override_from_its_time() -> None:
    """The books of the arbitrage test above, Kalshi's series at x1 throughout: an override of x4 on
    the event, scheduled for `override_at`, turns the edge from a trade to none at that millisecond."""
    override_at = 1_700_000_000_000
    kalshi = info(market_id(TICKER), kalshi_fee_type="quadratic", kalshi_fee_multiplier_ppm=1_000_000,
                  kalshi_event_fee_changes=((override_at, "quadratic", 4_000_000),),
                  kalshi_fees_read_at=override_at - 60_000)
    here = replace(view("c1", yes=book(asks=[("0.40", 100)]), no=book(asks=[("0.62", 100)])), pair=(kalshi.condition_id,
                                                                                                   False))
    theirs = view(kalshi.condition_id, market=kalshi, yes=book(asks=[("0.62", 100)]), no=book(asks=[("0.55", 100)]))
    arb = CrossVenueArb("arb", {"margin": 0.005, "max_size": 10, "max_capital": 100})
    funded = replace(state("arb", cash=1_000), venue_cash={POLYMARKET: 1_000 * SH, KALSHI: 1_000 * SH})

    def legs(now_ms: int) -> int:
        return sum(len(i.quotes) for i in arb.decide(snap(here, theirs, now_ms=now_ms), funded, now_ms))

    assert (legs(override_at - 1), legs(override_at)) == (2, 0)

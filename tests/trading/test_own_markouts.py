"""Each strategy's own markouts, measured as the loop runs: a fill is marked against the YES mid
seen at or before each horizon, in YES space, per strategy and market; a horizon with no mid seen
is dropped; a real engine hands them to the strategy that filled."""

from __future__ import annotations

from contracts.domain import MarketInfo, Outcome, Side
from engine.execution.bus import FillApplied
from engine.feeds.books import BookCache
from engine.feeds.catalog import MarketCatalog
from engine.trading.own_markouts import OwnMarkouts
from engine.venues.base import TradeStatus

SH = 1_000_000
C1 = MarketInfo("c1", "?", "Y1", "N1", tick=10_000, min_size=5 * SH)


def _fill(strategy: str, side: Side, price: int, at: int, outcome: Outcome = Outcome.YES) -> FillApplied:
    token = C1.yes_token if outcome is Outcome.YES else C1.no_token
    return FillApplied(1, f"t{at}", strategy, "c1", token, outcome, side, price, 10 * SH, 0, "maker",
                       TradeStatus.MATCHED, at, at)


def _mid(books: BookCache, mid: int, at: int) -> None:
    books.apply_snapshot(C1.yes_token, [(mid - 10_000, SH)], [(mid + 10_000, SH)], at)


def test_each_horizon_is_marked_against_the_mid_seen_then_in_yes_space() -> None:
    books = BookCache()
    tracker = OwnMarkouts(books, MarketCatalog([C1]))
    _mid(books, 500_000, 0)
    tracker.on_fill(_fill("mm", Side.BUY, 500_000, 0))
    tracker.on_fill(_fill("mm", Side.BUY, 480_000, 0, Outcome.NO))  # a NO bought at 0.48: YES sold at 0.52
    tracker.on_fill(_fill("other", Side.SELL, 500_000, 0))
    for at, mid in ((500, 490_000), (1_200, 470_000), (9_000, 460_000), (10_500, 450_000)):
        _mid(books, mid, at)
        tracker.observe(at)
    marks = tracker.recent("mm", ["c1"])["c1"]
    # 1 s: the mid seen at or before 1 s is 0.49 (sampled at 0.5 s); 10 s: 0.46 (sampled at 9 s)
    assert [(m.horizon_ms, m.side, m.price, m.later_mid, m.per_share) for m in marks] == [
        (1_000, Side.BUY, 500_000, 490_000, -10_000), (1_000, Side.SELL, 520_000, 490_000, 30_000),
        (10_000, Side.BUY, 500_000, 460_000, -40_000), (10_000, Side.SELL, 520_000, 460_000, 60_000)]
    assert [m.per_share for m in tracker.recent("other", ["c1"])["c1"]] == [10_000, 40_000]
    assert tracker.pending  # 60 s still ahead
    _mid(books, 400_000, 61_000)
    tracker.observe(61_000)
    assert not tracker.pending
    assert [m.later_mid for m in tracker.recent("mm", ["c1"])["c1"] if m.horizon_ms == 60_000] == [450_000] * 2
    assert tracker.mids["c1"] == [(61_000, 400_000)]  # only the last mid is kept between fills


def test_a_horizon_with_no_mid_seen_is_dropped_and_the_kept_markouts_are_bounded() -> None:
    books = BookCache()
    tracker = OwnMarkouts(books, MarketCatalog([C1]))
    tracker.on_fill(_fill("mm", Side.BUY, 500_000, 0))  # no book yet: nothing to mark against
    _mid(books, 500_000, 70_000)
    tracker.observe(70_000)
    assert tracker.recent("mm", ["c1"]) == {} and not tracker.pending
    for n in range(200):
        tracker.on_fill(_fill("mm", Side.BUY, 500_000, 100_000 + n))
    tracker.observe(200_000)
    assert len(tracker.recent("mm", ["c1"])["c1"]) == 64 * 3

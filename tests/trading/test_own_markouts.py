"""Each strategy's own markouts, measured as the loop runs: a fill is marked against the YES mid
seen at or before each horizon, in YES space, per strategy and market; a horizon with no mid seen
is dropped; a real engine hands them to the strategy that filled."""

from __future__ import annotations

from contracts.domain import MarketInfo, Outcome, Side
from engine.execution.bus import FillApplied
from engine.feeds.books import BookCache
from engine.feeds.catalog import MarketCatalog
from engine.trading.hosting.own_markouts import OwnMarkouts
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


def test_a_restart_restores_the_markouts_the_job_wrote_once_per_mode(tmp_path) -> None:  # noqa: ANN001
    import sqlite3

    from storage.sqlite.db import Database
    from storage.sqlite.migrations import migrate

    migrate(tmp_path / "t.db")
    with sqlite3.connect(tmp_path / "t.db") as conn:
        conn.execute("""INSERT INTO orders (id, client_id, mode, strategy, condition_id, token_id, outcome, side, price,
                            size, tif, status, status_rank, created_at, updated_at)
                        VALUES (1, 'c1', 'paper', 'mm', 'c1', 'N1', 'NO', 'BUY', 480000, 10000000, 'GTC', 'FILLED',
                                9, 0, 0)""")
        for fill_id, at, status in ((1, 30_000_000, "CONFIRMED"), (2, 30_050_000, "FAILED"), (3, 1, "CONFIRMED")):
            conn.execute("""INSERT INTO fills (id, trade_id, order_id, mode, strategy, condition_id, token_id, outcome,
                                side, price, size, liquidity, status, status_rank, matched_at, updated_at)
                            VALUES (?, ?, 1, 'paper', 'mm', 'c1', 'N1', 'NO', 'BUY', 480000, 10000000, 'MAKER', ?, 3,
                                    ?, 0)""", (fill_id, f"t{fill_id}", status, at))
            conn.execute("""INSERT INTO fill_markouts (fill_id, horizon, mode, strategy, condition_id, notional, mid,
                                markout, computed_at)
                            VALUES (?, '10s', 'paper', 'mm', 'c1', 4800000, 450000, -300000, 0)""", (fill_id,))
    db = Database(tmp_path / "t.db")
    tracker = OwnMarkouts(BookCache(), MarketCatalog([C1]))
    now = 30_000_000 + 3_600_000
    assert tracker.restore(db, "paper", now) == 1  # not the failed fill, nor one older than six hours
    [mark] = tracker.recent("mm", ["c1"])["c1"]
    # a NO bought at 0.48, its mid 0.45 ten seconds on: YES sold at 0.52, the YES mid 0.55
    assert (mark.side, mark.price, mark.later_mid, mark.horizon_ms, mark.per_share) == (
        Side.SELL, 520_000, 550_000, 10_000, -30_000)
    assert tracker.restore(db, "paper", now) == 0 and len(tracker.recent("mm", ["c1"])["c1"]) == 1  # once
    assert tracker.restore(db, "live", now) == 0 and tracker.recent("mm", ["c1"]) == {}  # another mode: afresh
    db.dispose()

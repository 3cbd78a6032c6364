"""The alerts a trader away from the screen needs: once per episode, and once more when it
ends; a burst of refusals once a minute; a large fill each time; all from the engine's own
reports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from contracts.domain import Intent, Quote, Side, Tif
from engine.trading.lookouts.watch import Thresholds, Watch
from tests.desk import make_desk
from tests.execution.fakes import SH, p


def _watch(**thresholds: object) -> tuple[Watch, list[tuple[str, str, str]]]:
    raised: list[tuple[str, str, str]] = []
    watch = Watch(lambda level, code, message: raised.append((level, code, message)))
    watch.configure(Thresholds(**thresholds))  # type: ignore[arg-type]  # the thresholds each test sets
    return watch, raised


def test_feed_down_is_raised_once_after_the_threshold_and_cleared_once() -> None:
    watch, raised = _watch(feed_down_s=30)
    watch.feed_ages([0, 40_000], 0)  # one book current at t=0: the feed is up
    watch.feed_ages([20_000, None], 20_000)  # nothing since t=0
    watch.feed_ages([29_999, None], 29_999)
    assert raised == []
    watch.feed_ages([31_000, None], 31_000)
    watch.feed_ages([40_000, None], 40_000)
    assert [c for _, c, _ in raised] == ["FEED_DOWN"]
    watch.feed_ages([10, None], 41_000)
    watch.feed_ages([10, None], 42_000)
    assert [c for _, c, _ in raised] == ["FEED_DOWN", "FEED_DOWN_CLEARED"]
    watch.feed_ages([], 100_000)  # nothing subscribed: nothing to say
    assert len(raised) == 2


def test_a_frozen_market_channel_is_raised_at_once_said_once_and_cleared_once() -> None:
    watch, raised = _watch(feed_down_s=30)
    watch.feed_frozen(None, 0)
    watch.feed_frozen(1_000, 7_000)  # found frozen: silent since t=1 s
    watch.feed_frozen(1_000, 9_000)  # still (reconnected, resynced, still silent)
    assert [(lv, c) for lv, c, _ in raised] == [("warning", "FEED_FROZEN")]
    assert "no book data for 6 s" in raised[0][2]
    watch.feed_frozen(None, 12_000)  # data flows again
    watch.feed_frozen(None, 13_000)
    assert [c for _, c, _ in raised] == ["FEED_FROZEN", "FEED_FROZEN_CLEARED"]


def test_venue_unreachable_collateral_and_large_fills() -> None:
    watch, raised = _watch(feed_down_s=10, low_collateral_usdc=100.0, large_fill_usdc=50.0)
    watch.venue_unreachable(0, 5_000)
    watch.venue_unreachable(0, 10_000)
    watch.venue_unreachable(None, 11_000)
    watch.collateral_now(99 * SH, 0)
    watch.collateral_now(98 * SH, 1)
    watch.collateral_now(101 * SH, 2)
    watch.filled("mm", p(0.5), 99 * SH, "BUY YES")
    watch.filled("mm", p(0.5), 100 * SH, "BUY YES")
    assert [(lv, c) for lv, c, _ in raised] == [
        ("critical", "VENUE_UNREACHABLE"), ("info", "VENUE_UNREACHABLE_CLEARED"),
        ("warning", "LOW_COLLATERAL"), ("info", "LOW_COLLATERAL_CLEARED"), ("warning", "LARGE_FILL")]


def test_refusals_in_a_burst_raise_once_a_minute(tmp_path: Path) -> None:
    watch, raised = _watch(refusal_burst=3)
    desk = make_desk(tmp_path / "d.db")
    watch.listen(desk.executor.bus, desk.clock)
    watch.configure(Thresholds(refusal_burst=3, large_fill_usdc=4.0))
    desk.books.set("Y1", bids=[(0.48, 100)], asks=[(0.52, 100)])
    crossing = Intent("mm", "c1", (Quote(Side.BUY, p(0.52), 10 * SH, Tif.GTC, True),))  # post-only would cross
    for _ in range(4):
        desk.executor.set_intents([crossing])
        desk.run(desk.executor.reconcile())
        desk.settle()
        desk.clock.advance(1_000)
    assert [c for _, c, _ in raised] == ["REFUSAL_BURST"]
    desk.executor.set_intents([Intent("v", "c1", (Quote(Side.BUY, p(0.52), 10 * SH, Tif.FAK),))])
    desk.run(desk.executor.reconcile())
    desk.settle()
    assert [c for _, c, _ in raised] == ["REFUSAL_BURST", "LARGE_FILL"]  # 10 x 0.52 = 5.20 pUSD
    desk.loop.close()
    desk.db.dispose()


def test_feed_down_comes_at_the_threshold_counted_from_the_last_delivery() -> None:
    """Issue 27: a 30 s threshold raised FEED_DOWN ~60 s after the feed's last message, since the
    episode was counted from the first check that saw the book past the threshold. Checked every
    5 s (the core's pass), the alert now comes on the first check past 30 s of silence."""
    watch, raised = _watch(feed_down_s=30)
    last_delivery = 1_000
    times: list[Any] = []
    for now in range(0, 70_000, 5_000):
        watch.feed_ages([max(0, now - last_delivery)], now)
        if raised and not times:
            times.append(now)
    assert [c for _, c, _ in raised] == ["FEED_DOWN"]
    assert times == [35_000]  # the first check more than 30 s after t=1 s (it was 65 s)


def test_a_feed_that_never_delivered_is_down_after_the_threshold_from_the_first_look() -> None:
    watch, raised = _watch(feed_down_s=30)
    watch.feed_ages([None], 100_000)
    watch.feed_ages([None], 129_000)
    assert raised == []
    watch.feed_ages([None], 130_000)
    assert [c for _, c, _ in raised] == ["FEED_DOWN"]

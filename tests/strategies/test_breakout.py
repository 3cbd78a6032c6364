"""Breakout: after watching a whole window, a mid beyond its high (low) by the margin arms an entry
taken at the touch while it holds; a faded breakout is dropped; the position is left to the exits."""

from __future__ import annotations

from contracts.domain import Quote, Side, Snapshot, Tif
from engine.strategies.breakout import Breakout
from tests.strategies.builders import book, order, px, sh, snap, state, view

BASE = {"window_s": 60, "margin": 0.02, "size": 20}


def at(bid: str, ask: str) -> Snapshot:
    return snap(view(yes=book(bids=[(bid, 100)], asks=[(ask, 100)])))


def watched(strategy: Breakout, until_ms: int = 60_000) -> None:
    """A flat 0.50 mid every 5 s from 0 to `until_ms`."""
    for now in range(0, until_ms + 1, 5_000):
        [intent] = strategy.decide(at("0.49", "0.51"), state(), now)
        assert intent.quotes == ()


def test_a_break_above_the_windows_high_buys_and_then_leaves_the_position_to_the_exits() -> None:
    up = Breakout("b", BASE)
    watched(up)
    [entry] = up.decide(at("0.52", "0.54"), state(), 65_000)  # mid 0.53 >= 0.50 + 0.02
    assert entry.quotes == (Quote(Side.BUY, px("0.54"), sh(20), Tif.FAK),) and "above 0.52" in entry.reason
    [held] = up.decide(at("0.52", "0.54"), state(positions={"c1": 20}), 66_000)
    assert held.quotes == () and "entered" in held.reason
    [after] = up.decide(at("0.52", "0.54"), state(), 67_000)  # an exit sold it: no chase
    assert after.quotes == ()


def test_no_trade_before_a_whole_window_nor_after_a_breakout_fades() -> None:
    early = Breakout("b", BASE)
    watched(early, until_ms=30_000)
    [intent] = early.decide(at("0.52", "0.54"), state(), 35_000)
    assert intent.quotes == () and intent.reason == "no breakout"
    faded = Breakout("b", BASE)
    watched(faded)
    faded.decide(at("0.52", "0.54"), state(), 65_000)
    busy = state(orders=[order("c1", Side.BUY, "0.54", 20)])
    assert faded.decide(at("0.52", "0.54"), busy, 65_500) == []  # the take in flight: silent
    [back] = faded.decide(at("0.50", "0.52"), state(), 66_000)
    assert back.quotes == () and "faded" in back.reason


def test_a_break_below_sells_unless_only_up_is_traded_and_wide_books_are_not_watched() -> None:
    down = Breakout("b", BASE)
    watched(down)
    [intent] = down.decide(at("0.46", "0.48"), state(), 65_000)
    assert intent.quotes == (Quote(Side.SELL, px("0.46"), sh(20), Tif.FAK),)
    up_only = Breakout("b", {**BASE, "direction": "up"})
    watched(up_only)
    assert up_only.decide(at("0.46", "0.48"), state(), 65_000)[0].quotes == ()
    wide = Breakout("b", BASE)
    [blind] = wide.decide(at("0.40", "0.60"), state(), 0)
    assert blind.quotes == () and "max_spread" in blind.reason and wide.ranges == {}


def test_a_restart_keeps_the_window_it_watched() -> None:
    first = Breakout("b", BASE)
    watched(first)
    restarted = Breakout("b", BASE)
    restarted.recall(first.memory())
    [intent] = restarted.decide(at("0.52", "0.54"), state(), 65_000)
    assert intent.quotes
    restarted.recall({"ranges": {"c2": {"first_ms": 0, "buckets": [[5, 2_000_000, 0]]}}})  # unreadable: left out
    assert set(restarted.ranges) == {"c1"}

"""The hold on a strategy's takes in one market after a refused one: until the book changes, or
BACKOFF_MAX_MS; resting quotes and other strategies are not held; an arbitrage loses the whole set."""

from __future__ import annotations

from contracts.domain import Book, Intent, Level, MarketInfo, MarketView, Quote, Side, Tif
from engine.risk.groups import drop_groups
from engine.risk.take_backoff import BACKOFF_MAX_MS, TakeBackoff, book_signature, hold_takes

SH = 1_000_000
INFO = MarketInfo("m", "?", "Y", "N", tick=10_000, min_size=5 * SH)


def view(ask: float, size: float = 30, at: int = 0) -> MarketView:
    yes = Book("Y", (Level(150_000, 100 * SH),), (Level(round(ask * 1e6), round(size * SH)),), at)
    return MarketView(INFO, yes, yes.mirrored("N"))


def test_a_book_signature_ignores_time_and_sees_levels() -> None:
    assert book_signature(view(0.20, at=0)) == book_signature(view(0.20, at=99_000))
    assert book_signature(view(0.20)) != book_signature(view(0.19))
    assert book_signature(view(0.20, 30)) != book_signature(view(0.20, 29))


def test_takes_wait_until_the_book_changes_or_the_hold_runs_out() -> None:
    backoff = TakeBackoff()
    same = book_signature(view(0.20))
    backoff.refused("arb", "m", same, 1_000)
    assert backoff.held("arb", "m", same, 2_000) is not None
    assert backoff.held("other", "m", same, 2_000) is None  # per strategy
    assert backoff.held("arb", "m", same, 1_000 + BACKOFF_MAX_MS) is None  # tried again after the longest wait
    backoff.refused("arb", "m", same, 5_000)
    assert backoff.held("arb", "m", book_signature(view(0.19)), 6_000) is None  # the book changed: over
    assert backoff.held("arb", "m", same, 6_001) is None  # and it stays over


def test_only_takes_are_held_and_a_set_goes_whole() -> None:
    backoff = TakeBackoff()
    views = {"m": view(0.20)}
    backoff.refused("arb", "m", book_signature(views["m"]), 0)
    take = Quote(Side.BUY, 200_000, 30 * SH, Tif.FAK, group="g1")
    rest = Quote(Side.BUY, 150_000, 10 * SH, Tif.GTC)
    other_leg = Quote(Side.BUY, 200_000, 30 * SH, Tif.FAK, group="g1")
    asked = [Intent("arb", "m", (take, rest)), Intent("arb", "m2", (other_leg,))]
    kept, held = hold_takes(asked, backoff, views, 1_000)
    assert [i.quotes for i in kept] == [(rest,), (other_leg,)] and held == [(asked[0], take)]
    whole, dropped = drop_groups(asked, kept, {"g1"})
    assert [i.quotes for i in whole] == [(rest,), ()] and dropped == [(kept[1], other_leg)]

"""BookCache: ordering, freshness, timestamp discipline, listeners, and the captured
fixtures applied to a live book."""

from __future__ import annotations

import json
import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.domain import Level, Side
from engine.feeds.books import BookCache
from engine.feeds.market_data_events import BookChanged, TradePrint
from engine.venues.polymarket import parse

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "polymarket"
T = "tok"


def levels(book_side: tuple[Level, ...]) -> list[tuple[int, int]]:
    return [(lv.price, lv.size) for lv in book_side]


def set_level(cache: BookCache, side: Side, price: int, size: int, at_ms: int, ts_ms: int | None = None) -> bool:
    """One level change for T through the feed's path; True when it changed the book."""
    return cache.apply_changes([(T, side is Side.BUY, price, size)], at_ms, ts_ms) == [T]


def test_snapshot_is_best_first_whatever_the_wire_order() -> None:
    cache = BookCache()
    cache.apply_snapshot(T, [(480_000, 30), (10_000, 1000), (470_000, 5)], [(990_000, 7), (520_000, 25)], at_ms=100)
    book = cache.book(T)
    assert book is not None
    assert levels(book.bids) == [(480_000, 30), (470_000, 5), (10_000, 1000)]
    assert levels(book.asks) == [(520_000, 25), (990_000, 7)]
    assert book.updated_ms == 100 and book.mid == 500_000
    assert cache.best(T) == (Level(480_000, 30), Level(520_000, 25))
    assert levels(cache.book(T, depth=1).bids) == [(480_000, 30)]


def test_never_invents_prices_crossed_and_one_sided_books_stay_as_sent() -> None:
    cache = BookCache()
    cache.apply_snapshot(T, [(600_000, 1)], [(550_000, 1)], at_ms=1)
    crossed = cache.book(T)
    assert crossed.best_bid.price == 600_000 and crossed.best_ask.price == 550_000
    cache.apply_snapshot("one", [(400_000, 1)], [], at_ms=1)
    one_sided = cache.book("one")
    assert one_sided.asks == () and one_sided.mid is None and one_sided.spread is None
    assert cache.best("one") == (Level(400_000, 1), None)
    assert cache.book("unknown") is None and cache.best("unknown") == (None, None)


def test_levels_add_update_delete_and_a_delta_without_snapshot_is_ignored() -> None:
    cache = BookCache()
    assert set_level(cache, Side.BUY, 500_000, 10, at_ms=1) is False
    assert cache.book(T) is None
    cache.apply_snapshot(T, [(500_000, 10)], [(520_000, 5)], at_ms=1)
    assert set_level(cache, Side.BUY, 510_000, 3, at_ms=2)
    assert set_level(cache, Side.BUY, 500_000, 11, at_ms=3)
    assert set_level(cache, Side.SELL, 520_000, 0, at_ms=4)
    assert set_level(cache, Side.SELL, 530_000, 0, at_ms=5) is False  # deleting nothing changes nothing
    book = cache.book(T)
    assert levels(book.bids) == [(510_000, 3), (500_000, 11)] and book.asks == ()
    assert book.updated_ms == 4


def test_older_snapshot_and_older_level_updates_are_ignored() -> None:
    cache = BookCache()
    cache.apply_snapshot(T, [(500_000, 10)], [], at_ms=1, ts_ms=1_000)
    assert set_level(cache, Side.BUY, 500_000, 20, at_ms=2, ts_ms=1_005)
    assert not set_level(cache, Side.BUY, 500_000, 15, at_ms=3, ts_ms=1_003)  # older than that level's update
    assert not set_level(cache, Side.BUY, 490_000, 15, at_ms=3, ts_ms=999)  # older than the snapshot
    assert set_level(cache, Side.BUY, 490_000, 7, at_ms=3, ts_ms=1_004)  # late but newest for its level
    assert not cache.apply_snapshot(T, [(100_000, 1)], [], at_ms=4, ts_ms=1_004)  # older than the book's state
    assert levels(cache.book(T).bids) == [(500_000, 20), (490_000, 7)]
    assert cache.apply_snapshot(T, [(100_000, 1)], [], at_ms=5, ts_ms=1_005)
    assert levels(cache.book(T).bids) == [(100_000, 1)]
    assert cache.venue_ts(T) == 1_005


def test_a_deleted_level_is_not_resurrected_by_an_older_update() -> None:
    cache = BookCache()
    cache.apply_snapshot(T, [(500_000, 10)], [], at_ms=1, ts_ms=10)
    set_level(cache, Side.BUY, 500_000, 0, at_ms=2, ts_ms=20)
    assert not set_level(cache, Side.BUY, 500_000, 10, at_ms=3, ts_ms=15)
    assert cache.book(T).bids == ()


def test_confirm_bumps_freshness_without_touching_levels() -> None:
    cache = BookCache()
    cache.apply_snapshot(T, [(500_000, 10)], [], at_ms=100)
    first = cache.book(T)
    cache.confirm([T, "unknown"], at_ms=900)
    again = cache.book(T)
    assert again.updated_ms == 900 and again.bids == first.bids and again.age_ms(1_000) == 100
    cache.confirm([T], at_ms=50)  # never moves backwards
    assert cache.updated_ms(T) == 900


def test_frozen_books_are_snapshots() -> None:
    cache = BookCache()
    cache.apply_snapshot(T, [(500_000, 10)], [], at_ms=1)
    before = cache.book(T)
    assert cache.book(T) is before  # unchanged book: the same frozen object
    set_level(cache, Side.BUY, 500_000, 12, at_ms=2)
    assert levels(before.bids) == [(500_000, 10)] and levels(cache.book(T).bids) == [(500_000, 12)]


def test_listeners_get_one_event_per_touched_token_and_a_failing_listener_is_contained() -> None:
    cache = BookCache()
    seen: list[object] = []
    cache.add_listener(lambda e: (_ for _ in ()).throw(RuntimeError("bad listener")))
    cache.add_listener(seen.append)
    cache.apply_snapshot("a", [], [], at_ms=1)
    cache.apply_snapshot("b", [], [], at_ms=1)
    seen.clear()
    touched = cache.apply_changes([("a", True, 1, 1), ("a", True, 2, 1), ("b", False, 3, 1), ("zz", True, 1, 1)], 5)
    assert touched == ["a", "b"]
    assert seen == [BookChanged("a", 5), BookChanged("b", 5)]
    cache.apply_changes([("a", True, 1, 1)], 6)  # a duplicate changes nothing: no event
    assert len(seen) == 2
    trade = TradePrint("a", 500_000, 1, Side.BUY, 7)
    cache.record_trade(trade)
    assert cache.last_trade("a") == trade and seen[-1] == trade
    cache.drop("a")
    assert cache.book("a") is None and cache.last_trade("a") is None and cache.book("b") is not None


def test_fixtures_applied_to_a_book() -> None:
    cache = BookCache()
    snap = parse.book_snapshot(json.loads((FIXTURES / "ws/book.json").read_text()))
    cache.apply_snapshot(snap.token_id, snap.bids, snap.asks, at_ms=1, ts_ms=snap.ts_ms)
    book = cache.book(snap.token_id, depth=3)
    assert levels(book.bids) == [(511_000, 1_304_720_000), (510_000, 12_848_170_000), (509_000, 27_880_000)]
    assert levels(book.asks) == [(514_000, 20_230_870_000), (515_000, 43_551_960_000), (516_000, 28_605_550_000)]
    # The captured price_change is older than the captured book: it must not apply.
    change = parse.price_changes(json.loads((FIXTURES / "ws/price_change.json").read_text()))
    assert cache.apply_changes(change.changes, at_ms=2, ts_ms=change.ts_ms) == []
    # Without timestamps it is just a level total: the best ask's size is replaced.
    assert cache.apply_changes(change.changes, at_ms=2) == [snap.token_id]
    assert cache.best(snap.token_id)[1] == Level(514_000, 21_574_080_000)
    v2 = parse.price_changes(json.loads((FIXTURES / "ws/price_change_v2.json").read_text()))
    token = v2.changes[0][0]
    cache.apply_snapshot(token, [(600_000, 1_000_000)], [(700_000, 2_000_000)], at_ms=3, ts_ms=v2.ts_ms - 1)
    cache.apply_changes(v2.changes, at_ms=4, ts_ms=v2.ts_ms)
    assert levels(cache.book(token).bids) == [(700_000, 3_400_000_000), (600_000, 3_300_000_000),
                                              (500_000, 3_400_000_000)]
    assert levels(cache.book(token).asks) == [(700_000, 2_000_000)]  # crossed, as the venue said


updates = st.lists(st.tuples(st.booleans(), st.integers(1, 20), st.integers(0, 5)), min_size=1, max_size=60)


@settings(max_examples=200, deadline=None)
@given(updates=updates, seed=st.integers(0, 2**32 - 1))
def test_shuffled_and_duplicated_stream_equals_in_order_application(
        updates: list[tuple[bool, int, int]], seed: int) -> None:
    """Each update has its own venue timestamp; any delivery order, with duplicates,
    converges to the in-order book."""
    stream = [(ts, is_bid, price * 10_000, size) for ts, (is_bid, price, size) in enumerate(updates, start=100)]
    in_order, shuffled = BookCache(), BookCache()
    for cache in (in_order, shuffled):
        cache.apply_snapshot(T, [(50_000, 1)], [(900_000, 1)], at_ms=0, ts_ms=99)
    for ts, is_bid, price, size in stream:
        in_order.apply_changes([(T, is_bid, price, size)], at_ms=ts, ts_ms=ts)
    rng = random.Random(seed)
    delivered = stream + rng.sample(stream, k=len(stream) // 2)
    rng.shuffle(delivered)
    for ts, is_bid, price, size in delivered:
        shuffled.apply_changes([(T, is_bid, price, size)], at_ms=ts, ts_ms=ts)
    assert shuffled.book(T, depth=100).bids == in_order.book(T, depth=100).bids
    assert shuffled.book(T, depth=100).asks == in_order.book(T, depth=100).asks


def test_apply_level_changes_the_book_quietly_and_best_prices_match_best() -> None:
    cache = BookCache()
    heard: list[object] = []
    cache.add_listener(heard.append)
    cache.apply_snapshot("T", [(480_000, 30)], [(520_000, 25)], 1)
    heard.clear()
    assert cache.apply_level("T", True, 490_000, 10, 5) is True
    assert cache.apply_level("T", True, 490_000, 10, 6) is False  # same total: no change
    assert cache.apply_level("T", False, 520_000, 0, 7) is True  # the ask side empties
    assert cache.apply_level("missing", True, 490_000, 10, 7) is False  # no snapshot: ignored
    assert heard == []  # nobody was told
    assert cache.best("T") == (Level(490_000, 10), None)
    assert cache.best_prices("T") == (490_000, None) and cache.updated_ms("T") == 7
    assert cache.best_prices("missing") == (None, None)


def test_a_frozen_book_rebuilds_only_the_levels_that_changed() -> None:
    cache = BookCache()
    cache.apply_snapshot("T", [(480_000, 30), (470_000, 20)], [(520_000, 25)], 1)
    first = cache.book("T")
    cache.apply_changes([("T", True, 470_000, 21)], 2)
    second = cache.book("T")
    assert first is not None and second is not None
    assert second.bids == (Level(480_000, 30), Level(470_000, 21)) and second.asks == (Level(520_000, 25),)
    assert second.bids[0] is first.bids[0] and second.asks[0] is first.asks[0]  # unchanged: the same Level
    cache.apply_snapshot("T", [(480_000, 5)], [], 3)  # a snapshot at a known price with a new size
    assert cache.book("T").bids == (Level(480_000, 5),) and cache.book("T").asks == ()

"""The backtest's fast replay path: rows read with small-integer codes and applied without
announcing changes nobody listens to, against the plain `recorded_events` + `apply` path."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

from engine.backtest.event_replay import ReplayTriggers
from engine.backtest.replay import DECIDE, RowApplier, apply, recorded_batches
from engine.feeds.books import BookCache
from engine.feeds.market_data_events import BookChanged, MarketEvent, TradePrint
from storage.research.backtest_recording import recorded_events

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _recording import write_recording  # noqa: E402


def _tokens(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [t for row in conn.execute("SELECT yes_token, no_token FROM markets ORDER BY condition_id") for t in row]


def _grouped_change(path: Path, token: str, at: int) -> None:
    """A recorder-style grouped change (several levels in one row) in the middle of the data."""
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO ticks (at, token_id, kind, data) VALUES (?, ?, 'change', ?)",
                     (at, token, "[[1, 200000, 5000000], [0, 800000, 0]]"))


def test_rows_replay_to_the_same_books_and_announce_only_watched_tokens(tmp_path: Path) -> None:
    path = tmp_path / "rec.db"
    _, start, end = write_recording(path, markets=3, events=3_000, events_per_decision=50)
    tokens = _tokens(path)
    _grouped_change(path, tokens[0], end)
    window = (start + 500, end)  # a range that starts mid-recording

    plain, plain_heard = BookCache(), list[Any]()
    plain.add_listener(plain_heard.append)
    plain_decides = 0
    for event in recorded_events(path, tokens, *window):
        if event[2] == "decide":
            plain_decides += 1
        else:
            apply(plain, event)

    watched = set(tokens[::2])
    fast, fast_heard = BookCache(), list[Any]()
    fast.add_listener(fast_heard.append)
    applier = RowApplier(fast, tokens, watched.__contains__)
    rows = [row for batch in recorded_batches(path, tokens, *window, size=97) for row in batch]
    for row in rows:
        if row[2] != DECIDE:
            applier(row)

    assert len(rows) == sum(1 for _ in recorded_events(path, tokens, *window))
    assert sum(1 for row in rows if row[2] == DECIDE) == plain_decides > 0
    for token in tokens:
        a, b = plain.book(token, 100), fast.book(token, 100)
        assert a is not None and b is not None and (a.bids, a.asks, a.updated_ms) == (b.bids, b.asks, b.updated_ms)
        assert plain.last_trade(token) == fast.last_trade(token)

    def told(heard: list[MarketEvent]) -> list[MarketEvent]:
        return [e for e in heard if not isinstance(e, BookChanged) or e.token_id in watched]

    # Everything the plain path announced about watched tokens (and every trade), in order;
    # nothing about level changes or snapshots of the others.
    assert told(plain_heard) == told(fast_heard)
    assert len(fast_heard) < len(plain_heard)

    # Told the level instead (the paper venue's narrower check): one call per changed level of
    # a watched token; a grouped row still announces its token once.
    levels: list[tuple[str, bool, int]] = []
    by_level_heard: list[MarketEvent] = []
    by_level = BookCache()
    by_level.add_listener(by_level_heard.append)
    applier = RowApplier(by_level, tokens, watched.__contains__, level_changed=lambda *level: levels.append(level))
    for row in rows:
        if row[2] != DECIDE:
            applier(row)
    def changes(heard: list[MarketEvent]) -> int:
        return sum(1 for e in heard if isinstance(e, BookChanged))

    assert levels and all(token in watched for token, _, _ in levels)
    assert len(levels) == changes(fast_heard) - changes(by_level_heard)
    assert any(isinstance(e, BookChanged) and e.token_id == tokens[0] and e.at_ms == end for e in by_level_heard)
    assert all(by_level.book(t, 100) == fast.book(t, 100) for t in tokens)

    # Handed the prints instead: only those of watched tokens, in order; every last trade kept.
    printed: list[MarketEvent] = []
    quiet_heard: list[MarketEvent] = []
    quiet = BookCache()
    quiet.add_listener(quiet_heard.append)
    applier = RowApplier(quiet, tokens, watched.__contains__, trade_printed=printed.append)
    for row in rows:
        if row[2] != DECIDE:
            applier(row)
    trades = [e for e in plain_heard if isinstance(e, TradePrint)]
    assert printed == [t for t in trades if t.token_id in watched] and printed
    assert not any(isinstance(e, TradePrint) for e in quiet_heard)
    assert all(quiet.last_trade(t) == plain.last_trade(t) for t in tokens)


def test_rows_of_an_empty_range_are_none(tmp_path: Path) -> None:
    path = tmp_path / "rec.db"
    _, start, _ = write_recording(path, markets=1, events=100)
    assert list(recorded_batches(path, _tokens(path), start - 10_000, start - 1, size=10)) == []


def test_runs_between_decisions_apply_like_row_by_row(tmp_path: Path) -> None:
    """`until_decision` (the runner's loop) stops at each marker and leaves the books, the
    clock and the level calls as applying row by row does."""
    path = tmp_path / "rec.db"
    _, start, end = write_recording(path, markets=2, events=2_000, events_per_decision=40)
    tokens = _tokens(path)
    _grouped_change(path, tokens[1], end)
    rows = [row for batch in recorded_batches(path, tokens, start, end, size=10_000) for row in batch]

    class Clock:
        now = 0

    def replay(by_runs: bool) -> tuple[BookCache, list[tuple[str, bool, int]], list[int]]:
        books, levels, stops, clock = BookCache(), [], [], Clock()
        applier = RowApplier(books, tokens, set(tokens[1:]).__contains__,
                             level_changed=lambda *level: levels.append((*level, clock.now)))
        if by_runs:
            i = applier.until_decision(rows, 0, clock)
            while i < len(rows):
                stops.append(i)
                i = applier.until_decision(rows, i + 1, clock)
        else:
            for i, row in enumerate(rows):
                if row[2] == DECIDE:
                    stops.append(i)
                else:
                    clock.now = row[0]
                    applier(row)
        return books, levels, stops

    (a, a_levels, a_stops), (b, b_levels, b_stops) = replay(False), replay(True)
    assert a_stops == b_stops and len(a_stops) > 10
    assert a_levels == b_levels and a_levels
    assert all(a.book(t, 100) == b.book(t, 100) for t in tokens)


def test_with_triggers_each_row_is_applied_once_whether_it_marks_or_not(tmp_path: Path) -> None:
    """Deciding on events, a row on a token no strategy watches (or that moves nothing within reach)
    is applied once, as without triggers: a print handed twice to the paper venue would fill twice."""
    path = tmp_path / "rec.db"
    _, start, end = write_recording(path, markets=2, events=2_000, events_per_decision=40)
    tokens = _tokens(path)
    rows = [row for batch in recorded_batches(path, tokens, start, end, size=10_000) for row in batch]

    class Clock:
        now = 0

    class Watching:
        """Triggers watching the first token alone (its reach 0): what `ReplayTriggers` tells."""

        def __init__(self) -> None:
            self.marks: list[str] = []

        def watched(self) -> dict[str, tuple[str, int]]:
            return {tokens[0]: ("m0", 0)}

        def mark(self, condition_id: str) -> None:
            self.marks.append(condition_id)

        def reported(self) -> bool:
            return False

        def touch_moved(self, token: str, bids: dict[int, int], asks: dict[int, int], is_bid: bool, price: int
                        ) -> bool:
            return False

        def touch_changed(self, token: str, bids: dict[int, int], asks: dict[int, int]) -> bool:
            return False

        @staticmethod
        def within(bids: dict[int, int], asks: dict[int, int], is_bid: bool, price: int, reach: int) -> bool:
            return ReplayTriggers.within(bids, asks, is_bid, price, reach)

        @staticmethod
        def window(bids: dict[int, int], asks: dict[int, int], reach: int) -> object:
            return ReplayTriggers.window(bids, asks, reach)

    def replay(triggers: Watching | None) -> tuple[BookCache, list[TradePrint]]:
        books, printed, clock = BookCache(), list[TradePrint](), Clock()
        applier = RowApplier(books, tokens, lambda _: True, trade_printed=printed.append)
        applier.triggers = triggers
        i = applier.until_decision(rows, 0, clock, passing=True)
        assert i == len(rows)
        return books, printed

    plain_books, plain_prints = replay(None)
    triggers = Watching()
    books, prints = replay(triggers)
    assert prints == plain_prints and {p.token_id for p in prints} > {tokens[0]}
    assert all(books.book(t, 100) == plain_books.book(t, 100) for t in tokens)
    assert triggers.marks

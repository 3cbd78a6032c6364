"""Candles (contracts/candles.py): each width's candle is what its bucket saw, however the recorder
split the stream into partial candles and whichever order the partials are merged in, in Python and
in the table's SQL merge (storage/engine_stores/candle_store.py) alike."""

from __future__ import annotations

import itertools
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.candles import MINUTE_MS, WIDTHS_MS, Candle, CandleRoll, bucket, merged, rolled_up
from storage.engine_stores.candle_store import merge_candles, stored_candles
from storage.sqlite.migrations import migrate

DAY_MS = 86_400_000
T0 = 1_767_225_600_000 - 3_600_000  # an hour before a UTC midnight: the stream crosses days, hours, minutes

# (ms after T0, kind, value, spread): a two-sided book's mid, or a print's size.
Event = tuple[int, str, int, int | None]
events = st.lists(st.tuples(st.integers(0, 2 * 3_600_000), st.sampled_from(["book", "trade"]),
                            st.integers(1_000, 999_000), st.none() | st.integers(1_000, 50_000)),
                  max_size=60, unique_by=lambda e: e[0]).map(lambda es: sorted(es))


def _roll(stream: list[Event], token: str = "T") -> CandleRoll:
    roll = CandleRoll()
    for at, kind, value, spread in stream:
        if kind == "book":
            roll.book(token, T0 + at, value, spread)
        else:
            roll.trade(token, T0 + at, value)
    return roll


def _expected(stream: list[Event], width: int) -> dict[int, tuple]:
    """Each bucket's candle worked out from the events themselves, not through the roll."""
    out: dict[int, tuple] = {}
    for start, group in itertools.groupby(stream, key=lambda e: bucket(T0 + e[0], width)):
        seen = list(group)
        mids = [(T0 + at, value) for at, kind, value, _ in seen if kind == "book"]
        spreads = [spread for _, kind, _, spread in seen if kind == "book" and spread is not None]
        sizes = [value for _, kind, value, _ in seen if kind == "trade"]
        out[start] = (mids[0][1] if mids else None, max((m for _, m in mids), default=None),
                      min((m for _, m in mids), default=None), mids[-1][1] if mids else None,
                      sum(spreads), len(spreads), sum(sizes), len(sizes))
    return out


def _shape(candle: Candle) -> tuple:
    return (candle.mid_open, candle.mid_high, candle.mid_low, candle.mid_close, candle.spread_sum, candle.spreads,
            candle.volume, candle.trades)


def _by_width(candles: list[Candle]) -> dict[int, dict[int, tuple]]:
    out: dict[int, dict[int, tuple]] = {width: {} for width in WIDTHS_MS}
    for candle in candles:
        out[candle.width_ms][candle.start_at] = _shape(candle)
    return out


@settings(max_examples=100, deadline=None)
@given(events)
def test_every_width_is_what_its_bucket_saw(stream: list[Event]) -> None:
    rolled = _by_width(rolled_up(_roll(stream).take()))
    assert rolled == {width: _expected(stream, width) for width in WIDTHS_MS}


@settings(max_examples=100, deadline=None)
@given(events, st.lists(st.integers(0, 60), max_size=5), st.randoms(use_true_random=False))
def test_partial_candles_merge_into_the_whole_in_any_order(stream: list[Event], cuts: list[int], rng) -> None:
    """The recorder takes its minutes at each flush: the stream split anywhere, each part rolled on
    its own, merged in any order, is the stream rolled whole."""
    bounds = [0, *sorted(min(c, len(stream)) for c in cuts), len(stream)]
    parts = [rolled_up(_roll(stream[a:b]).take()) for a, b in itertools.pairwise(bounds)]
    rng.shuffle(parts)
    whole: dict[tuple[int, int], Candle] = {}
    for candle in itertools.chain.from_iterable(parts):
        key = (candle.width_ms, candle.start_at)
        whole[key] = merged(whole[key], candle) if key in whole else candle
    assert _by_width(list(whole.values())) == _by_width(rolled_up(_roll(stream).take()))


@pytest.fixture(scope="module")
def candles_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("candles") / "c.db"
    migrate(path)
    return path


_TOKENS = itertools.count()


@settings(max_examples=40, deadline=None)
@given(stream=events, cuts=st.lists(st.integers(0, 60), max_size=4))
def test_the_tables_merge_of_each_flush_is_the_stream_rolled_whole(candles_db: Path, stream: list[Event],
                                                                   cuts: list[int]) -> None:
    token = f"T{next(_TOKENS)}"  # one database for every example: each writes its own token
    bounds = [0, *sorted(min(c, len(stream)) for c in cuts), len(stream)]
    conn = sqlite3.connect(candles_db, isolation_level=None)
    try:
        for a, b in itertools.pairwise(bounds):  # a flush each
            merge_candles(conn, rolled_up(_roll(stream[a:b], token).take()))
        stored = [c for width in WIDTHS_MS for c in stored_candles(conn, token, width)]
    finally:
        conn.close()
    assert _by_width(stored) == _by_width(rolled_up(_roll(stream, token).take()))


def test_a_bucket_is_aligned_to_utc() -> None:
    at = T0 + 3_600_000 + 61_234  # 00:01:01.234 UTC of the next day
    assert [bucket(at, width) - (T0 + 3_600_000) for width in WIDTHS_MS] == [MINUTE_MS, 0, 0, 0]
    assert bucket(at, DAY_MS) % DAY_MS == 0

"""Reading a replay's batches ahead on a thread gives the same batches in the same order,
raises the reader's error in the replay, and stops the reader (closing what it holds) when
the replay stops early."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from engine.backtest.read_ahead import read_ahead


def test_batches_come_in_order_from_another_thread() -> None:
    threads: set[str] = set()

    def batches() -> Iterator[int]:
        for n in range(500):
            threads.add(threading.current_thread().name)
            yield n

    assert list(read_ahead(batches, depth=2)) == list(range(500))
    assert threads == {"replay-read-ahead"}


def test_the_readers_error_is_raised_in_the_replay() -> None:
    def batches() -> Iterator[int]:
        yield 1
        raise ValueError("no such table: ticks")

    got = []
    with pytest.raises(ValueError, match="no such table"):
        for item in read_ahead(batches):
            got.append(item)
    assert got == [1]


def test_a_replay_that_stops_early_stops_the_reader_and_closes_its_source() -> None:
    closed = threading.Event()
    produced: list[int] = []

    def batches() -> Iterator[int]:
        try:
            for n in range(10_000):
                produced.append(n)
                yield n
        finally:
            closed.set()

    ahead = read_ahead(batches, depth=2)
    assert [next(ahead) for _ in range(3)] == [0, 1, 2]
    ahead.close()  # joins the reader
    assert closed.is_set() and len(produced) <= 3 + 2 + 1  # what was taken, the queue, the one in hand
    assert not any(t.name == "replay-read-ahead" for t in threading.enumerate())

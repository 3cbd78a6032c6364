"""Where a replay stands in its recording, read by the decisions and by the paper venue's trips.

The runner asks it for the next decision (a recorded marker, or the next interval boundary) and
it applies the rows up to there. While a decision waits for the paper venue (a placement or a
cancel on its way, engine/venues/paper_latency.py), the venue asks it to replay up to the
request's arrival: the market moves meanwhile, resting orders can fill, and decision markers
passed then are stepped over, as a live engine busy with that call would not have decided.

The scratch ledger commits once per batch of rows (a replay has nothing to lose in a crash); a
batch boundary crossed during a venue call commits there, where no write is open (the executor
never holds a transaction across a venue call).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

from engine.backtest.replay import Row, RowApplier
from storage.sqlite.db import Database

LIMIT, MARKED = "limit", "marked"  # why `Cursor.advance` stopped, besides a marker or the end


class SimClock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


class Cursor:
    def __init__(self, batches: Iterator[list[Row]], apply: RowApplier, clock: SimClock, db: Database,
                 finished_batch: Callable[[int], None]) -> None:
        """`finished_batch(rows)` is told each batch's size once its rows are all applied (progress)."""
        self.batches = batches
        self.apply = apply
        self.clock = clock
        self.db = db
        self.finished_batch = finished_batch
        self.rows: list[Row] = []
        self.i = 0
        self.batch_number = 0  # the batches taken so far: with `i`, where the replay is
        self.closed = False
        self._tx: ExitStack | None = None

    def next_marker(self) -> int | None:
        """Apply rows up to the next decision marker and return its time (None: the data ended)."""
        while self._rows_left():
            self.i = self.apply.until_decision(self.rows, self.i, self.clock)
            if self.i < len(self.rows):
                self.i += 1
                return self.rows[self.i - 1][0]
        return None

    def before(self, at: int) -> bool:
        """Apply the rows earlier than `at` (no markers); True while rows remain after them."""
        while self._rows_left():
            self.i = self.apply.until_decision(self.rows, self.i, self.clock, limit=at - 1, passing=True)
            if self.i < len(self.rows):
                return True
        return False

    def advance(self, limit: int, *, markers: bool) -> int | str | None:
        """With decisions on events (engine/backtest/event_replay.py): apply rows up to the next
        stop: a decision marker (its time; with `markers`, else they are stepped over), the end of
        an instant whose rows marked a market (MARKED), a row later than `limit` (LIMIT); None when
        the data ended."""
        while self._rows_left():
            self.apply.marked = False
            self.i = self.apply.until_decision(self.rows, self.i, self.clock, limit=limit, passing=not markers)
            if self.apply.marked:
                return MARKED
            if self.i < len(self.rows):
                if self.rows[self.i][0] > limit:
                    return LIMIT
                self.i += 1  # a marker
                return self.rows[self.i - 1][0]
        return None

    def next_at(self) -> int | None:
        """The time of the next row to apply (None: the data ended)."""
        return self.rows[self.i][0] if self._rows_left() else None

    async def until(self, at: int) -> None:
        """A venue call's trip: replay up to `at` (markers stepped over); the clock then reads `at`."""
        while not self.closed and self._rows_left():
            self.i = self.apply.until_decision(self.rows, self.i, self.clock, limit=at, passing=True)
            if self.i < len(self.rows):
                break
        self.clock.now = max(self.clock.now, at)

    def close(self) -> None:
        """The replay is over (ended or failed): the last batch commits; trips no longer replay."""
        self._finish_batch()
        self.closed = True

    def _rows_left(self) -> bool:
        if self.i < len(self.rows):
            return True
        self._finish_batch()
        for batch in self.batches:
            if batch:
                self.rows, self.i = batch, 0
                self.batch_number += 1
                self._tx = ExitStack()
                self._tx.enter_context(self.db.batch())
                return True
        return False

    def _finish_batch(self) -> None:
        if self._tx is not None:
            self._tx.close()
            self._tx = None
            self.finished_batch(len(self.rows))

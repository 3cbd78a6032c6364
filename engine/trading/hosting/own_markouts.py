"""Each strategy's own markouts, measured as the engine decides, for strategies that read them
(market making's toxicity, engine/strategies/toxicity.py).

The markout job (engine/analytics/markout_job.py) writes every fill's markouts for the operator,
later and from the recorded ticks; a backtest computes its own after the replay. A strategy needs
them while it trades, in live, paper and backtest alike, so this tracker follows the fills on the
executor's bus and the YES mid of their markets as the decision loop runs: the same definition
(the last mid seen at or before the fill's match time plus the horizon), sampled once per tick.
A horizon with no mid seen before it is dropped, never guessed.

Kept in memory and restored at start from what the markout job wrote (`restore`: the last
RESTORE_MS of the mode's fills), so a restart does not reset a strategy's toxicity; fills whose
horizons the job had not yet reached when the engine stopped are not restored (the job completes
them for the operator later). A backtest starts from none, as its replay does.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from contracts.domain import ONE, Outcome, OwnMarkout, Side
from engine.analytics.markouts import HORIZONS, MidPath, mid_at
from engine.execution.bus import FillApplied
from engine.feeds.books import BookCache
from engine.feeds.catalog import MarketCatalog
from storage.research.markout_queries import recent_markouts
from storage.sqlite.db import Database

KEEP = 64  # markouts kept per strategy, market and horizon: the newest, enough for any decay a strategy uses
HORIZON_MS = tuple(ms for _, ms in HORIZONS)
RESTORE_MS = 6 * 3_600_000  # markouts restored at start: older ones weigh nothing at any sensible half-life


@dataclass(frozen=True, slots=True)
class _Pending:
    strategy: str
    filled_at: int
    side: Side  # YES space
    price: int
    size: int
    horizons: tuple[int, ...]  # the horizons still to measure, nearest first


class OwnMarkouts:
    def __init__(self, books: BookCache, catalog: MarketCatalog) -> None:
        self.books = books
        self.catalog = catalog
        self.pending: dict[str, list[_Pending]] = {}  # condition id -> fills with a horizon still ahead
        self.mids: dict[str, list[tuple[int, int]]] = {}  # condition id -> (ms, YES mid) seen since the oldest
        self.done: dict[tuple[str, str], deque[OwnMarkout]] = {}
        self.mode: str | None = None  # the mode restored for (a change of mode starts afresh)

    def next_due(self, now: int, before: int) -> int | None:
        """(contracts/due.py) None: its markouts arrive as their horizons pass, but only a strategy that
        reads the clock reads them (`Strategy.reads_the_clock`, which the strategy host answers for)."""
        return None

    def on_fill(self, fill: FillApplied) -> None:
        """A new fill of ours: its horizons are measured as the loop runs on."""
        side, price = fill.side, fill.price
        if fill.outcome is Outcome.NO:  # a NO bought at q is YES sold at 1 - q
            side, price = side.opposite, ONE - price
        self.pending.setdefault(fill.condition_id, []).append(
            _Pending(fill.strategy, fill.matched_at, side, price, fill.size, HORIZON_MS))
        self._sample(fill.condition_id, fill.at_ms)

    def restore(self, db: Database, mode: str, now: int) -> int:
        """The markouts the job wrote for the last RESTORE_MS of `mode`'s fills, in YES space, once per
        mode (a start in the same mode keeps what it has); returns how many."""
        if self.mode == mode:
            return 0
        self.mode = mode
        self.pending.clear()
        self.mids.clear()
        self.done.clear()
        horizon_ms = dict(HORIZONS)
        restored = 0
        for row in recent_markouts(db, mode, now - RESTORE_MS):
            side, price, mid = Side(row.side), row.price, row.mid
            if row.outcome == Outcome.NO.value:  # NO's price and mid, seen from YES
                side, price, mid = side.opposite, ONE - price, ONE - mid
            fill = _Pending(row.strategy, row.matched_at, side, price, row.size, ())
            self._keep(fill, row.condition_id, OwnMarkout(row.matched_at, horizon_ms[row.horizon], side, price,
                                                          row.size, mid))
            restored += 1
        return restored

    def observe(self, now: int) -> None:
        """Sample the mids of markets with fills to mark, and measure every horizon `now` has passed."""
        for condition_id in list(self.pending):
            self._sample(condition_id, now)
            self._measure(condition_id, now)

    def recent(self, strategy: str, condition_ids: Iterable[str]) -> Mapping[str, tuple[OwnMarkout, ...]]:
        """The strategy's measured markouts in its markets (every horizon), in the order they were
        measured: each within a tick of the time it became known."""
        found: dict[str, tuple[OwnMarkout, ...]] = {}
        for cid in condition_ids:
            marks = self.done.get((strategy, cid))
            if marks:
                found[cid] = tuple(marks)
        return found

    def _sample(self, condition_id: str, now: int) -> None:
        info = self.catalog.get(condition_id)
        book = None if info is None else self.books.book(info.yes_token, 1)
        mid = None if book is None else book.mid
        if mid is None:
            return
        path = self.mids.setdefault(condition_id, [])
        if path and path[-1][0] >= now:
            path[-1] = (path[-1][0], mid)
        else:
            path.append((now, mid))

    def _measure(self, condition_id: str, now: int) -> None:
        path: MidPath = self.mids.get(condition_id, [])
        still: list[_Pending] = []
        for fill in self.pending[condition_id]:
            if fill.filled_at + fill.horizons[0] > now:  # no horizon reached yet: kept as it is
                still.append(fill)
                continue
            ahead = tuple(h for h in fill.horizons if fill.filled_at + h > now)
            for horizon in fill.horizons[:len(fill.horizons) - len(ahead)]:
                later = mid_at(path, fill.filled_at + horizon)
                if later is not None:
                    self._keep(fill, condition_id, OwnMarkout(fill.filled_at, horizon, fill.side, fill.price,
                                                              fill.size, later))
            if ahead:
                still.append(_Pending(fill.strategy, fill.filled_at, fill.side, fill.price, fill.size, ahead))
        if still:
            self.pending[condition_id] = still
            self._trim(condition_id, min(f.filled_at for f in still))
        else:
            del self.pending[condition_id]
            self.mids[condition_id] = self.mids.get(condition_id, [])[-1:]  # the last mid: a later fill's start

    def _keep(self, fill: _Pending, condition_id: str, mark: OwnMarkout) -> None:
        key = (fill.strategy, condition_id)
        kept = self.done.get(key)
        if kept is None:
            kept = self.done[key] = deque(maxlen=KEEP * len(HORIZON_MS))
        kept.append(mark)

    def _trim(self, condition_id: str, oldest: int) -> None:
        """Mids before the oldest fill still marked are not needed, but the one in force at it is."""
        path = self.mids.get(condition_id, [])
        first = 0
        while first + 1 < len(path) and path[first + 1][0] <= oldest:
            first += 1
        if first:
            del path[:first]

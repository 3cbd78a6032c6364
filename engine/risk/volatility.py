"""The volatility-spike breaker, pure: realised volatility of each market's mid over a short
window against its own longer baseline, per market and pooled over the desk.

Realised volatility over a span is the square root of the sum of the squared changes of the mid
in it (probability units, micro). The baseline is the same measured over the history before the
window (up to `baseline_ms` back), scaled to the window's length, and never taken below `floor`:
a market that has been still for half an hour would otherwise trip on its first tick. The
ratio short / baseline moves a state with hysteresis:

    ACTIVE   -> REDUCING  at ratio >= reduce         (no new risk in that market)
    any      -> HALTED    at ratio >= halt           (no new orders there)
    HALTED   -> REDUCING  once ratio < reduce        (one threshold lower than it tripped)
    REDUCING -> ACTIVE    once ratio <= clear        (clear < reduce)

A market is judged only once it has been watched for a third of its baseline, and at least two
windows (`warmup_ms`): a baseline of a minute or two holds no news, so the first news after a start
read as a spike (bench/volatility_alerts.py). Until then, and while it has no mid, its state stays
as it was. The desk's ratio pools every judged market: sqrt(sum of short^2 / sum of baseline^2),
so one wild market does not halt the desk (its own state does that) but many at once do. The
caller passes the time.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from contracts.limits import Limits
from engine.risk.gate import TradingState

MAX_CHANGES = 20_000  # per market: a bound on memory whatever the feed's rate
WARMUP_SHARE = 3  # a market is judged once watched for this share (1/3) of its baseline
_LAST = 2**62  # past any squared change: a bisect key after every change at one time
DESK = ""  # the desk-wide scope's name in a Change


@dataclass(frozen=True)
class Settings:
    window_ms: int
    baseline_ms: int
    reduce: float  # 0: the breaker is off
    halt: float  # 0: never halts
    clear: float
    floor: int  # micro-probability per window

    @classmethod
    def of(cls, limits: Limits) -> Settings:
        v = limits.values
        return cls(limits.ms("volatility_window"), limits.ms("volatility_baseline"), float(v["volatility_reduce"]),
                   float(v["volatility_halt"]), float(v["volatility_clear"]), limits.probability("volatility_floor"))

    @property
    def enabled(self) -> bool:
        return self.reduce > 0 and self.window_ms > 0

    @property
    def warmup_ms(self) -> int:
        """How long a market is watched before it is judged: a third of the baseline, two windows at least."""
        return max(2 * self.window_ms, self.baseline_ms // WARMUP_SHARE)


@dataclass(frozen=True)
class Reading:
    short: float  # realised volatility over the window (micro-probability)
    baseline: float  # the baseline scaled to one window, at least the floor

    @property
    def ratio(self) -> float:
        return self.short / self.baseline if self.baseline > 0 else math.inf


@dataclass(frozen=True)
class Change:
    scope: str  # a condition id, or DESK
    before: TradingState
    after: TradingState
    reading: Reading


def next_state(current: TradingState, ratio: float, s: Settings) -> TradingState:
    """The state after one reading, with hysteresis (see the module's table)."""
    if s.halt > 0 and ratio >= s.halt:
        return TradingState.HALTED
    if current is TradingState.HALTED:
        if ratio >= s.reduce:
            return TradingState.HALTED
        return TradingState.ACTIVE if ratio <= s.clear else TradingState.REDUCING
    if ratio >= s.reduce:
        return TradingState.REDUCING
    if current is TradingState.REDUCING and ratio > s.clear:
        return TradingState.REDUCING
    return TradingState.ACTIVE


class MidSeries:
    """One market's mid changes: (time ms, squared change), oldest first.

    A reading sums the squares in two spans that only move forward in time, so the sums are
    kept as they go (each change enters the window's sum, moves to the baseline's, then
    leaves) instead of walking every change of the last half hour on each engine pass. They
    are rebuilt from the changes when the spans' lengths change or the clock steps back, and
    taken afresh while a change recorded out of time order (a clock stepped back) remains."""

    def __init__(self, now: int):
        self.first_ms = self.seen_ms = now
        self.last_mid: int | None = None
        self._items: list[tuple[int, int]] = []
        self._head = 0  # items before it are gone (pruned, or beyond MAX_CHANGES)
        # items[base_from:short_from] are in the baseline's span, items[short_from:] in the window.
        self._base_from = self._short_from = 0
        self._base_sq = self._short_sq = 0
        self._spans: tuple[int, int, int] | None = None  # (window, baseline, now) of the last reading
        self._unordered = -1  # index of the last change older than the one before it

    @property
    def changes(self) -> list[tuple[int, int]]:
        return self._items[self._head:]

    def observe(self, mid: int, now: int) -> bool:
        """Whether the mid changed (a change kept)."""
        self.seen_ms = now
        last = self.last_mid
        changed = last is not None and mid != last
        if last is not None and changed:
            sq = (mid - last) ** 2
            if self._items and now < self._items[-1][0]:
                self._unordered = len(self._items)
            self._items.append((now, sq))
            self._short_sq += sq
            if len(self._items) - self._head > MAX_CHANGES:
                self._drop_oldest()
        self.last_mid = mid
        return changed

    def prune(self, now: int, keep_ms: int) -> None:
        items = self._items
        while self._head < len(items) and items[self._head][0] <= now - keep_ms:
            self._drop_oldest()
        if self._head > 1_024 and self._head * 2 > len(items):
            del items[:self._head]
            self._base_from -= self._head
            self._short_from -= self._head
            self._unordered -= self._head
            self._head = 0

    def _drop_oldest(self) -> None:
        head = self._head
        sq = self._items[head][1]
        if head >= self._short_from:
            self._short_sq -= sq
            self._base_from = self._short_from = head + 1
        elif head >= self._base_from:
            self._base_sq -= sq
            self._base_from = head + 1
        self._head = head + 1

    def judged(self, now: int, s: Settings) -> bool:
        """Whether its readings follow from its changes alone: judged on a full baseline (before that
        they wait on the clock) and in time order."""
        return now - self.first_ms >= max(s.baseline_ms, s.warmup_ms) and self._unordered < self._head

    def next_change(self, now: int, s: Settings, keep_ms: int) -> int:
        """The earliest time after `now` its reading, or whether it is kept, may change with no new
        mid (a replay's quiet passes: engine/backtest/quiet_passes.py): every pass until it is judged
        and its baseline spans `baseline_ms` (both wait on the clock), then when the next change leaves
        the window or the baseline, or it stops being watched. Earlier is always safe."""
        if not self.judged(now, s):
            return now
        items, due = self._items, self.seen_ms + keep_ms + 1
        short = bisect.bisect_right(items, (now - s.window_ms, _LAST), self._head)
        if short < len(items):
            due = min(due, items[short][0] + s.window_ms)
        base = bisect.bisect_right(items, (now - s.baseline_ms, _LAST), self._head)
        if base < len(items):
            due = min(due, items[base][0] + s.baseline_ms)
        return due

    def reading(self, now: int, s: Settings) -> Reading | None:
        """None until watched for the warm-up (no baseline worth comparing with yet)."""
        history = min(s.baseline_ms, now - self.first_ms)
        if history < s.warmup_ms:
            return None
        short_sq, base_sq = self._sums(now - s.window_ms, now - history, s)
        return _reading(short_sq, base_sq, history, s)

    def _sums(self, window_start: int, base_start: int, s: Settings) -> tuple[int, int]:
        """(squares after window_start, squares in (base_start, window_start])."""
        if self._unordered >= self._head:  # not in time order: the spans are not runs of the list
            self._spans = None
            return (sum(sq for at, sq in self.changes if at > window_start),
                    sum(sq for at, sq in self.changes if base_start < at <= window_start))
        last = self._spans
        if last is None or last[:2] != (s.window_ms, s.baseline_ms) or window_start + s.window_ms < last[2]:
            self._base_from = self._short_from = self._head
            self._base_sq, self._short_sq = 0, sum(sq for _, sq in self.changes)
        self._spans = (s.window_ms, s.baseline_ms, window_start + s.window_ms)
        items, end = self._items, len(self._items)
        while self._short_from < end and items[self._short_from][0] <= window_start:
            sq = items[self._short_from][1]
            self._short_sq -= sq
            self._base_sq += sq
            self._short_from += 1
        while self._base_from < self._short_from and items[self._base_from][0] <= base_start:
            self._base_sq -= items[self._base_from][1]
            self._base_from += 1
        return self._short_sq, self._base_sq


def _reading(short_sq: int, base_sq: int, history: int, s: Settings) -> Reading:
    """The window's squares against those of the `history` before it, scaled to one window."""
    base = math.sqrt(base_sq * s.window_ms / (history - s.window_ms))
    return Reading(math.sqrt(short_sq), max(base, float(s.floor)))


def _moves(sums: list[list[int]], states: list[TradingState], desk_now: TradingState, s: Settings) -> bool:
    """Whether a judgement on these sums (per market: squares in the window, in the baseline before it)
    moves a market's state or the desk's."""
    readings = [_reading(short, base, s.baseline_ms, s) for short, base in sums]  # (judged: a full baseline)
    if any(next_state(state, r.ratio, s) is not state for state, r in zip(states, readings, strict=True)):
        return True
    desk = pooled(readings)
    return desk is not None and next_state(desk_now, desk.ratio, s) is not desk_now


def pooled(readings: Iterable[Reading]) -> Reading | None:
    """The desk's reading: the root of summed squares, short over baseline."""
    found = list(readings)
    if not found:
        return None
    return Reading(math.sqrt(sum(r.short ** 2 for r in found)), math.sqrt(sum(r.baseline ** 2 for r in found)))


class VolatilityBreaker:
    """Per-market states and the desk's, from the mids the engine's books already give."""

    def __init__(self) -> None:
        self.series: dict[str, MidSeries] = {}
        self.states: dict[str, TradingState] = {}  # only the markets not ACTIVE
        self.readings: dict[str, Reading] = {}  # the latest reading per judged market
        self.desk_reading: Reading | None = None
        self.version = 0  # moves with every new change of a mid, market watched or left, and state moved
        self._walked: tuple[tuple[int, TradingState, Settings], int, int, int | None] | None = None

    def observe(self, mids: Mapping[str, int | None], now: int) -> None:
        for cid, mid in mids.items():
            if mid is None:
                continue
            series = self.series.get(cid)
            if series is None:
                series = self.series[cid] = MidSeries(now)
                self.version += 1
            if series.observe(mid, now):
                self.version += 1

    def next_change(self, now: int, s: Settings) -> int | None:
        """The earliest time after `now` a judgement may change with no new mid (None: never; the
        breaker off judges nothing)."""
        if not s.enabled:
            return None
        keep_ms = max(s.baseline_ms, 2 * s.window_ms)
        return min((series.next_change(now, s, keep_ms) for series in self.series.values()), default=None)

    def next_judgement(self, now: int, s: Settings, desk_now: TradingState, before: int) -> int | None:
        """The earliest time after `now`, and before `before`, a state (a market's, or the desk's from
        `desk_now`) may change with no new mid; None: none before it (a replay's quiet passes:
        engine/backtest/quiet_passes.py). Tighter than `next_change`, whose every change leaving the
        window or the baseline moves a reading: this follows the readings through those times and
        stops at the first that crosses a threshold. Earlier is always safe."""
        if not s.enabled:
            return None
        keep_ms = max(s.baseline_ms, 2 * s.window_ms)
        unwatched = min((series.seen_ms + keep_ms + 1 for series in self.series.values()), default=_LAST)
        before = min(before, unwatched)  # a market no longer watched leaves, with its state
        if any(not series.judged(now, s) for series in self.series.values()):
            return now  # not yet judged on a full baseline, or out of time order: every pass
        crossing = self._crossing(now, s, desk_now, before)
        if crossing is not None:
            return crossing
        return unwatched if unwatched == before < _LAST else None

    def settled_until(self, now: int, s: Settings, desk_now: TradingState) -> int:
        """Until when no state can change with no new mid, as `next_judgement` last worked it out (not worked
        out again here); `now` when that is not known: a mid changed or a state moved since, a market is not
        yet judged on a full baseline, or one is no longer watched. Before it, `evaluate` changes nothing."""
        walked = self._walked
        if walked is None or walked[0] != (self.version, desk_now, s) or walked[1] > now or not s.enabled:
            return now
        keep_ms = max(s.baseline_ms, 2 * s.window_ms)
        if any(not series.judged(now, s) or now - series.seen_ms > keep_ms for series in self.series.values()):
            return now
        _, _, reach, found = walked
        return max(now, reach if found is None else found)

    def _crossing(self, now: int, s: Settings, desk_now: TradingState, before: int) -> int | None:
        """The first time in (`now`, `before`) a state crosses a threshold as changes leave the window
        and the baseline (None: none does). Kept while no mid changed and no state moved: from a later
        `now` before that time the walk finds the same time (the sums it starts from are those it walked
        through), so a pass that saw no new mid asks again for nothing."""
        key = (self.version, desk_now, s)
        cached = self._walked
        if cached is not None and cached[0] == key and cached[1] <= now:
            _, _, reach, found = cached
            if found is not None and now < found:
                return found if found < before else None
            if found is None and before <= reach:
                return None
        found = self._walk(now, s, desk_now, before)
        self._walked = (key, now, before, found)
        return found

    def _walk(self, now: int, s: Settings, desk_now: TradingState, before: int) -> int | None:
        states: list[TradingState] = []
        sums: list[list[int]] = []  # per market: [squares in the window, squares in the baseline before it]
        leaving: list[tuple[int, int, int, int]] = []  # (when, market, 0: leaves the window / 1: the baseline, square)
        for index, (cid, series) in enumerate(self.series.items()):
            items = series.changes
            window = bisect.bisect_right(items, (now - s.window_ms, _LAST))
            base = bisect.bisect_right(items, (now - s.baseline_ms, _LAST))
            sums.append([sum(sq for _, sq in items[window:]), sum(sq for _, sq in items[base:window])])
            states.append(self.states.get(cid, TradingState.ACTIVE))
            leaving += [(at + s.window_ms, index, 0, sq) for at, sq in items[window:] if at + s.window_ms < before]
            leaving += [(at + s.baseline_ms, index, 1, sq) for at, sq in items[base:] if at + s.baseline_ms < before]
        leaving.sort()
        if _moves(sums, states, desk_now, s):
            return now  # not as a pass would judge it now (none judged it at this time): at once
        for step, (at, index, kind, sq) in enumerate(leaving):
            market = sums[index]
            if kind == 0:
                market[0] -= sq
                market[1] += sq
            else:
                market[1] -= sq
            if step + 1 < len(leaving) and leaving[step + 1][0] == at:
                continue  # judged once every change leaving at that time has left
            if _moves(sums, states, desk_now, s):
                return at
        return None

    def evaluate(self, s: Settings, now: int, desk_now: TradingState) -> tuple[list[Change], TradingState]:
        """Each market's new state (the changes, to alert on) and the desk's target given its
        current volatility state `desk_now` (ACTIVE unless the desk is in a volatility state)."""
        if not s.enabled:
            changes = [Change(cid, state, TradingState.ACTIVE, self.readings.get(cid, Reading(0.0, 0.0)))
                       for cid, state in sorted(self.states.items())]
            self.states.clear()
            self.version += bool(changes)
            return changes, TradingState.ACTIVE
        changes = []
        self.readings = {}
        keep_ms = max(s.baseline_ms, 2 * s.window_ms)
        for cid, series in list(self.series.items()):
            if now - series.seen_ms > keep_ms:  # no longer watched: it leaves, with its state
                del self.series[cid]
                self.version += 1
                if self.states.pop(cid, None) is not None:
                    changes.append(Change(cid, TradingState.REDUCING, TradingState.ACTIVE, Reading(0.0, 0.0)))
                continue
            series.prune(now, keep_ms)
            reading = series.reading(now, s)
            if reading is None:
                continue
            self.readings[cid] = reading
            before = self.states.get(cid, TradingState.ACTIVE)
            after = next_state(before, reading.ratio, s)
            if after is not before:
                changes.append(Change(cid, before, after, reading))
            if after is TradingState.ACTIVE:
                self.states.pop(cid, None)
            else:
                self.states[cid] = after
        self.version += bool(changes)  # (a market that left moved a state, or had none)
        self.desk_reading = pooled(self.readings.values())
        desk = desk_now if self.desk_reading is None else next_state(desk_now, self.desk_reading.ratio, s)
        return changes, desk

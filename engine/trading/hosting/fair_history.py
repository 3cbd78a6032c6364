"""A replay's fair values as the desk held them at each moment (issue 85 item 3).

Live, a market's fair values are the signals in force (engine/trading/hosting/views.py, read from the
`signals` table): the operator's standing value, and each outside or poll source's last post until its
time-to-live runs out. Those posts are kept as they were received (`signal_posts`: value, confidence,
source, when received, when it expires), so a backtest replays each from when the desk received it until
it expired or the source's next post replaced it, and reads the markets' values as live read them then: the
operator's wins, else the newest in force; an ensemble weighs every source in force. The operator's standing
values (and any standing value without an expiry) count as they stand today. The breaker's verdicts are
today's (a benched source is left out, as live leaves it out, and each source weighs by its Brier score).

It also counts what it replayed, for the result to say in words: how many posts, from which sources, for
which markets, and the most sources in force at once in any market (what an ensemble's minimum is judged on).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass, field

from contracts.domain import ONE, SourcedFair

Signal = tuple[int, int | None, int]  # (value, confidence, updated at)


@dataclass(frozen=True, slots=True)
class Post:
    """An outside or poll fair value as the desk received it."""

    received: int
    expires: int | None
    condition_id: str
    source: str
    value: int
    confidence: int | None


@dataclass
class Replayed:
    """What the replay held of the fair values, for the result's words."""

    posts: int = 0  # received within the run (or still in force at its start)
    sources: set[str] = field(default_factory=set)  # outside and poll sources replayed
    markets: set[str] = field(default_factory=set)  # markets with a replayed value
    standing: set[str] = field(default_factory=set)  # markets with a standing value (the operator's)
    most_sources: int = 0  # the most sources in force at once in one market


@dataclass
class View:
    """The markets' fair values in force now, as `SignalReads` hands them to the views."""

    fair: dict[str, int] = field(default_factory=dict)
    confidence: dict[str, int | None] = field(default_factory=dict)
    sources: dict[str, tuple[SourcedFair, ...]] = field(default_factory=dict)


class ReplayedFairValues:
    def __init__(self, standing: Sequence[tuple[str, str, int, int | None, int]], posts: Sequence[Post],
                 verdicts: dict[str, tuple[str, int | None]], operator: str) -> None:
        """`standing`: (market, source, value, confidence, updated at) that never expire; `posts` in the order
        received; `verdicts`: source -> (state, Brier score); `operator`: the operator's source name."""
        self.operator = operator
        self.brier = {source: brier for source, (_, brier) in verdicts.items()}
        benched = {source for source, (state, _) in verdicts.items() if state == "benched"}
        self.standing: dict[str, dict[str, Signal]] = {}
        for cid, source, value, confidence, at in standing:
            if source not in benched and _probability(value):
                self.standing.setdefault(cid, {})[source] = (value, confidence, at)
        self.posts = [p for p in posts if p.source not in benched and _probability(p.value)]
        self.next = 0  # the next post not yet received
        self.in_force: dict[str, dict[str, Post]] = {}  # market -> source -> its last post
        self.expiries: list[tuple[int, str, str]] = []  # (expires, market, source), soonest first
        self.replayed = Replayed(standing=set(self.standing))
        self.view = View()
        self._built = False

    def at(self, now: int) -> View:
        """The fair values in force at `now` (the same View object while nothing changed)."""
        changed = not self._built
        while self.next < len(self.posts) and self.posts[self.next].received <= now:
            self._receive(self.posts[self.next])
            self.next += 1
            changed = True
        while self.expiries and self.expiries[0][0] <= now:
            expires, cid, source = heapq.heappop(self.expiries)
            post = self.in_force.get(cid, {}).get(source)
            if post is not None and post.expires == expires:
                del self.in_force[cid][source]
                changed = True
        if changed:
            self.view = self._build()
            self._built = True
        return self.view

    def _receive(self, post: Post) -> None:
        self.in_force.setdefault(post.condition_id, {})[post.source] = post  # it replaces that source's last
        if post.expires is not None:
            heapq.heappush(self.expiries, (post.expires, post.condition_id, post.source))
        self.replayed.posts += 1
        self.replayed.sources.add(post.source)
        self.replayed.markets.add(post.condition_id)

    def _build(self) -> View:
        view = View()
        for cid in sorted(set(self.standing) | {c for c, posts in self.in_force.items() if posts}):
            signals = dict(self.standing.get(cid, {}))
            posted = self.in_force.get(cid, {})
            signals.update({source: (p.value, p.confidence, p.received) for source, p in posted.items()})
            # As live reads them (storage/engine_stores/trading_reads.py): the operator's wins, else the newest.
            source, (value, confidence, _) = max(signals.items(), key=lambda kv: (kv[0] == self.operator, kv[1][2]))
            view.fair[cid] = value
            view.confidence[cid] = ONE if source == self.operator else confidence
            view.sources[cid] = tuple(
                SourcedFair(name, v, ONE if name == self.operator else _micros(c), _micros(self.brier.get(name)))
                for name, (v, c, _) in sorted(signals.items()))
            self.replayed.most_sources = max(self.replayed.most_sources, len(signals))
        return view


def _probability(value: object) -> bool:
    return type(value) is int and 0 <= value <= ONE


def _micros(value: object) -> int | None:
    return value if type(value) is int and 0 <= value <= ONE else None


def from_rows(standing: Sequence[tuple[object, ...]], posts: Sequence[tuple[object, ...]],
              verdicts: Sequence[tuple[object, ...]], operator: str) -> ReplayedFairValues:
    """A replay's fair values from its scratch database's rows (storage/engine_stores/trading_reads.py
    `fair_value_history`), each field checked."""
    kept = [(str(r[0]), str(r[1]), _whole(r[2]), _micros(r[3]), _whole(r[4])) for r in standing]
    read = [Post(_whole(r[0]), None if r[1] is None else _whole(r[1]), str(r[2]), str(r[3]), _whole(r[4]),
                 _micros(r[5])) for r in posts]
    judged = {str(r[0]): (str(r[1]), _micros(r[2])) for r in verdicts}
    return ReplayedFairValues(kept, read, judged, operator)


def _whole(value: object) -> int:
    """A stored integer, or -1 (which no check takes: not a probability, not a time)."""
    return value if type(value) is int else -1

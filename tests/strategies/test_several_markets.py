"""The contract of several markets (engine/strategies/base.py), for every kind the desk can run (the
built-ins, the example plugin, the desk's own plugins: tests/strategies/kinds.py): a decision that covers
fewer of a strategy's markets (a decision on one market's event, the desk's default) is not a departure, so
each market is decided exactly as a strategy trading that market alone decides it, whichever of its
markets a call decides; a market leaves a strategy only when the engine says so (`left`, as its markets are
chosen), and what it kept for that market goes then, and only then.

The world is scripted (three markets whose mids walk, jump and trend for 40 minutes, each with fair values, a reference
price and followed trades, so that every kind has something to act on) and the state the same at every call:
what is compared is the strategy's own memory across calls."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from contracts.domain import (
    ONE,
    Book,
    CopiedTrade,
    Intent,
    Level,
    MarketView,
    Side,
    Snapshot,
    SourcedFair,
    StrategyState,
)
from contracts.market_filter import MarketCandidate
from engine.strategies.base import StrategyBase
from engine.trading.hosting.strategy_host import StrategyHost
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.strategies.builders import info, px
from tests.strategies.kinds import every_kind

KINDS = every_kind()
# Params beyond a kind's defaults that make it keep more per market (a kind not named here runs on its defaults).
VARIANTS: dict[str, list[dict[str, object]]] = {
    "market_making": [{"pull_move": 0.03, "pull_window_s": 30, "pull_cooldown_s": 20}],
    "relative_value": [{"against": "other_market", "warmup_s": 0}],
    "breakout": [{"window_s": 300, "margin": 0.02}],
    "momentum": [{"mode": "mean_reversion", "lookback_seconds": 300, "warmup_seconds": 60}],
}
CASES = [(kind, params) for kind in sorted(KINDS) for params in [{}, *VARIANTS.get(kind, [])]]
MARKETS = ("m0", "m1", "m2")
STEP_MS = 5_000
STEPS = 480  # 40 minutes: past every kind's default warm-up and window
CENT = 10_000


def _paths(seed: int) -> dict[str, list[int]]:
    """Each market's YES mid at each step: a walk of a cent at a time, with a jump of five now and then and
    a trend in the middle (each market its own)."""
    rng = random.Random(seed)
    paths: dict[str, list[int]] = {}
    for n, cid in enumerate(MARKETS):
        mid, path = 40 + 5 * n, []
        for step in range(STEPS):
            move = rng.choice((-1, 0, 0, 1)) + (5 * rng.choice((-1, 1)) if rng.random() < 0.03 else 0)
            if STEPS // 3 <= step < STEPS // 2:
                move += 1 if n % 2 == 0 else -1
            mid = min(85, max(15, mid + move))
            path.append(mid * CENT)
        paths[cid] = path
    return paths


def _book(token: str, mid: int, at: int) -> Book:
    return Book(token, bids=(Level(mid - CENT, px(60)), Level(mid - 2 * CENT, px(200))),
                asks=(Level(mid + CENT, px(60)), Level(mid + 2 * CENT, px(200))), updated_ms=at)


def _view(cid: str, mid: int, step: int, at: int) -> MarketView:
    """A market as every kind finds something in it: two-sided books, fair values from two sources, a fresh
    reference price and, every tenth step, a followed wallet's trade."""
    fair = min(ONE - CENT, max(CENT, mid + (8 if cid != "m1" else -8) * CENT))
    copies = tuple(CopiedTrade(f"{cid}-{s}", "whale", Side.BUY if s % 20 else Side.SELL, mid, px(20), s * STEP_MS)
                   for s in range(max(0, step - 5), step + 1) if s % 10 == 0)
    return MarketView(info=info(cid), yes=_book(f"{cid}-yes", mid, at), no=_book(f"{cid}-no", ONE - mid, at),
                      last_trade=mid, fair_value=fair, fair_confidence=ONE, reference=mid - 3 * CENT,
                      reference_at=at, reference_history=((at - STEP_MS, mid - 2 * CENT), (at, mid - 3 * CENT)),
                      copies=copies, fair_sources=(SourcedFair("operator", fair, ONE),
                                                   SourcedFair("model", fair, px("0.9"), px("0.1"))))


STATE = StrategyState(name="s", positions={}, open_orders=(), cash=px(1000))


def _said(intents: list[Intent], cid: str) -> list[tuple[object, ...]]:
    return [(i.quotes, i.reason, i.probability) for i in intents if i.condition_id == cid]


def _calls(seed: int) -> Iterator[tuple[int, int, list[str] | None]]:
    """(step, now, the markets one call decides; None: all of them, a timed pass): each step a timed pass
    now and then, else decisions on events of the markets that moved, one market a call, in a shuffled order."""
    rng = random.Random(seed)
    for step in range(STEPS):
        now = step * STEP_MS
        if step % 6 == 0:
            yield step, now, None
        else:
            for cid in rng.sample(MARKETS, rng.randint(1, len(MARKETS))):
                yield step, now, [cid]


@pytest.mark.parametrize(("kind", "params"), CASES)
def test_each_market_is_decided_as_a_strategy_trading_it_alone_decides_it(kind: str, params: dict[str, object]) -> None:
    cls = KINDS[kind]
    together = cls("s", params)
    if together.decides_whole():  # its markets decided together: on an event too (passes/event_decisions.py)
        pytest.skip(f"{kind} {params} decides its markets together: a market is never decided alone")
    alone = {cid: cls("s", params) for cid in MARKETS}
    paths = _paths(seed=len(kind))
    decided = dict.fromkeys(MARKETS, 0)
    for step, now, only in _calls(seed=7):
        views = {cid: _view(cid, paths[cid][step], step, now) for cid in MARKETS}
        chosen = list(MARKETS) if only is None else only
        shot = Snapshot(now, {cid: views[cid] for cid in chosen}, frozenset(MARKETS) - set(chosen))
        said = together.decide(shot, STATE, now)
        for cid in chosen:
            by_itself = alone[cid].decide(Snapshot(now, {cid: views[cid]}), STATE, now)
            assert _said(said, cid) == _said(by_itself, cid), (kind, step, cid, only)
            decided[cid] += 1
    assert min(decided.values()) > STEPS // 2
    assert together.kept_markets() == frozenset().union(*(a.kept_markets() for a in alone.values()))


def _decided(cls: type[StrategyBase], params: dict[str, object]) -> StrategyBase:
    """A strategy that decided its markets twice (a pair's two, for one that trades one against another)."""
    strategy = cls("s", params)
    markets = MARKETS[:2] if strategy.decides_whole() else MARKETS
    for now in (0, STEP_MS):
        strategy.decide(Snapshot(now, {cid: _view(cid, 50 * CENT, 0, now) for cid in markets}), STATE, now)
    return strategy


@pytest.mark.parametrize(("kind", "params"), [(k, p) for k, p in CASES if _decided(KINDS[k], p).kept_markets()])
def test_a_market_leaves_only_when_the_engine_says_so_and_its_state_goes_then(kind: str,
                                                                             params: dict[str, object]) -> None:
    """(The kinds that keep something per market in this world: the others have nothing to lose.)"""
    strategy = _decided(KINDS[kind], params)
    views = {cid: _view(cid, 50 * CENT, 0, 0) for cid in MARKETS}
    kept = strategy.kept_markets()
    assert kept <= set(MARKETS) and kept
    for cid in MARKETS:  # a decision on each one alone, the others undecided: nothing forgotten
        strategy.decide(Snapshot(2 * STEP_MS, {cid: views[cid]}, frozenset(MARKETS) - {cid}), STATE, 2 * STEP_MS)
        assert strategy.kept_markets() == kept
    strategy.decide(Snapshot(3 * STEP_MS, {}), STATE, 3 * STEP_MS)  # (an empty timed pass: none had a view)
    assert strategy.kept_markets() == kept
    gone = sorted(kept)[0]
    strategy.left(frozenset({gone}))
    assert strategy.kept_markets() == (frozenset() if strategy.decides_whole() else kept - {gone})  # (a pair: both)


def _host(tmp: Path, kind: str, markets: list[str]) -> StrategyHost:
    migrate(tmp / "t.db")
    db = Database(tmp / "t.db")
    with db.write() as conn:
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by) VALUES ('s', :k, '{}', :m, 1, 0, 0, 'test')"""),
                     {"k": kind, "m": json.dumps(markets)})
    return StrategyHost(db, clock=lambda: 0)


def test_the_engine_tells_a_strategy_which_markets_left_it_as_its_markets_are_chosen(tmp_path: Path) -> None:
    """The host (engine/trading/hosting/strategy_host.py) calls `left` for the markets a strategy keeps
    something for that its list or filter no longer selects, at a reload or a reselection: momentum's
    record of a market it no longer trades goes, the others' stay."""
    candidates = [MarketCandidate(info(cid), 0, 0, 0) for cid in MARKETS]
    host = _host(tmp_path, "momentum", list(MARKETS))
    host.reload(candidates)
    strategy = host.hosted["s"].instance
    views = {cid: _view(cid, 50 * CENT, 0, 0) for cid in MARKETS}
    strategy.decide(Snapshot(0, views), STATE, 0)
    assert strategy.kept_markets() == set(MARKETS)
    host.reselect(candidates[:2])  # the third is no longer known (closed, or gone from the catalog)
    assert strategy.kept_markets() == {"m0", "m1"}
    host.reselect(candidates)
    assert strategy.kept_markets() == {"m0", "m1"}  # back among its markets: it starts afresh there

"""The cost of a decision through the trading core, with 1 and 50 markets quoted: a timed pass
(`TradingCore.tick`) that changes nothing at the venue and one that cancels and places; and one
market's decision on an event (`EventDecisions.decide_market`, engine/trading/passes/event_decisions.py)
whose inputs did not change, whose wanted quotes are the working ones, and that replaces them.

The core runs as a backtest runs it (no network, the paper venue with zero latency, its own
scratch ledger written as a backtest writes it: unsynced, without the live desk's indexes and
triggers a backtest drops (engine/backtest/runner.py), each case's decisions in one transaction,
as a replay's batch of rows commits once, engine/backtest/cursor.py): a market maker quotes every
market, the books are set by hand, and each case times `await core.tick()`:

- no-op: nothing changed since the pass before (the wanted quotes are the working ones);
- replace: one market's book moved two ticks since the pass before (its two quotes cancelled
  and placed again on the paper venue).

And, of a decision that places or cancels, the part that is the risk gate's context (the ledger's
exposure, open orders and holdings, as its executor keeps them: engine/execution/figures.py); and
what the order trail costs it on a live desk (the Audit page's steps, read from the ledger's own rows: what a
decision writes for them is a cancel's `ending_at`, in the row it updates anyway, and its entry in
the partial index the page reads ends by, storage/sqlite/migrations/m0091_order_trail.py): the replacing decision
with that index and without it (a backtest's ledger drops it), in alternating blocks (a machine's
drift falls on both alike), its median, p99 and the ratio of the medians, in wall time and in CPU time.

A pass decides every market whatever changed, so a no-op pass costs the whole pass (the figure per
market is the pass divided by the markets quoted); an event's decision costs what changed.
Baseline, in this process: the strategy's own `decide` for one market on the same snapshot (the
least a decision can cost). Targets (issues 58 and 90): a no-op decision on an event <= 20 us, one
that replaces its quotes <= 200 us.

    python bench/decision_cost.py [--rounds 300] [--markets 1,50] [--trail-blocks 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from _common import percentile
from _recording import SH, TICK, write_recording
from sqlalchemy import text

from contracts.settings import load_settings
from engine.backtest.cursor import SimClock
from engine.backtest.replay import Replay, ReplayFeed
from engine.backtest.runner import SCRATCH_SYNC, SCRATCH_UNUSED_INDEXES, SCRATCH_UNUSED_TRIGGERS, SCRATCH_WRITE_BEHIND
from engine.risk.gate import TradingState
from engine.trading.core import TradingCore
from engine.trading.hosting.views import market_views, snapshot, strategy_state
from engine.venues.latency import ZERO
from storage.research.backtest_scratch import drop_unused
from storage.sqlite.db import Database

MM = {"size": 20, "half_spread": 0.02, "refresh_threshold": 0.005, "max_spread": 0.2}
LIMITS = {"max_total_exposure": "10000000", "max_market_exposure": "10000000", "max_strategy_exposure": "10000000",
          "max_event_exposure": "10000000", "max_correlated_exposure": "10000000", "max_open_orders": "10000",
          "max_order_rate": "100000", "max_daily_loss": "10000000", "max_drawdown": "100"}
MID = 50 * TICK
STEP_MS = 100  # simulated time between passes
TARGET_NOOP_US, TARGET_ACTING_US = 20, 200  # issue 58's no-op; issue 90's acting decision (was 150)
TRAIL_INDEX = "ix_orders_ending"  # the order trail's index: the trail case adds and drops it


def book(mid: int, wide: int = 0) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Ten levels a side from `wide` + 1 ticks around `mid`."""
    levels = range(1 + wide, 11 + wide)
    return [(mid - TICK * k, 100 * SH) for k in levels], [(mid + TICK * k, 100 * SH) for k in levels]


async def started_core(folder: Path, markets: int) -> tuple[TradingCore, SimClock, list[str]]:
    path = folder / "cost.db"
    cids, start, _ = write_recording(path, markets=markets, events=1)
    db = Database(path, writer_sync=SCRATCH_SYNC, write_behind=SCRATCH_WRITE_BEHIND)  # a backtest's scratch ledger
    with db.write() as conn:
        conn.execute(text("""INSERT INTO strategies (name, kind, params, markets, enabled, created_at, updated_at,
                                 updated_by) VALUES ('mm', 'market_making', :p, :m, 1, 0, 0, 'bench')"""),
                     {"p": json.dumps(MM), "m": json.dumps(cids)})
        for name, value in LIMITS.items():
            conn.execute(text("INSERT INTO risk_limits (name, value, version, updated_at, updated_by) "
                              "VALUES (:n, :v, 1, 0, 'bench')"), {"n": name, "v": value})
    # as a backtest's runner leaves its scratch ledger; the trail's index until the trail case takes it
    drop_unused(db, indexes=[i for i in SCRATCH_UNUSED_INDEXES if i != TRAIL_INDEX], triggers=SCRATCH_UNUSED_TRIGGERS)
    clock = SimClock(start)
    settings = load_settings({"TRADER_ENV_FILE": str(folder / "none"), "TRADER_DB": str(path)})
    core = TradingCore(settings, db, clock=clock, replay=Replay(0, ReplayFeed(), ZERO))
    await core.start(operator=True)
    core.gate.unblock()
    for cid in cids:
        set_mid(core, clock, cid, MID)
    for _ in range(100):  # until every quote rests (the gate approves so many a pass)
        clock.now += STEP_MS
        await core.tick()
        if len(core.executor.state.orders) == 2 * markets:
            break
    clock.now += STEP_MS
    await core.tick()  # settled
    return core, clock, cids


def set_mid(core: TradingCore, clock: SimClock, cid: str, mid: int, wide: int = 0) -> None:
    market = core.catalog.get(cid)
    assert market is not None
    bids, asks = book(mid, wide)
    core.books.apply_snapshot(market.yes_token, bids, asks, clock.now)
    core.books.apply_snapshot(market.no_token, [(1_000_000 - p, s) for p, s in asks],
                              [(1_000_000 - p, s) for p, s in bids], clock.now)


async def timed_passes(core: TradingCore, clock: SimClock, cids: list[str], rounds: int,
                       move: str | None) -> list[float]:
    """`rounds` passes in microseconds; `move`: the market whose book moves before each."""
    samples = []
    for n in range(rounds):
        clock.now += STEP_MS
        for cid in cids:  # as a live feed keeps them: fresh, and the same (a stale book is withdrawn)
            set_mid(core, clock, cid, MID + 2 * TICK * ((n + 1) % 2) if cid == move else MID)
        working = {o.id for o in core.executor.state.orders.values()}
        began = time.perf_counter()
        await core.tick()
        samples.append((time.perf_counter() - began) * 1e6)
        changed = {o.id for o in core.executor.state.orders.values()} != working
        assert changed == (move is not None), "the case did not do what it says"
        assert core.risk.memory.trading_state is TradingState.ACTIVE, "a breaker acted: not the normal pass"
    return samples


async def timed_decisions(core: TradingCore, clock: SimClock, cid: str, rounds: int, case: str,
                          cpu: list[float] | None = None) -> list[float]:
    """`rounds` decisions of market `cid` on an event, in microseconds. `case`: "inputs" (nothing it
    reads changed), "intents" (its touch a tick wider or narrower around the same mid: read, decided,
    wants what works), "replace" (its book moved two ticks: its quotes cancelled and placed again).
    `cpu`: also each decision's CPU time (this thread's), which a busy host's waits do not inflate."""
    samples = []
    events = core.events
    for n in range(rounds):
        if case != "inputs":
            clock.now += 1
            set_mid(core, clock, cid, MID + 2 * TICK * ((n + 1) % 2) if case == "replace" else MID,
                    wide=clock.now % 2 if case == "intents" else 0)  # (each call alternates it)
        working = {o.id for o in core.executor.state.orders.values()}
        skipped, stopped = events.unchanged_inputs, events.unchanged_intents
        began, began_cpu = time.perf_counter(), time.thread_time()
        await events.decide_market(cid)
        samples.append((time.perf_counter() - began) * 1e6)
        if cpu is not None:
            cpu.append((time.thread_time() - began_cpu) * 1e6)
        changed = {o.id for o in core.executor.state.orders.values()} != working
        assert changed == (case == "replace"), "the case did not do what it says"
        assert (events.unchanged_inputs > skipped) == (case == "inputs"), "the inputs check did not act as named"
        assert (events.unchanged_intents > stopped) == (case == "intents"), "the intents check did not act as named"
    return samples


def take_trail_index(core: TradingCore) -> str:
    """Drop the order trail's index (a backtest's ledger has none); its statement, for the trail case."""
    with core.db.write() as conn:
        sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :n"),
                           {"n": TRAIL_INDEX}).scalar_one()
        conn.execute(text(f"DROP INDEX {TRAIL_INDEX}"))
    return str(sql)


async def trail_cost(core: TradingCore, clock: SimClock, cid: str, rounds: int,
                     blocks: int, index_sql: str) -> dict[str, list[float]]:
    """The replacing decision with the order trail's index (`index_sql`) and without it, in `blocks`
    alternating blocks of rounds // blocks each, in microseconds: wall and CPU time, with ("on",
    "on_cpu") and without ("off", "off_cpu")."""
    per_block = max(2, rounds // blocks // 2 * 2)  # even: each block ends where the next starts from (the mid back)
    times: dict[str, list[float]] = {"on": [], "off": [], "on_cpu": [], "off_cpu": []}
    try:
        for block in range(2 * blocks):
            trail_on = block % 2 == 0
            with core.db.write() as conn:
                conn.execute(text(f"DROP INDEX IF EXISTS {TRAIL_INDEX}"))
                if trail_on:
                    conn.execute(text(index_sql))
            arm = "on" if trail_on else "off"
            times[arm] += await timed_decisions(core, clock, cid, per_block, "replace", times[f"{arm}_cpu"])
    finally:
        with core.db.write() as conn:
            conn.execute(text(f"DROP INDEX IF EXISTS {TRAIL_INDEX}"))
    return times


def gate_contexts(core: TradingCore, cid: str, rounds: int) -> list[float]:
    """The risk gate's context for one market's decision on an event (`RiskMonitor.new_tick`, not
    timed: what `EventDecisions._place` builds before the gate), in microseconds: the ledger's
    figures (exposure, open orders, holdings) as its executor keeps them (engine/execution/figures.py)."""
    views = market_views([cid], core.catalog, core.books, {}, None)
    state = core.executor.state
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        core.risk.new_tick(core.clock(), state, core.catalog, views, timed=False)
        samples.append((time.perf_counter() - began) * 1e6)
    return samples


def strategy_alone(core: TradingCore, cid: str, rounds: int) -> list[float]:
    """The baseline: the strategy's decide for one market, on the snapshot a pass builds."""
    hosted = core.host.hosted["mm"]
    now = core.clock()
    views = market_views(core.link.relevant_markets(), core.catalog, core.books, {}, None)
    shot = snapshot(now, views, [cid])
    state = strategy_state("mm", [cid], core.catalog, core.executor.state, 0, None, {})
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        hosted.instance.decide(shot, state, now)
        samples.append((time.perf_counter() - began) * 1e6)
    return samples


def line(name: str, samples: list[float], markets: int, baseline: float) -> None:
    p50, p99 = statistics.median(samples), percentile(samples, 99)
    print(f"{name:<34} p50 {p50:9.1f} us  p99 {p99:9.1f} us  per market quoted {p50 / markets:8.1f} us  "
          f"| {p50 / baseline:6.1f}x the strategy's own decide", flush=True)


def one(name: str, samples: list[float], baseline: float, target: int | None = None) -> None:
    p50, p99 = statistics.median(samples), percentile(samples, 99)
    verdict = "" if target is None else f" | target p50 <= {target} us: {'met' if p50 <= target else 'MISSED'}"
    print(f"{name:<34} p50 {p50:9.1f} us  p99 {p99:9.1f} us  (one market)                  "
          f"| {p50 / baseline:6.1f}x the strategy's own decide{verdict}", flush=True)


async def case(markets: int, rounds: int, trail_blocks: int) -> None:
    with tempfile.TemporaryDirectory(prefix="decision-cost-") as tmp:
        core, clock, cids = await started_core(Path(tmp), markets)
        trail_index = take_trail_index(core)  # the ledger is now a backtest's
        try:
            base = statistics.median(strategy_alone(core, cids[0], rounds))
            print(f"-- {markets} market(s) quoted; the strategy's decide for one market: p50 {base:.1f} us", flush=True)
            with core.db.batch():  # each case's writes in one transaction, as a replay's batch
                quiet = await timed_passes(core, clock, cids, rounds, None)
            line("no-op pass (nothing changed)", quiet, markets, base)
            with core.db.batch():
                moving = await timed_passes(core, clock, cids, rounds, cids[0])
            line("pass replacing one market's quotes", moving, markets, base)
            await timed_decisions(core, clock, cids[0], 1, "intents")  # its inputs as the cases start from
            for name, what, target in (("event: inputs unchanged (no-op)", "inputs", TARGET_NOOP_US),
                                       ("event: wants what works (no gate)", "intents", None),
                                       ("event: replaces its quotes", "replace", TARGET_ACTING_US)):
                with core.db.batch():
                    samples = await timed_decisions(core, clock, cids[0], rounds, what)
                one(name, samples, base, target)
            one("its gate's context (of it)", gate_contexts(core, cids[0], rounds), base)
            trail = await trail_cost(core, clock, cids[0], rounds, trail_blocks, trail_index)
            one("replaces, order trail indexed", trail["on"], base)
            one("replaces, no order trail index", trail["off"], base)
            for what, on, off in (("wall", trail["on"], trail["off"]), ("CPU", trail["on_cpu"], trail["off_cpu"])):
                print(f"{'order trail, ' + what + ': with / without':<34} p50 {statistics.median(on):8.1f} / "
                      f"{statistics.median(off):8.1f} us (ratio {statistics.median(on) / statistics.median(off):5.3f})"
                      f"  p99 {percentile(on, 99):8.1f} / {percentile(off, 99):8.1f} us (ratio "
                      f"{percentile(on, 99) / percentile(off, 99):5.3f})  ({trail_blocks} alternating blocks each)",
                      flush=True)
        finally:
            await core.stop()
            core.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--markets", default="1,50")
    parser.add_argument("--trail-blocks", type=int, default=10,
                        help="alternating blocks of the order trail's case, with and without its triggers")
    args = parser.parse_args()
    for markets in (int(m) for m in args.markets.split(",")):
        asyncio.run(case(markets, args.rounds, args.trail_blocks))
    print(f"targets (issues 58, 90): a no-op decision on an event <= {TARGET_NOOP_US} us, one that replaces its "
          f"quotes <= {TARGET_ACTING_US} us")


if __name__ == "__main__":
    main()

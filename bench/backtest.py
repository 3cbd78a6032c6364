"""Backtest replay speed and memory: recorded market events through the market-making
strategy, the risk gate, the executor and the paper fill model (the same code as live).

Two replays of each recording, each in a fresh process (so its peak memory is its own):
- at the default cadence, a recorded decision every 100 market events (a busy desk);
- with one decision in the whole replay (the cost of the events alone: the book and the
  paper fill model listening to it).
Printed for each: events/s wall (the whole process: start-up, imports, replay), replay (the
backtest call alone) and on the replay's own CPU time (steadier on a shared machine), the
cost per decision ((default - one) / extra decisions), peak RSS, and for the first size the
time per progress chunk (1/200 of the run; median, p99) against a baseline timed the same
way in this process: reading the same events back and applying them to a bare book cache.
`--large` adds recordings of 4 M and 20 M market events (peak RSS must not grow with the
length; the 20 M recording takes several GB of temporary disk and a few minutes to write).
`--code DIR` runs the replays on another checkout's code (an A/B on one recording).
A third replay decides on events as live does (`decide_on_events` = 1: a market decided after each
event within its strategy's reach, each print, each of its own fills and order updates, besides the
timed passes at the markers; the bench's plain market maker reads only the touch's prices, so only
their moves and its own orders' news decide it), with hftbacktest deciding on the same events beside
it by the same rule; the orders each filled are compared (counts, sides, prices; `--no-events` skips it).
The yardstick: hftbacktest replaying the same recording with the same quoting at the same
decision markers (bench/hftbacktest_side.py, in its own virtualenv, installed once with
`--install-hftbacktest`; "skipped" where it is not there): the same half-spread around the mid with
no inventory skew, routed as the desk's planner routes (an ask without YES to sell is a NO bid),
within the same inventory cap. The recording prints each YES trade on NO too (its books are mirrors:
a YES buyer lifting the ask is a NO seller hitting the bid), so a maker's NO bid fills from prints
in both. Printed beside it: its whole process's wall against the desk's (issue 74's target: >= 1.0x,
its numba compile included) and the desk's replay alone against its replay alone (<= 4x).
Beside it NautilusTrader, the peer whose strategies, risk and execution run unchanged in its backtests
as the desk's do (bench/nautilus_side.py, its own virtualenv, `--install-nautilus` once): the same
recording in its data catalog, the same quoting by a Strategy of its own on its BacktestEngine, at both
cadences; its line prints the desk's speed as a multiple of its own (issue 90: >= 2x deciding on events).
Every yardstick's time to convert the recording into its own data is shown (once a recording, not in
its wall). The order-rate limit is lifted on the desk at both cadences: every side places what it wants.
Each replay's process writes and reuses its bytecode, as a user's checkout does (and says which trading
core it ran: the source, or with `--code` a checkout of issues 74 to 90 its compiled build).
Targets: >= 300 k events/s at the default cadence, >= 1 M with one decision, <= 250 MB peak
RSS at every size, with every fill's markouts computed (engine/backtest/markouts.py).
The same code reads about 10 % apart from run to run on a shared 2-core machine and up to ~25 %
between machines: compare two versions with `--code DIR` in alternating runs on one recording, not
against a figure from another day.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from itertools import islice
from pathlib import Path

from _common import ROOT, report
from _recording import TICK, write_recording
from _yardsticks import HFTBACKTEST, NAUTILUS, children_cpu, line, nautilus_line

from engine.backtest.replay import apply
from engine.feeds.books import BookCache
from storage.research.backtest_recording import recorded_events

# Quoting as hftbacktest's side quotes (bench/hftbacktest_side.py): a half-spread around the mid, no
# skew by inventory (it has none), the maker's default inventory cap (100 shares) on both.
PARAMS = {"size": 20, "half_spread": 0.01, "max_spread": 0.5, "skew_per_share": 0}
TARGET_DEFAULT, TARGET_ONE, TARGET_RSS_MB = 300_000, 1_000_000, 250
LARGE_SIZES = (4_000_000, 20_000_000)


def baseline_chunks(path: Path, tokens: list[str], start: int, end: int, chunk: int) -> list[float]:
    """Milliseconds per full chunk of `chunk` events, read back and applied to a bare book cache."""
    books = BookCache()
    events = recorded_events(path, tokens, start, end)
    samples: list[float] = []
    while True:
        began = time.perf_counter()
        batch = list(islice(events, chunk))
        for event in batch:
            if event[2] != "decide":
                apply(books, event)
        if len(batch) < chunk:
            return samples[1:]
        samples.append((time.perf_counter() - began) * 1000)


# One replay in a fresh interpreter, on the code in its working directory (`python -c` puts
# that first on sys.path); prints its figures as one JSON line.
CHILD = """
import json, os, resource, sqlite3, sys, time
from pathlib import Path
from engine.backtest.runner import BacktestSpec, run_sync
from contracts.settings import load_settings
try:  # which trading core runs (a checkout of issues 74 to 90 may run a compiled one; before and since: the source)
    from contracts.compiled_core import installed
    core = "compiled" if installed() is not None else "source"
except ImportError:
    core = "source"

db, work, params = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])
with sqlite3.connect(db) as conn:
    markets = [r[0] for r in conn.execute("SELECT condition_id FROM markets ORDER BY condition_id")]
    start, end = conn.execute("SELECT MIN(at), MAX(at) FROM ticks").fetchone()
settings = load_settings({"TRADER_ENV_FILE": os.devnull, "TRADER_DB": str(db)})
marks = []
# Zero latency, chosen: the bench times the replay and the decisions; a latency model would step
# over the markers passed during each call's trip, and the decision count (the cadence) would drift.
spec = BacktestSpec("market_making", params, start, end, tuple(markets), seed=1, latency="zero")
began, cpu = time.perf_counter(), time.process_time()
result = run_sync(spec, db, settings, work_dir=work,
                  progress=lambda done, total: marks.append((done, time.perf_counter())))
replay_s, cpu_s = time.perf_counter() - began, time.process_time() - cpu
sizes = [after - before for (before, _), (after, _) in zip(marks, marks[1:])]
full = max(set(sizes), key=sizes.count) if sizes else 0
chunks = [(b - a) * 1000 for (before, a), (after, b) in zip(marks, marks[1:]) if after - before == full]
with sqlite3.connect(db) as conn:  # each fill as the YES book sees it (an ask is a NO bid): (market, side, price)
    yes = {r[0]: n for n, r in enumerate(conn.execute("SELECT yes_token FROM markets ORDER BY condition_id"))}
    no = {r[0]: n for n, r in enumerate(conn.execute("SELECT no_token FROM markets ORDER BY condition_id"))}
with sqlite3.connect(work / "backtest.db") as conn:
    rows = conn.execute("SELECT token_id, side, price, matched_at FROM fills WHERE status != 'FAILED' ORDER BY id"
                        ).fetchall()
    filled = conn.execute("SELECT token_id, side, price FROM orders WHERE filled > 0 ORDER BY id").fetchall()
# Each order filled, whole or in part (as hftbacktest's side notes them), as the YES book sees it.
fill_list = [[yes[t], side, price] if t in yes else [no[t], "SELL" if side == "BUY" else "BUY", 1_000_000 - price]
             for t, side, price in filled]
tenths = [0] * 10  # when in the replay the fills came (a desk that stops filling shows it here)
for *_, at in rows:
    tenths[min(9, max(0, (at - start) * 10 // max(1, end - start)))] += 1
print(json.dumps({"events": result.events, "decisions": result.decisions, "fill_list": fill_list, "tenths": tenths,
                  "orders": getattr(result, "order_count", len(result.orders)),
                  "fills": getattr(result, "fill_count", len(result.fills)),
                  "marked_out": sum(1 for f in result.fills if f.get("markout_1s") is not None),
                  "kept": len(result.fills),
                  "replay_s": replay_s, "cpu_s": cpu_s, "chunk": full, "chunks_ms": chunks, "core": core,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def replay_in_child(db: Path, work: Path, code: Path) -> dict:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    # As a user's checkout runs it: its modules' bytecode written once and reused (an environment that
    # forbids writing it would have every run compile the desk's source again, ~1 s of its wall).
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONDONTWRITEBYTECODE")}
    began, cpu = time.perf_counter(), children_cpu()
    out = subprocess.run([sys.executable, "-c", CHILD, str(db), str(work), json.dumps(PARAMS)], cwd=code, env=env,
                         capture_output=True, text=True)
    cpu = children_cpu() - cpu
    if out.returncode != 0:
        raise SystemExit(child_failure(code, out.returncode, out.stderr))
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    figures["wall_s"], figures["process_cpu_s"] = time.perf_counter() - began, cpu
    return figures


def child_failure(code: Path, returncode: int, stderr: str) -> str:
    """What to print when the replay in `code` fails: its own error (the exception and where in
    that checkout it was raised), not the command line that ran it."""
    lines = stderr.strip().splitlines()
    raised = [line for line in lines if re.match(r"[A-Za-z_][\w.]*(Error|Exception)\b", line)]
    where = [line.strip() for line in lines if line.lstrip().startswith(f'File "{code.resolve()}')]
    error = (raised[-1] if raised else "\n".join(lines[-5:]) or "(it printed nothing)")[:600]
    message = f"the replay with the code in {code} failed (exit {returncode}): {error}"
    if where:
        message += f"\n  at {where[-1]}"
    if any(word in stderr for word in ("no such column", "no such table", "has no column")):
        message += ("\nThe recording is written with this checkout's schema and that code expects another "
                    "(compare storage/sqlite/migrations/ in both).")
    elif "No module named 'engine'" in stderr:
        message += "\n--code must be a checkout of this project (the folder holding engine/ and storage/)."
    return message


def deciding_on_events(path: Path, on: bool) -> None:
    """Set the recording's desk to decide on events (or back to its default): as live with
    `decide_on_events` on, with no least gap between a market's decisions. Off: at the recorded markers
    only (the timed passes), said explicitly, since the desk decides on events by default. Either way
    with the order-rate limit lifted, so that it places every order it wants, as the yardsticks' market
    makers do: the same work on both sides (the desk's default 120 a minute refused most of its quotes
    at the default cadence, where it then sent a third of hftbacktest's orders)."""
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM settings WHERE key IN ('decide_on_events', 'decision_min_gap_ms')")
        conn.execute("DELETE FROM risk_limits WHERE name = 'max_order_rate'")
        conn.execute("INSERT INTO risk_limits (name, value, version, updated_at, updated_by) "
                     "VALUES ('max_order_rate', '100000', 1, 0, 'bench')")
        if not on:
            conn.execute("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                         "VALUES ('decide_on_events', '0', 1, 0, 'bench')")
        if on:
            conn.executemany("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                             "VALUES (?, ?, 1, 0, 'bench')", [("decide_on_events", "1"), ("decision_min_gap_ms", "0")])


def reach_ticks() -> int:
    """How many ticks from the touch a level change decides the bench's market maker (its reach);
    -1 when it reads only the touch's prices (then only their moves decide it, as on the desk:
    engine/trading/passes/event_decisions.py)."""
    from engine.strategies.registry import build_strategy
    strategy = build_strategy("bench", "market_making", PARAMS)
    return -1 if strategy.reads_touch_prices() else -(-strategy.reach() // TICK)


def fills_compared(desk: dict, other: dict) -> str:
    """The two runs' fills side by side: counts by side, and how many are the same (market, side, price)."""
    ours = Counter((m, side, price) for m, side, price in desk["fill_list"])
    theirs = Counter((m, side, price) for m, side, price in other["fill_list"])
    same = sum((ours & theirs).values())
    sides = {name: Counter(side for _, side, _ in run["fill_list"]) for name, run in (("desk", desk),
                                                                                        ("hftbacktest", other))}
    mean = {name: (sum(p for *_, p in run["fill_list"]) / len(run["fill_list"]) / 1e6 if run["fill_list"] else 0)
            for name, run in (("desk", desk), ("hftbacktest", other))}
    return (f"    orders filled (whole or in part) compared: desk {len(desk['fill_list']):,} (buy "
            f"{sides['desk']['BUY']:,}, sell {sides['desk']['SELL']:,}, mean price {mean['desk']:.4f}), hftbacktest "
            f"{len(other['fill_list']):,} (buy {sides['hftbacktest']['BUY']:,}, sell {sides['hftbacktest']['SELL']:,}, "
            f"mean price {mean['hftbacktest']:.4f}); {same:,} the same (market, side, price) in both. Both quote and "
            f"route alike (bench/hftbacktest_side.py); they differ in the fill model: the paper venue queues an "
            f"order behind the level's whole recorded size and fills it from prints through it or the book "
            f"crossing it (engine/venues/paper_fills.py), hftbacktest's risk-averse queue model advances the queue "
            f"on every size decrease")


def keep_one_decision(path: Path) -> None:
    """Strip the recording of every decision marker but its first (in place: a copy of a large
    recording would double its disk)."""
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM ticks WHERE kind = 'decide' AND id > (SELECT MIN(id) FROM ticks WHERE kind = "
                     "'decide')")


def run_line(label: str, run: dict, target: int) -> str:
    marked = (f"{run.get('marked_out', 0):,} marked out" if run.get("kept", run["fills"]) >= run["fills"] else
              f"every one marked out into the metrics; {run['marked_out']:,} of the {run['kept']:,} kept rows carry "
              f"a 1 s markout")
    return (f"    {label}: {run['events']:,} events, {run['decisions']:,} decisions, {run['orders']:,} orders, "
            f"{run['fills']:,} fills ({marked}; by tenth of the replay {run.get('tenths', '?')}) | "
            f"{run['events'] / run['wall_s']:,.0f} events/s wall ({run['wall_s']:.1f} s), "
            f"{run['events'] / run['replay_s']:,.0f} replay ({run['replay_s']:.1f} s; "
            f"{run['events'] / run['cpu_s']:,.0f} on its CPU time) | target {target:,} | "
            f"peak RSS {run['rss_mb']:,.0f} MB (target <= {TARGET_RSS_MB}) | trading core: {run.get('core', 'source')}")


def bench_size(tmp: Path, events: int, args: argparse.Namespace, *, chunks: bool) -> None:
    path = tmp / f"recorded-{events}.db"
    began = time.perf_counter()
    write_recording(path, markets=args.markets, events=events, events_per_decision=args.events_per_decision,
                    mirror_prints=True)
    deciding_on_events(path, False)  # the default cadence and one decision: the recorded markers only
    print(f"{events:,} market events: recording written in {time.perf_counter() - began:.1f} s; "
          f"replaying with the code in {args.code}", flush=True)
    default = replay_in_child(path, tmp / "work", args.code)
    yardstick = (HFTBACKTEST.unavailable() or HFTBACKTEST.run(path, tmp / "hftbacktest")) if chunks else None
    nautilus = (NAUTILUS.unavailable() or NAUTILUS.run(path, tmp / "nautilus")) if chunks else None
    on_events = on_events_yardstick = on_events_nautilus = None
    if chunks and not args.no_events:  # the live cadence: decisions on events, the same quoting in all
        deciding_on_events(path, True)
        on_events = replay_in_child(path, tmp / "work-events", args.code)
        deciding_on_events(path, False)
        on_events_yardstick = (HFTBACKTEST.unavailable()
                               or HFTBACKTEST.run(path, tmp / "hftbacktest-events", reach_ticks()))
        on_events_nautilus = NAUTILUS.unavailable() or NAUTILUS.run(path, tmp / "nautilus-events", reach_ticks())
    if chunks:
        with sqlite3.connect(path) as conn:
            tokens = [t for row in conn.execute("SELECT yes_token, no_token FROM markets") for t in row]
            start, end = conn.execute("SELECT MIN(at), MAX(at) FROM ticks").fetchone()
        base = baseline_chunks(path, tokens, start, end, default["chunk"])
        report(f"backtest, per chunk of {default['chunk']:,} events", default["chunks_ms"], base,
               target=f"p50 <= {default['chunk'] * 1000 / TARGET_DEFAULT:.1f} ms ({TARGET_DEFAULT:,} events/s)",
               baseline_name="read + apply to a book cache")
    keep_one_decision(path)
    one = replay_in_child(path, tmp / "work-one", args.code)
    for file in tmp.glob(f"{path.name}*"):
        file.unlink()
    for label, run, target in (("default cadence", default, TARGET_DEFAULT), ("one decision", one, TARGET_ONE)):
        print(run_line(label, run, target))
    if yardstick is not None:
        print(line(yardstick, default))
    if nautilus is not None:
        print(nautilus_line(nautilus, default))
    if on_events is not None and on_events_yardstick is not None:
        print(run_line("on events (decide_on_events = 1)", on_events, TARGET_DEFAULT))
        print(line(on_events_yardstick, on_events, "on events"))
        if not isinstance(on_events_yardstick, str):
            print(fills_compared(on_events, on_events_yardstick))
    if on_events_nautilus is not None and on_events is not None:
        print(nautilus_line(on_events_nautilus, on_events, "on events"))
    extra = default["decisions"] - one["decisions"]
    if extra > 0:
        print(f"    per decision: {(default['replay_s'] - one['replay_s']) * 1000 / extra:.2f} ms "
              f"({(default['cpu_s'] - one['cpu_s']) * 1000 / extra:.2f} ms CPU): (default - one decision) replay "
              f"time / {extra:,} extra decisions", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--large", action="store_true",
                        help=f"also replay recordings of {' and '.join(f'{n:,}' for n in LARGE_SIZES)} market events "
                             "(peak RSS at each; several GB of temporary disk)")
    parser.add_argument("--markets", type=int, default=5)
    parser.add_argument("--events-per-decision", type=int, default=100,
                        help="market events between two recorded decisions (the engine decides every 500 ms: "
                             "100 is a busy desk at ~200 events/s)")
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose code replays (default: this one)")
    parser.add_argument("--no-events", action="store_true",
                        help="skip the run deciding on events (decide_on_events = 1) and its hftbacktest twin")
    for stick in (HFTBACKTEST, NAUTILUS):
        parser.add_argument(stick.flag, action="store_true",
                            help=f"first install {stick.pinned} into {stick.venv} (its own virtualenv; the network "
                                 "is needed once) to print the desk's speed against it")
    args = parser.parse_args()
    for stick, asked in ((HFTBACKTEST, args.install_hftbacktest), (NAUTILUS, args.install_nautilus)):
        if asked and (why := stick.install()):
            print(f"{stick.name}: not installed ({why})")
    sizes = [args.events, *(n for n in LARGE_SIZES if args.large and n != args.events)]
    with tempfile.TemporaryDirectory() as tmp:
        for n, events in enumerate(sizes):
            bench_size(Path(tmp), events, args, chunks=n == 0)


if __name__ == "__main__":
    main()

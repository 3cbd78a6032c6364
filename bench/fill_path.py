"""A venue fill through `EventApplier.apply` into the ledger (engine/execution/event_applier.py →
store.py → storage/engine_stores/execution_ledger.py), against the code before the fill's path was
made one call down with a statement per row it changes (issue 71: six statements, three of them
reads, in six calls into the ledger's SQL), kept in bench/baselines/ (that commit's three modules)
and run in the same process on the same reports, in alternating blocks (a drift of the machine's
load falls on both alike).

The load: a paper ledger of 50 markets, one strategy holding both tokens of each, one resting order
per token and side (size large enough never to fill up); each report a new fill of one of them,
later in match order than the position's others (the common case: a fill as it happens), then the
status moves of each, as a live venue sends them. Four cases, each timed per report:

- new fill (MATCHED), in an open transaction (the inbox's drained batch: its commit is not timed);
- status move MATCHED → MINED (its shares settle), the same way;
- status move MINED → CONFIRMED (its position unchanged), the same way;
- new fill, one a transaction with its synced commit (synchronous=FULL, as the live engine's writer).

Printed per case: the statements and calls into the ledger's SQL a report costs, each side's median
and p99, and the ratio of the medians (now / before), with the machine's load average.

    python bench/fill_path.py [--reports 2000] [--synced 300] [--baseline-commit COMMIT]

--baseline-commit reads another commit's three modules from git instead (needs a git clone).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from _common import ROOT, report

from contracts.domain import MarketInfo, Outcome, Side, Tif
from contracts.order_status import OrderStatus
from engine.execution import store
from engine.execution.executor import Executor
from engine.execution.transactions import OrderTracker
from engine.feeds.catalog import MarketCatalog
from engine.venues.base import TradeEvent, TradeStatus, VenueEvent, VenueTrade
from storage.engine_stores import execution_ledger
from storage.sqlite.db import Database, Synchronous
from storage.sqlite.migrations import migrate

MARKETS = 50
SH = 1_000_000
BLOCK = 100  # reports per block; the two sides take turns by block
BEFORE = "be2f5dd"  # the last commit before the fill's path was flattened
MODULES = {"execution_ledger": "storage/engine_stores/execution_ledger.py", "store": "engine/execution/store.py",
           "event_applier": "engine/execution/event_applier.py"}


def source_before(name: str, commit: str) -> str:
    if commit == BEFORE:
        return (ROOT / "bench" / "baselines" / f"fill_path_{BEFORE}_{name}.py.txt").read_text()
    try:
        return subprocess.run(["git", "show", f"{commit}:{MODULES[name]}"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        sys.exit(f"cannot read {MODULES[name]} of {commit} from git ({exc}); run from a git clone of the project")


@contextmanager
def standing_in(modules: dict[str, types.ModuleType]) -> Iterator[None]:
    """`modules` in place of today's under their dotted names, while the old code imports them
    (`from package import module` reads the package's attribute, `from package.module import x`
    sys.modules): nothing else ever sees them."""
    saved = {dotted: sys.modules[dotted] for dotted in modules}
    for dotted, module in modules.items():
        _put(dotted, module)
    try:
        yield
    finally:
        for dotted, module in saved.items():
            _put(dotted, module)


def _put(dotted: str, module: types.ModuleType) -> None:
    package, _, name = dotted.rpartition(".")
    sys.modules[dotted] = module
    setattr(importlib.import_module(package), name, module)


def module_before(name: str, commit: str) -> types.ModuleType:
    module = types.ModuleType(f"fill_path_before_{name}")
    sys.modules[module.__name__] = module  # its dataclasses look their module up by name
    exec(compile(source_before(name, commit), f"{commit}:{MODULES[name]}", "exec"), module.__dict__)
    return module


def applier_before(commit: str) -> type:
    """The old EventApplier, bound to the old store and the old SQL (today's everything else)."""
    ledger = module_before("execution_ledger", commit)
    with standing_in({"storage.engine_stores.execution_ledger": ledger}):
        old_store = module_before("store", commit)
    with standing_in({"storage.engine_stores.execution_ledger": ledger, "engine.execution.store": old_store}):
        applier: type = module_before("event_applier", commit).EventApplier
    return applier


@dataclass
class Contender:
    """One side of the comparison: an executor on its own ledger file, with the applier measured."""

    name: str
    executor: Executor
    apply: Callable[[VenueEvent], None]
    venue_order_ids: list[str]


def build(folder: Path, name: str, applier: type | None, synchronous: Synchronous) -> Contender:
    path = folder / f"{name}.db"
    migrate(path)
    db = Database(path, writer_sync=synchronous)
    markets = [MarketInfo(f"c{i}", "?", f"y{i}", f"n{i}", tick=10_000, min_size=5 * SH) for i in range(MARKETS)]
    catalog = MarketCatalog(markets)
    clock = lambda: 1_800_000_000_000  # noqa: E731  # a fixed clock: the same rows on both sides
    ex = Executor(db, venue=SimpleNamespace(events=asyncio.Queue()), catalog=catalog, mode="paper", clock=clock)
    vids = []
    with ex.transactions.tx() as conn:
        for m in markets:
            for token, outcome in ((m.yes_token, Outcome.YES), (m.no_token, Outcome.NO)):
                vid = f"v-{token}"
                row = store.insert_order(conn, client_id=vid, venue_order_id=vid, mode="paper", strategy="s",
                                         condition_id=m.condition_id, token_id=token, outcome=outcome, side=Side.BUY,
                                         price=400_000, size=10**15, tif=Tif.GTC, post_only=False, payload=None,
                                         reason=None, now=1, status=OrderStatus.LIVE)
                ex.state.track(row)
                vids.append(vid)
    apply = ex.applier.apply
    if applier is not None:
        tracker = OrderTracker(ex.state, ex.transactions, clock)
        apply = applier(ex.state, catalog, ex.transactions, tracker, mode="paper", clock=clock,
                        request_lookup=lambda _: None).apply
    return Contender(name, ex, apply, vids)


def fills(vids: list[str], first: int, count: int, status: TradeStatus) -> list[TradeEvent]:
    """Reports `first`..`first + count` (their status `status`): each a fill of the next token's
    order, matched after every fill before it."""
    events = []
    for n in range(first, first + count):
        vid = vids[n % len(vids)]
        token = vid.removeprefix("v-")
        events.append(TradeEvent(VenueTrade(f"t{n}", vid, f"c{token[1:]}", token, Side.BUY, 400_000, 5 * SH, 10_000,
                                            status, "MAKER", 1_000 + n)))
    return events


def in_transaction(side: Contender, events: list[TradeEvent], out: list[float]) -> None:
    with side.executor.transactions.tx():
        for event in events:
            began = time.perf_counter()
            side.apply(event)
            out.append((time.perf_counter() - began) * 1000)


def one_a_transaction(side: Contender, events: list[TradeEvent], out: list[float]) -> None:
    for event in events:
        began = time.perf_counter()
        with side.executor.transactions.tx():
            side.apply(event)
        out.append((time.perf_counter() - began) * 1000)


def alternating(sides: tuple[Contender, Contender], reports: int, status: TradeStatus,
                run: Callable[[Contender, list[TradeEvent], list[float]], None]) -> tuple[list[float], list[float]]:
    """Each side's per-report milliseconds, the same reports in blocks, the side going first
    alternating from block to block."""
    samples: dict[str, list[float]] = {side.name: [] for side in sides}
    for block, first in enumerate(range(0, reports, BLOCK)):
        order = sides if block % 2 == 0 else sides[::-1]
        for side in order:
            run(side, fills(side.venue_order_ids, first, min(BLOCK, reports - first), status), samples[side.name])
    return samples[sides[0].name], samples[sides[1].name]


def costs(side: Contender, event: TradeEvent) -> tuple[int, int]:
    """(statements, calls into the ledger's SQL module from outside it) one report costs, in an open
    transaction (a trigger's echo of its statement counted once)."""
    statements: list[str] = []
    calls = 0
    ledgers = [m for m in list(sys.modules.values())
               if getattr(m, "__name__", "") in (execution_ledger.__name__, "fill_path_before_execution_ledger")]

    def counted(real: Callable[..., object]) -> Callable[..., object]:
        def call(*args: object, **kwargs: object) -> object:
            nonlocal calls
            calls += not sys._getframe(1).f_globals["__name__"].endswith("execution_ledger")
            return real(*args, **kwargs)
        return call

    def seen(sql: str) -> None:
        if not statements or statements[-1] != sql:
            statements.append(sql)

    saved = [(m, n, f) for m in ledgers for n, f in vars(m).items() if isinstance(f, types.FunctionType)]
    with side.executor.transactions.tx() as conn:
        raw = conn.connection.driver_connection
        raw.set_trace_callback(seen)  # type: ignore[union-attr]  # sqlite3's connection
        for m, n, f in saved:
            setattr(m, n, counted(f))
        try:
            side.apply(event)
        finally:
            for m, n, f in saved:
                setattr(m, n, f)
            raw.set_trace_callback(None)  # type: ignore[union-attr]  # sqlite3's connection
    return len(statements), calls


def case(title: str, sides: tuple[Contender, Contender], reports: int, status: TradeStatus,
         run: Callable[[Contender, list[TradeEvent], list[float]], None], commit: str) -> None:
    """Time `reports` reports on both sides, then count what one more costs each."""
    before, now = sides
    old, new = alternating(sides, reports, status, run)
    (old_statements, old_calls), (new_statements, new_calls) = (
        costs(s, fills(s.venue_order_ids, reports, 1, status)[0]) for s in (before, now))
    figures = report(title, new, old, baseline_name=f"before ({commit})")
    print(f"    -> ratio {figures['ratio']:.2f}; per report, statements {new_statements} (before {old_statements}), "
          f"calls into the ledger's SQL {new_calls} (before {old_calls})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--synced", type=int, default=300)
    parser.add_argument("--baseline-commit", default=BEFORE)
    args = parser.parse_args()
    old_applier = applier_before(args.baseline_commit)
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sides = (build(folder, "before", old_applier, "NORMAL"), build(folder, "now", None, "NORMAL"))
        case("new fill, in an open transaction", sides, args.reports, TradeStatus.MATCHED, in_transaction,
             args.baseline_commit)
        case("status move MATCHED -> MINED, in an open transaction", sides, args.reports, TradeStatus.MINED,
             in_transaction, args.baseline_commit)
        case("status move MINED -> CONFIRMED, in an open transaction", sides, args.reports,
             TradeStatus.CONFIRMED, in_transaction, args.baseline_commit)
        synced = (build(folder, "before-full", old_applier, "FULL"), build(folder, "now-full", None, "FULL"))
        case("new fill, one a transaction, synced commit", synced, args.synced, TradeStatus.MATCHED,
             one_a_transaction, args.baseline_commit)
    print(f"load average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

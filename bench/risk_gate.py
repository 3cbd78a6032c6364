"""Approvals per second through the risk gate, 100 markets x 2 sides a tick, with every
approval consuming the tick's running budget (exposure limits and open orders), against the
gate as it was before that accounting (checked intent by intent against the start-of-tick
figures), kept as it was in bench/baselines/ (a copy of engine/risk/gate.py at 02aca5d) and run in
the same process on the same intents.

Target: no more than 1.5x slower than the old gate, with limits that leave room for every quote
(both gates approve all 200, so they do the same work); the default limits are measured too.

    python bench/risk_gate.py [--rounds 300] [--baseline-commit COMMIT]

--baseline-commit reads another commit's gate from git instead (needs a git clone); the default
baseline is the kept copy, so the benchmark and its tests run from a downloaded archive too.
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

from _common import ROOT, report

from contracts.domain import Book, Intent, Level, MarketInfo, MarketView, Quote, Side, Tif
from contracts.limits import defaults
from engine.execution.exposure import Exposure
from engine.risk import gate as current
from engine.risk.gate import RiskContext, TradingState

MARKETS = 100
SH = 1_000_000
NOW = 1_800_000_000_000
BEFORE = "02aca5d"  # the last commit before per-approval budgets (issue 12)
# That commit's engine/risk/gate.py, verbatim (a .txt so no tool mistakes it for live code).
BASELINE = ROOT / "bench" / "baselines" / f"risk_gate_{BEFORE}.py.txt"
# Modules the old gate imports that have since moved: old name -> where it lives now.
MOVED = {"engine.risk.limits": "contracts.limits"}


def old_gate(commit: str = BEFORE) -> types.ModuleType:
    """engine/risk/gate.py as it was at `commit`, as a module of its own: the kept copy for the
    default baseline, git history for any other commit."""
    source = BASELINE.read_text() if commit == BEFORE else _from_git(commit)
    module = types.ModuleType("gate_before")
    sys.modules["gate_before"] = module  # its dataclasses look their module up by name
    shims = {old: importlib.import_module(new) for old, new in MOVED.items() if old not in sys.modules}
    sys.modules.update(shims)  # only while it imports: nothing else may find the old names
    try:
        exec(compile(source, f"{commit}:engine/risk/gate.py", "exec"), module.__dict__)
    finally:
        for old in shims:
            del sys.modules[old]
    return module


# Limits wide enough that every quote is approved by both gates: the same work, so the ratio is
# the cost of the running budget itself. Under the default limits the new gate stops approving
# once the tick's budget is spent (and does less work for the rest).
ROOM = {"max_total_exposure": Decimal(1_000_000), "max_market_exposure": Decimal(1_000_000),
        "max_strategy_exposure": Decimal(1_000_000), "max_event_exposure": Decimal(1_000_000),
        "max_open_orders": Decimal(10_000), "max_order_rate": Decimal(100_000)}


def context(*, room: bool) -> tuple[RiskContext, list[Intent]]:
    views, intents = {}, []
    for i in range(MARKETS):
        info = MarketInfo(f"c{i}", "?", f"y{i}", f"n{i}", tick=10_000, min_size=5 * SH,
                          neg_risk_market_id=f"e{i // 4}")
        yes = Book(info.yes_token, (Level(480_000, 100 * SH),), (Level(520_000, 100 * SH),), NOW)
        views[info.condition_id] = MarketView(info, yes, yes.mirrored(info.no_token))
        intents.append(Intent("mm", info.condition_id, (Quote(Side.BUY, 470_000, 10 * SH, Tif.GTC, True),
                                                        Quote(Side.SELL, 530_000, 10 * SH, Tif.GTC, True))))
    exposure = Exposure(total=300 * SH, by_market={"c0": 5 * SH}, by_strategy={"mm": 300 * SH})
    limits = replace(defaults(), values={**defaults().values, **(ROOM if room else {})})
    ctx = RiskContext(now_ms=NOW, trading_state=TradingState.ACTIVE, limits=limits, exposure=exposure,
                      open_orders=0, own_open_orders={}, positions={}, markets=views)
    return ctx, intents


def _from_git(commit: str) -> str:
    try:
        return subprocess.run(["git", "show", f"{commit}:engine/risk/gate.py"], cwd=ROOT, check=True,
                              capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        sys.exit(f"cannot read the gate of {commit} from git ({exc}); run from a git clone of the project")


def tick_new(ctx: RiskContext, intents: list[Intent]) -> int:
    gate = current.RiskGate()
    budget = current.Budget.of(ctx.exposure, ctx.open_orders, ctx.own_open_orders)
    return sum(len(gate.check_intent(i, ctx, budget)[0].quotes) for i in intents)


def tick_old(module: types.ModuleType, ctx: RiskContext, intents: list[Intent]) -> int:
    gate = module.RiskGate()
    old_ctx = old_context(module, ctx)
    return sum(len(gate.check_intent(i, old_ctx)[0].quotes) for i in intents)


def old_context(module: types.ModuleType, ctx: RiskContext) -> object:
    """Today's context as the old gate's own: only the fields it had (the per-strategy states,
    caps and cooldowns came later and are empty in this benchmark)."""
    return module.RiskContext(**{f: getattr(ctx, f) for f in module.RiskContext.__dataclass_fields__})


def per_tick_ms(runs: list[Callable[[], int]], rounds: int) -> list[list[float]]:
    """Milliseconds per call of each of `runs`, taken in turns, so load from other programs on
    the machine falls on both sides of the comparison alike."""
    samples: list[list[float]] = [[] for _ in runs]
    for _ in range(rounds):
        for run, out in zip(runs, samples, strict=True):
            began = time.perf_counter()
            run()
            out.append((time.perf_counter() - began) * 1000)
    return samples


def measure(module: types.ModuleType, rounds: int, *, room: bool) -> dict[str, float]:
    ctx, intents = context(room=room)
    approved_new, approved_old = tick_new(ctx, intents), tick_old(module, ctx, intents)
    limits = "limits with room for every quote" if room else "the default limits"
    print(f"{limits}: quotes approved in one tick: {approved_new} with the running budget, {approved_old} with "
          "the old gate (each intent measured against the start-of-tick figures)")
    old, new = per_tick_ms([lambda: tick_old(module, ctx, intents), lambda: tick_new(ctx, intents)], rounds)
    figures = report(f"one tick through the gate ({2 * MARKETS} quotes, {limits})", new, old,
                     target="<= 1.5x the old gate" if room else "", baseline_name="old gate")
    quotes = 2 * MARKETS
    print(f"quotes checked per second: {quotes * 1000 / statistics.median(new):,.0f} "
          f"(old gate {quotes * 1000 / statistics.median(old):,.0f}); ratio {figures['ratio']:.2f}x")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--baseline-commit", default=BEFORE)
    args = parser.parse_args()
    module = old_gate(args.baseline_commit)
    figures = measure(module, args.rounds, room=True)
    measure(module, args.rounds, room=False)
    print(f"target (<= 1.5x the old gate, every quote approved by both): "
          f"{'met' if figures['ratio'] <= 1.5 else 'NOT met'} at {figures['ratio']:.2f}x")


if __name__ == "__main__":
    main()

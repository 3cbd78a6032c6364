"""Approvals per second through the risk gate, 100 markets x 2 sides a tick, with every
approval consuming the tick's running budget (exposure limits and open orders), against the
gate as it was before that accounting (checked intent by intent against the start-of-tick
figures), loaded from git history and run in the same process on the same intents.

Target: no more than 1.5x slower than the old gate.

    python bench/risk_gate.py [--rounds 300] [--baseline-commit 02aca5d]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import types
from dataclasses import replace

from _common import ROOT, report

from engine.domain import Book, Intent, Level, MarketInfo, MarketView, Quote, Side, Tif
from engine.risk import gate as current
from engine.risk.gate import Exposure, RiskContext, TradingState
from engine.contracts.limits import defaults

MARKETS = 100
SH = 1_000_000
NOW = 1_800_000_000_000
BEFORE = "02aca5d"  # the last commit before per-approval budgets (issue 12)


def old_gate(commit: str) -> types.ModuleType:
    """engine/risk/gate.py as it was at `commit`, as a module of its own."""
    try:
        source = subprocess.run(["git", "show", f"{commit}:engine/risk/gate.py"], cwd=ROOT, check=True,
                                capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        sys.exit(f"cannot read the old gate from git ({exc}); run from a git clone of the project")
    module = types.ModuleType("gate_before")
    module.__dict__["__name__"] = "gate_before"
    sys.modules["gate_before"] = module
    exec(compile(source, f"{commit}:engine/risk/gate.py", "exec"), module.__dict__)
    return module


def context() -> tuple[RiskContext, list[Intent]]:
    views, intents = {}, []
    for i in range(MARKETS):
        info = MarketInfo(f"c{i}", "?", f"y{i}", f"n{i}", tick=10_000, min_size=5 * SH,
                          neg_risk_market_id=f"e{i // 4}")
        yes = Book(info.yes_token, (Level(480_000, 100 * SH),), (Level(520_000, 100 * SH),), NOW)
        views[info.condition_id] = MarketView(info, yes, yes.mirrored(info.no_token))
        intents.append(Intent("mm", info.condition_id, (Quote(Side.BUY, 470_000, 10 * SH, Tif.GTC, True),
                                                        Quote(Side.SELL, 530_000, 10 * SH, Tif.GTC, True))))
    exposure = Exposure(total=300 * SH, by_market={"c0": 5 * SH}, by_strategy={"mm": 300 * SH})
    limits = replace(defaults(), values={**defaults().values})
    ctx = RiskContext(now_ms=NOW, trading_state=TradingState.ACTIVE, limits=limits, exposure=exposure,
                      open_orders=0, own_open_orders={}, positions={}, markets=views)
    return ctx, intents


def tick_new(ctx: RiskContext, intents: list[Intent]) -> int:
    gate = current.RiskGate()
    budget = current.Budget.of(ctx.exposure, ctx.open_orders, ctx.own_open_orders)
    return sum(len(gate.check_intent(i, ctx, budget)[0].quotes) for i in intents)


def tick_old(module: types.ModuleType, ctx: RiskContext, intents: list[Intent]) -> int:
    gate = module.RiskGate()
    old_ctx = module.RiskContext(**{f: getattr(ctx, f) for f in ctx.__dataclass_fields__})
    return sum(len(gate.check_intent(i, old_ctx)[0].quotes) for i in intents)


def per_tick_ms(run, rounds: int) -> list[float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        run()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--baseline-commit", default=BEFORE)
    args = parser.parse_args()
    module = old_gate(args.baseline_commit)
    ctx, intents = context()
    approved_new, approved_old = tick_new(ctx, intents), tick_old(module, ctx, intents)
    print(f"quotes approved in one tick: {approved_new} with the running budget (limits hold within the tick), "
          f"{approved_old} with the old gate (each intent measured against the start-of-tick figures)")
    old = per_tick_ms(lambda: tick_old(module, ctx, intents), args.rounds)
    new = per_tick_ms(lambda: tick_new(ctx, intents), args.rounds)
    figures = report(f"one tick through the gate ({2 * MARKETS} quotes), per-approval budget", new, old,
                     target="<= 1.5x the old gate", baseline_name="old gate")
    quotes = 2 * MARKETS
    print(f"quotes checked per second: {quotes * 1000 / statistics.median(new):,.0f} "
          f"(old gate {quotes * 1000 / statistics.median(old):,.0f}); ratio {figures['ratio']:.2f}x")

if __name__ == "__main__":
    main()

"""How many volatility alerts a fresh demo raises: the simulator's market as `make run` serves it
(its 14 markets, the agents' news), driven in simulated time for 25 minutes, each market's mid fed
to the volatility breaker every engine pass (500 ms) under the default limits. Counted: each
market's moves to REDUCING or HALTED (an alert each) in the first 5 minutes and in all, the halts
(critical), and the desk's own moves; beside the rules before issue 73 (a 0.01 baseline floor, a
market judged after two windows) on the same paths.

Target: an alert means something: none in the first 5 minutes of a fresh demo, at most one a
25 minutes across its 14 markets, no halt.

    python bench/volatility_alerts.py [--minutes 25] [--seeds 42,7,1]
"""

from __future__ import annotations

import argparse
import bisect
from dataclasses import dataclass

from _common import ROOT  # noqa: F401  (puts the project on the path)

from contracts.limits import defaults
from engine.risk.gate import TradingState
from engine.risk.volatility import Settings, VolatilityBreaker
from simulator.config import SimConfig
from simulator.realism import EPOCH, Phase, run_phase

PASS_S = 0.5  # the engine's default tick


@dataclass(frozen=True)
class _Before(Settings):
    """The rules before: judged after two windows."""

    @property
    def warmup_ms(self) -> int:
        return 2 * self.window_ms


def count(phase: Phase, minutes: float, s: Settings) -> tuple[int, int, int, int]:
    """(alerts in the first 5 minutes, alerts in all, halts, the desk's moves) on the phase's mids."""
    breaker, desk, at = VolatilityBreaker(), TradingState.ACTIVE, EPOCH
    alerts: list[tuple[float, TradingState]] = []
    desk_moves = 0
    while at < EPOCH + minutes * 60:
        at += PASS_S
        mids: dict[str, int | None] = {}
        for cid, (times, values) in phase.mids.items():
            i = bisect.bisect_right(times, at) - 1
            value = values[i] if i >= 0 else None
            mids[cid] = None if value is None else round(value * 1_000_000)
        breaker.observe(mids, int(at * 1000))
        changes, after = breaker.evaluate(s, int(at * 1000), desk)
        desk_moves += after is not desk and after is not TradingState.ACTIVE
        desk = after
        alerts += [((at - EPOCH) / 60, c.after) for c in changes if c.after is not TradingState.ACTIVE]
    return (sum(1 for t, _ in alerts if t <= 5), len(alerts), sum(1 for _, a in alerts if a is TradingState.HALTED),
            desk_moves)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=25.0)
    parser.add_argument("--seeds", default="42,7,1")
    args = parser.parse_args()
    now = Settings.of(defaults())
    before = _Before(now.window_ms, now.baseline_ms, now.reduce, now.halt, now.clear, 10_000)
    for seed in (int(s) for s in args.seeds.split(",")):
        phase = run_phase(SimConfig().with_updates({"seed": seed}), "served", args.minutes * 60, closes=False)
        for name, rules in (("before", before), ("now", now)):
            first, total, halts, desk = count(phase, args.minutes, rules)
            print(f"seed {seed} {name:6}: {first} alerts in the first 5 min, {total} in {args.minutes:g} min "
                  f"({halts} halts), the desk moved {desk} times ({len(phase.mids)} markets)")
    print("target: none in the first 5 min, at most 1 in 25 min, no halt")


if __name__ == "__main__":
    main()

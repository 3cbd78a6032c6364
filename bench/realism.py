"""The realism report's market in simulated time: how fast it runs, what one agents' step
costs against the calm market of before (same seed, same minutes, same process), and the
realism report (`python -m simulator realism`) beside the published figures (Dubach 2026).

Target: an hour of simulated market per phase in well under a minute of wall time (>= 100x
real time), a step's CPU time under 5 ms at p99 (at the live default of a step every 0.5 s that
is under 1 % of a core), and every fact within its documented tolerance.

    python bench/realism.py [--minutes 60] [--seed 42]
"""

from __future__ import annotations

import argparse

from _common import report

from simulator.config import SimConfig
from simulator.realism import run
from simulator.realism_stats import facts
from simulator.realism_stats import report as realism_report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60.0, help="simulated minutes per phase")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    calm = run(SimConfig().with_updates({"seed": args.seed, "agent_market": "calm"}), args.minutes)
    informed = run(SimConfig().with_updates({"seed": args.seed}), args.minutes)
    baseline = calm[0].step_ms + calm[1].step_ms
    steps = informed[0].step_ms + informed[1].step_ms
    report("agents' step CPU, informed market (10 markets)", steps, baseline, target="p99 <= 5 ms",
           baseline_name="calm market")
    simulated = 2 * args.minutes * 60
    wall = informed[0].wall_s + informed[1].wall_s
    print(f"simulated time: {simulated / 60:g} min in {wall:.1f} s of wall time ({simulated / wall:.0f}x real "
          f"time; calm market {simulated / (calm[0].wall_s + calm[1].wall_s):.0f}x) | target >= 100x")
    outside = 0
    for fact in facts(*informed):
        outside += not fact.ok
        ours = "-" if fact.ours is None else f"{fact.ours:.3g}"
        print(f"  {'ok ' if fact.ok else 'OUT'} {fact.name}: {ours} (published {fact.published})")
    print(f"facts within tolerance: {len(facts(*informed)) - outside} of {len(facts(*informed))} | target all")
    print()
    print(realism_report(SimConfig().with_updates({"seed": args.seed}), *informed, []))


if __name__ == "__main__":
    main()

"""The engine's pause for a full garbage collection, with its start-up heap frozen and not.

A full collection stops the event loop while it walks every object the collector tracks. The
engine freezes what start-up built once it has booted (engine/process/heap.py), so later full
collections walk only what was made since. Each run is a child process that builds what a quoting
engine holds: the modules `engine run` and its Polymarket adapter import, and a trading core
quoting `--markets` markets on the paper venue (bench/decision_cost.py's core). Then, the start-up
heap frozen or not, it runs `--blocks` blocks of `--passes` passes with moving books (quotes
cancelled and placed) and times a full collection (`gc.collect()`) after each block: the pause a
quoting engine pays, with what it made since start-up included. Children alternate, frozen and not;
the baseline is the heap not frozen (how the engine ran before).
A live engine's full collection takes longer than this bench's: it also walks what the engine made
since start-up that the collector tracks (a venue client's request and response objects, in cycles),
so freezing shortens it without making it as short as here.

    python bench/gc_pause.py [--children 4] [--blocks 10] [--passes 40] [--markets 50]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, report


async def child_samples(folder: Path, markets: int, blocks: int, passes: int, freeze: bool) -> list[float]:
    from _recording import TICK
    from decision_cost import MID, STEP_MS, set_mid, started_core

    import engine.main  # noqa: F401  (what `engine run` imports before it builds anything)
    import engine.process.runtime  # noqa: F401
    import engine.process.wiring  # noqa: F401
    import engine.venues.polymarket.venue  # noqa: F401  (the live adapter and its signing stack)

    core, clock, cids = await started_core(folder, markets)
    if freeze:
        gc.collect()
        gc.freeze()
    samples = []
    for block in range(blocks):
        for n in range(passes):  # books move, quotes are replaced: what a quoting engine makes
            clock.now += STEP_MS
            for i, cid in enumerate(cids):
                set_mid(core, clock, cid, MID + 2 * TICK * ((block * passes + n + i) % 2))
            await core.tick()
        began = time.perf_counter()
        gc.collect()
        samples.append((time.perf_counter() - began) * 1e3)
    return samples


def run_child(args: argparse.Namespace, freeze: bool) -> list[float]:
    command = [sys.executable, __file__, "--child", "--blocks", str(args.blocks), "--passes", str(args.passes),
               "--markets", str(args.markets)] + (["--freeze"] if freeze else [])
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"the bench's child failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=4, help="child processes of each kind, alternating")
    parser.add_argument("--blocks", type=int, default=10)
    parser.add_argument("--passes", type=int, default=40)
    parser.add_argument("--markets", type=int, default=50)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--freeze", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        with tempfile.TemporaryDirectory() as tmp:
            samples = asyncio.run(child_samples(Path(tmp), args.markets, args.blocks, args.passes, args.freeze))
        print(json.dumps(samples))
        return
    unfrozen: list[float] = []
    frozen: list[float] = []
    for _ in range(args.children):
        unfrozen += run_child(args, freeze=False)
        frozen += run_child(args, freeze=True)
    print(f"{args.markets} markets quoted, a full collection after every {args.passes} passes")
    figures = report("full collection, start-up heap frozen", frozen, unfrozen, baseline_name="not frozen")
    print(f"frozen / not frozen: p50 {figures['ratio']:.3f}")


if __name__ == "__main__":
    main()

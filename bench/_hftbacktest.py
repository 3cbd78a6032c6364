"""hftbacktest as the backtest bench's yardstick: installed (once, on request) into a virtualenv of
its own, bench/.hftbacktest-venv, never into the desk's; bench/hftbacktest_side.py runs in it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from _common import ROOT

PINNED = "hftbacktest==2.4.4"
# Its own virtualenv (BENCH_HFTBACKTEST_VENV moves it, for a shared one or a test).
VENV = Path(os.environ.get("BENCH_HFTBACKTEST_VENV") or ROOT / "bench" / ".hftbacktest-venv")
PYTHON = VENV / "bin" / "python"
SIDE = ROOT / "bench" / "hftbacktest_side.py"


def install() -> str | None:
    """Create the venv and install the pinned hftbacktest into it (the network is needed once);
    returns why it could not, or None."""
    if PYTHON.exists():
        return None
    print(f"installing {PINNED} into {VENV} (once) ...", flush=True)
    steps = ([sys.executable, "-m", "venv", str(VENV)], [str(PYTHON), "-m", "pip", "install", "-q", PINNED])
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True)
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines()
            return f"{' '.join(step[-3:])} failed: {lines[-1] if lines else 'no output'}"
    return None


def unavailable() -> str | None:
    """Why the yardstick cannot run here, or None."""
    if not PYTHON.exists():
        return f"no {VENV}: run once with --install-hftbacktest (needs the network)"
    probe = subprocess.run([str(PYTHON), "-c", "import hftbacktest"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"{VENV} cannot import hftbacktest: {probe.stderr.strip().splitlines()[-1:]}"
    return None


def run(recording: Path, folder: Path, reach: int | None = None) -> dict | str:
    """Its replay of `recording` (prepared into `folder` first, untimed): the replay process's
    figures and its whole wall time; or why it failed. `reach` (ticks): decide on events too."""
    folder.mkdir(parents=True, exist_ok=True)
    prepared = subprocess.run([str(PYTHON), str(SIDE), "prepare", str(recording), str(folder)],
                              capture_output=True, text=True)
    if prepared.returncode != 0:
        return f"preparing its data failed: {prepared.stderr.strip().splitlines()[-1:]}"
    began = time.perf_counter()
    done = subprocess.run([str(PYTHON), str(SIDE), "replay", str(folder), *([] if reach is None else [str(reach)])],
                          capture_output=True, text=True)
    wall = time.perf_counter() - began
    if done.returncode != 0:
        return f"its replay failed: {done.stderr.strip().splitlines()[-1:]}"
    figures: dict = json.loads(done.stdout.strip().splitlines()[-1])
    figures["wall_s"] = wall
    figures["prepare_s"] = json.loads(prepared.stdout.strip().splitlines()[-1])["prepare_s"]
    return figures


TARGET_WALL, TARGET_REPLAY = 1.0, 4.0  # issue 74: the desk's whole process, and its replay alone


def line(figures: dict | str, desk: dict, cadence: str = "default cadence") -> str:
    """The yardstick's line beside the desk's run at the same cadence on the same recording: its whole
    process's wall against the desk's (the speed ratio, target >= 1.0x), and the desk's replay alone
    against its replay alone (how many times longer, target <= 4x)."""
    if isinstance(figures, str):
        return f"    hftbacktest: skipped ({figures})"
    ratio = figures["wall_s"] / desk["wall_s"]
    replay = desk["replay_s"] / figures["replay_s"] if figures["replay_s"] > 0 else float("inf")
    return (f"    hftbacktest {PINNED.split('==')[1]} on the same recording, {cadence}: "
            f"{figures['events']:,} events, {figures['decisions']:,} decisions, {figures['orders']:,} orders, "
            f"{figures['fills']:,} fills | {figures['events'] / figures['wall_s']:,.0f} events/s wall "
            f"({figures['wall_s']:.1f} s: load {figures['load_s']:.1f}, compile {figures['compile_s']:.1f}, "
            f"replay {figures['replay_s']:.1f}; converting the recording beforehand {figures['prepare_s']:.1f} s, "
            f"not counted)\n      whole process: the desk {desk['wall_s']:.1f} s, {ratio:.2f}x hftbacktest's wall "
            f"(target >= {TARGET_WALL:.1f}x: {verdict(ratio >= TARGET_WALL)}) | replay alone: the desk "
            f"{desk['replay_s']:.1f} s, {replay:.1f}x hftbacktest's replay alone (target <= {TARGET_REPLAY:.0f}x: "
            f"{verdict(replay <= TARGET_REPLAY)}) [{cadence}]")


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"

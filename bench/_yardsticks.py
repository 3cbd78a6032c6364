"""The backtest bench's yardsticks, each installed (once, on request) into a virtualenv of its own,
never into the desk's, each replaying the same recording with the same quoting by a side script of its
own run in that virtualenv: hftbacktest (bench/hftbacktest_side.py, bench/.hftbacktest-venv) and
NautilusTrader (bench/nautilus_side.py, bench/.nautilus-venv), the peer with the desk's promise (its
strategies, risk and execution run unchanged in its backtests)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from _common import ROOT


@dataclass(frozen=True)
class Yardstick:
    name: str
    pinned: str  # what pip installs, pinned exactly
    module: str  # what its side script imports (the install is checked by importing it)
    venv: Path
    side: Path
    flag: str  # the bench's option that installs it

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def install(self) -> str | None:
        """Create the venv and install the pinned package into it (the network is needed once);
        returns why it could not, or None."""
        if self.python.exists():
            return None
        print(f"installing {self.pinned} into {self.venv} (once) ...", flush=True)
        steps = ([sys.executable, "-m", "venv", str(self.venv)],
                 [str(self.python), "-m", "pip", "install", "-q", self.pinned])
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True)
            if done.returncode != 0:
                lines = (done.stderr or done.stdout).strip().splitlines()
                return f"{' '.join(step[-3:])} failed: {lines[-1] if lines else 'no output'}"
        return None

    def unavailable(self) -> str | None:
        """Why the yardstick cannot run here, or None."""
        if not self.python.exists():
            return f"no {self.venv}: run once with {self.flag} (needs the network)"
        probe = subprocess.run([str(self.python), "-c", f"import {self.module}"], capture_output=True, text=True)
        if probe.returncode != 0:
            return f"{self.venv} cannot import {self.module}: {probe.stderr.strip().splitlines()[-1:]}"
        return None

    def run(self, recording: Path, folder: Path, reach: int | None = None) -> dict | str:
        """Its replay of `recording` (converted into `folder` first, timed apart): the replay process's
        figures and its whole wall time; or why it failed. `reach` (ticks): decide on events too."""
        folder.mkdir(parents=True, exist_ok=True)
        prepared = subprocess.run([str(self.python), str(self.side), "prepare", str(recording), str(folder)],
                                  capture_output=True, text=True)
        if prepared.returncode != 0:
            return f"preparing its data failed: {prepared.stderr.strip().splitlines()[-1:]}"
        began, cpu = time.perf_counter(), children_cpu()
        done = subprocess.run([str(self.python), str(self.side), "replay", str(folder),
                               *([] if reach is None else [str(reach)])], capture_output=True, text=True)
        wall, cpu = time.perf_counter() - began, children_cpu() - cpu
        if done.returncode != 0:
            return f"its replay failed: {done.stderr.strip().splitlines()[-1:]}"
        figures: dict = json.loads(done.stdout.strip().splitlines()[-1])
        figures["wall_s"], figures["process_cpu_s"] = wall, cpu
        figures["prepare_s"] = json.loads(prepared.stdout.strip().splitlines()[-1])["prepare_s"]
        return figures


def children_cpu() -> float:
    """CPU seconds (user and system) of the child processes waited for so far: a whole process's CPU,
    which a busy machine's other work does not inflate as it does the wall."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


HFTBACKTEST = Yardstick("hftbacktest", "hftbacktest==2.4.4", "hftbacktest",
                        Path(os.environ.get("BENCH_HFTBACKTEST_VENV") or ROOT / "bench" / ".hftbacktest-venv"),
                        ROOT / "bench" / "hftbacktest_side.py", "--install-hftbacktest")
# 1.221.0: the newest release for Python 3.11, the oldest Python the desk runs on (later ones need 3.12).
NAUTILUS = Yardstick("NautilusTrader", "nautilus_trader==1.221.0", "nautilus_trader",
                     Path(os.environ.get("BENCH_NAUTILUS_VENV") or ROOT / "bench" / ".nautilus-venv"),
                     ROOT / "bench" / "nautilus_side.py", "--install-nautilus")
TARGET_WALL, TARGET_REPLAY = 1.0, 4.0  # issue 74 against hftbacktest: the desk's whole process, and its replay alone
TARGET_NAUTILUS = 2.0  # issue 90: the desk's whole process deciding on events, >= 2x NautilusTrader's speed


def _theirs(figures: dict, name: str) -> str:
    return (f"    {name} on the same recording: {figures['events']:,} events, {figures['decisions']:,} decisions, "
            f"{figures['orders']:,} orders, {figures['fills']:,} fills | {figures['events'] / figures['wall_s']:,.0f} "
            f"events/s wall ({figures['wall_s']:.1f} s: load {figures['load_s']:.1f}, compile "
            f"{figures['compile_s']:.1f}, replay {figures['replay_s']:.1f}; converting the recording into its "
            f"data beforehand {figures['prepare_s']:.1f} s, once a recording)")


def line(figures: dict | str, desk: dict, cadence: str = "default cadence") -> str:
    """hftbacktest's line beside the desk's run at the same cadence on the same recording: its whole
    process's wall against the desk's (the speed ratio, target >= 1.0x; and with its conversion of the
    recording counted too), and the desk's replay alone against its replay alone (target <= 4x)."""
    if isinstance(figures, str):
        return f"    hftbacktest: skipped ({figures})"
    ratio = figures["wall_s"] / desk["wall_s"]
    converted = (figures["wall_s"] + figures["prepare_s"]) / desk["wall_s"]
    replay = desk["replay_s"] / figures["replay_s"] if figures["replay_s"] > 0 else float("inf")
    return (f"{_theirs(figures, 'hftbacktest ' + HFTBACKTEST.pinned.split('==')[1])} [{cadence}]\n"
            f"      whole process: the desk {desk['wall_s']:.1f} s, {ratio:.2f}x hftbacktest's wall ({converted:.2f}x "
            f"with its conversion) (target >= {TARGET_WALL:.1f}x: {verdict(ratio >= TARGET_WALL)}) | replay alone: "
            f"the desk {desk['replay_s']:.1f} s, {replay:.1f}x hftbacktest's replay alone (target <= "
            f"{TARGET_REPLAY:.0f}x: {verdict(replay <= TARGET_REPLAY)}) [{cadence}]")


def nautilus_line(figures: dict | str, desk: dict, cadence: str = "default cadence") -> str:
    """NautilusTrader's line beside the desk's run: the desk's speed as a multiple of NautilusTrader's,
    whole process against whole process (issue 90: >= 2x, deciding on events)."""
    if isinstance(figures, str):
        return f"    NautilusTrader: skipped ({figures})"
    ratio = figures["wall_s"] / desk["wall_s"]
    cpu = ("" if "process_cpu_s" not in figures or "process_cpu_s" not in desk else
           f"; on each whole process's CPU time, steadier on a busy machine: the desk {desk['process_cpu_s']:.1f} s, "
           f"theirs {figures['process_cpu_s']:.1f} s, {figures['process_cpu_s'] / desk['process_cpu_s']:.2f}x")
    return (f"{_theirs(figures, 'NautilusTrader ' + NAUTILUS.pinned.split('==')[1])} [{cadence}]\n"
            f"      whole process: the desk {desk['wall_s']:.1f} s, {ratio:.2f}x NautilusTrader's speed (its wall "
            f"{figures['wall_s']:.1f} s{cpu}; target on the wall >= {TARGET_NAUTILUS:.1f}x: "
            f"{verdict(ratio >= TARGET_NAUTILUS)}) [{cadence}]")


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"

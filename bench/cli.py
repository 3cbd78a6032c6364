"""Cold CLI start over SSH: `python -m engine status` and `python -m engine command pause`, each a
fresh interpreter, wall time from spawn to exit.

Runs a real engine subprocess on a temp database (paused, so every `command pause` is a full
round trip: post, the engine claims and answers "already paused", the CLI prints it). Baseline,
in the same run and interleaved with the others so they share the machine's load: a bare
`python -c pass`. Target: median <= 300 ms for each command.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, report

from tests.helpers import EngineProcess, isolated_env

COMMANDS = {
    "python -c pass": ["-c", "pass"],
    "engine status": ["-m", "engine", "status"],
    "engine command pause": ["-m", "engine", "command", "pause"],
}


def wall_ms(args: list[str], env: dict[str, str]) -> float:
    began = time.perf_counter()
    result = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    elapsed = (time.perf_counter() - began) * 1000
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=20, help="runs of each (default 20)")
    args = parser.parse_args()
    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    with tempfile.TemporaryDirectory() as tmp:
        env = isolated_env(Path(tmp), LOG_LEVEL="WARNING", SIMULATOR_PORT="9")  # no venue needed to pause
        engine = EngineProcess(Path(tmp), env)
        try:
            engine.start()
            for kind in ("start", "pause"):
                if engine.run(kind).status != "done":
                    raise SystemExit(f"the engine refused {kind}:\n{engine.log()}")
            for argv in COMMANDS.values():  # one warm-up each: .pyc files, the page cache
                wall_ms(argv, env)
            for _ in range(args.n):
                for name, argv in COMMANDS.items():
                    samples[name].append(wall_ms(argv, env))
        finally:
            engine.terminate()
            engine.cleanup()
    base = samples.pop("python -c pass")
    for name, runs in samples.items():
        report(f"{name} (cold process)", runs, base, target="median <= 300 ms", baseline_name="python -c pass")


if __name__ == "__main__":
    main()

"""Command round trip: post -> engine claims, applies, acknowledges -> the poster sees `done`.

Runs a real engine subprocess on a temp database and posts >= 500 commands one after
another exactly as the dashboard does. Baseline, in this process: posting a command and
reading its row back without any engine (the floor set by SQLite alone).
Target: p50 <= 100 ms, p99 <= 250 ms.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import report

from storage.command_queue.commands import get_command, post_command
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.helpers import EngineProcess, isolated_env

KINDS = ("pause", "resume", "reload_config")


def round_trip(engine: EngineProcess, kind: str) -> float:
    began = time.perf_counter()
    row = engine.post(kind)
    engine.wait_command(row.id, timeout=10)
    return (time.perf_counter() - began) * 1000


def baseline(path: Path, n: int) -> list[float]:
    migrate(path)
    db = Database(path)
    samples = []
    for _ in range(n):
        began = time.perf_counter()
        row = post_command(db, "reload_config", {}, actor="bench")
        with db.read() as conn:
            get_command(conn, row.id)
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = baseline(Path(tmp) / "baseline.db", min(args.n, 200))
        engine = EngineProcess(Path(tmp), isolated_env(Path(tmp), LOG_LEVEL="WARNING"))
        try:
            engine.start()
            engine.run("start")
            samples = [round_trip(engine, KINDS[i % len(KINDS)]) for i in range(args.n)]
        finally:
            engine.terminate()
            engine.cleanup()
    report("command round trip", samples, base, target="p50 <= 100 ms, p99 <= 250 ms",
           baseline_name="post+read without engine")


if __name__ == "__main__":
    main()

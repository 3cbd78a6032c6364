"""A kill is never queued behind a long write: with a 3 M-tick session import running into the
running desk's database (it used to hold the write lock 36-40 s, and a kill waited 27-30 s for
it), the kill is claimed and applied, and the venue's orders are cancelled, while the import still
runs (storage/research/import_jobs.py: batches that yield to the engine; a kill whose bookkeeping
meets a batch's lock cancels at the venue at once and applies again until it lands:
engine/process/commands.py). What is asserted is that order of events, not a wall-clock bound: a
loaded machine makes the answer slower, never the import's end come first. The import is then
ended by SIGKILL mid-way, and the next import undoes what it had written."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.testing import SimHandle, approved_simulator
from storage.research.import_jobs import undo_interrupted
from storage.sqlite.db import Database
from tests.helpers import ROOT, paper_desk, wait_until

pytestmark = pytest.mark.slow
TICKS = 3_000_000
T0 = 1_600_000_000_000  # long before anything this desk recorded
YES, NO = "7" * 40, "8" * 40


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=41, agents=False) as handle:
        yield handle


def _session_file(path: Path) -> Path:
    """One market's 3 M trade prints, one a millisecond, as `session export` writes them."""
    market = {"condition_id": "0x" + "cd" * 32, "question": "Will the import end?", "slug": "import", "yes_token": YES,
              "no_token": NO, "outcomes": '["Yes", "No"]', "tick": 10_000, "min_size": 5_000_000, "neg_risk": 0,
              "active": 1, "closed": 0, "accepting_orders": 1, "volume": 0, "volume_24h": 0, "liquidity": 0,
              "tags": "[]", "tradable": 1, "fee_rate_ppm": 0, "fee_exponent": 1, "first_seen_at": T0, "updated_at": T0}
    header = {"format": "polymarket-desk-recording-session", "version": 1,
              "session": {"name": "big", "notes": "", "started_at": T0, "stopped_at": T0 + TICKS,
                          "markets": [market["condition_id"]]}, "markets": [market]}
    with path.open("w") as out:
        out.write(json.dumps(header) + "\n")
        for start in range(0, TICKS, 100_000):
            out.write("".join(f'[{T0 + i},"{YES}","trade","BUY",510000,3000000,500000,null]\n'
                              for i in range(start, start + 100_000)))
    return path


def test_a_kill_cancels_the_orders_while_a_3m_tick_import_runs(tmp_path: Path, sim: SimHandle) -> None:
    engine = paper_desk(tmp_path, sim, [("mm", "market_making", {"size": 20, "max_spread": 0.5},
                                         {"filter": {"max_markets": 2}})])
    importer: subprocess.Popen[str] | None = None
    try:
        engine.start()
        wait_until(lambda: engine.rows("SELECT COUNT(*) FROM orders WHERE status_rank < 100")[0][0] > 0, 60, 0.1,
                   "resting quotes")
        file = _session_file(tmp_path / "big.jsonl")
        importer = subprocess.Popen([sys.executable, "-m", "engine", "session", "import", str(file)], cwd=ROOT,
                                    env=engine.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        progress: list[str] = []
        reader = threading.Thread(target=lambda: progress.extend(iter(importer.stdout.readline, "")), daemon=True)
        reader.start()
        wait_until(lambda: len(progress) >= 5 or importer.poll() is not None, 120, 0.05, "the import writing")
        assert importer.poll() is None, "".join(progress)[-2000:]
        posted = time.monotonic()
        kill = engine.run("kill", {"reason": "kill during an import"}, timeout=120)
        answered_s = time.monotonic() - posted
        assert kill.status == "done", kill.error
        # Applied while the import runs: the latch set, every order of the venue's cancelled, and only
        # then the import still writing (checked last, so that all of it happened before the import's end).
        assert engine.status().kill_latched
        assert engine.rows("SELECT COUNT(*) FROM orders WHERE status_rank < 100")[0][0] == 0
        assert importer.poll() is None, "the import ended before the kill was applied: nothing was shown"
        print(f"kill answered in {answered_s:.2f} s with the import running ({progress[-1].strip()})")
        importer.kill()  # dies mid-import: its ticks are written, its session row never is
        importer.wait(10)
        assert engine.rows("SELECT COUNT(*) FROM recording_sessions") == [(0,)]
        assert engine.rows("SELECT COUNT(*) FROM session_imports") == [(1,)]
        assert undo_interrupted(Database(engine.db_path)) == 1
        assert engine.rows("SELECT COUNT(*) FROM ticks WHERE token_id = ?", YES) == [(0,)]
        assert engine.rows("SELECT COUNT(*) FROM markets WHERE yes_token = ?", YES) == [(0,)]
    finally:
        if importer is not None and importer.poll() is None:
            importer.kill()
            importer.wait(10)
        engine.cleanup()

"""The whole desk on a recorded market: a simulator process replays a recording session and a
real paper engine trades it, discovering the session's markets, receiving the recorded books
and prints (which its own recorder writes down again, identical), and quoting on them."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx

from tests.helpers import ROOT, paper_desk, wait_until
from tests.simulator.test_cli import _env, _read_port
from tests.simulator.test_replay import SESSION, recorded_session


class _Port:
    def __init__(self, port: int) -> None:
        self.port = port


def _trades(path: Path, tokens: list[str]) -> list[tuple[str, int, int, str]]:
    with sqlite3.connect(path) as conn:
        marks = ",".join("?" * len(tokens))
        return conn.execute(f"SELECT token_id, price, size, side FROM ticks WHERE kind = 'trade' "
                            f"AND token_id IN ({marks}) ORDER BY id", tokens).fetchall()


def test_a_paper_engine_trades_a_replayed_session(tmp_path: Path) -> None:
    recording = tmp_path / "recording.db"
    cids, tokens, _, _ = recorded_session(recording, events=1200)
    yes_tokens = tokens[::2]
    sim = subprocess.Popen([sys.executable, "-m", "simulator", "--port", "0", "--replay", SESSION, "--speed", "10",
                            "--maintenance-schedule", "off"], cwd=ROOT,
                           env=_env(SIMULATOR_REPLAY_DB=str(recording)), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    desk_dir = tmp_path / "desk"
    desk_dir.mkdir()
    engine = None
    try:
        port = _read_port(sim)
        engine = paper_desk(desk_dir, _Port(port), [("mm", "market_making", {"size": 10}, cids)])
        engine.start()

        def replay_done() -> bool:
            return bool(httpx.get(f"http://127.0.0.1:{port}/_sim/state", timeout=5).json()["replay"]["done"])

        wait_until(replay_done, 180, what="the replay's end")
        recorded = _trades(recording, yes_tokens)
        assert len(recorded) > 50
        # The engine recorded the replayed prints: the same trades, in the same order.
        wait_until(lambda: len(_trades(engine.db_path, yes_tokens)) >= len(recorded), 30,
                   what="the engine's recording of the replay")
        assert _trades(engine.db_path, yes_tokens) == recorded
        with sqlite3.connect(engine.db_path) as conn:
            known = {r[0] for r in conn.execute("SELECT condition_id FROM markets")}
            quoted = conn.execute("SELECT COUNT(*) FROM orders WHERE strategy = 'mm' AND mode = 'paper'").fetchone()[0]
        assert set(cids) <= known  # discovered from the replaying venue
        assert quoted > 0  # and traded on it (paper)
    finally:
        if engine is not None:
            engine.terminate()
            engine.cleanup()
        sim.terminate()
        sim.wait(timeout=10)

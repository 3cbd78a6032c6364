"""`engine backtest --verify-quiet-passes`: anyone can check their own recording. It runs every timed
pass a backtest would skip as quiet and says, in words, whether any acted (exit 1 when one did: a part
of the pass that forgot when it next changes, contracts/due.py)."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest

from engine.main import main
from engine.trading.passes.clock_parts import DataAge
from tests.helpers import isolated_env, run_cli

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _recording import write_recording  # noqa: E402


def _recorded(db: Path) -> list[str]:
    """A sparse recording of an hour (a timed pass every 500 ms sees little new; a minute without data late
    in it, when the volatility breaker no longer reads the clock) and the backtest's arguments for it,
    less the flag under test."""
    markets, start, _ = write_recording(db, markets=1, events=1_200, events_per_decision=10**9, seed=5)
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM ticks WHERE kind = 'decide'")
        conn.execute("UPDATE ticks SET at = ? + (at - ?) * 300", (start, start))
        end = conn.execute("SELECT MAX(at) FROM ticks").fetchone()[0]
        pause = start + (end - start) * 3 // 4  # (past the volatility breaker's warm-up)
        conn.execute("DELETE FROM ticks WHERE at BETWEEN ? AND ?", (pause, pause + 60_000))
    return ["backtest", "--strategy", "market_making", "--params",
            '{"size": 20, "half_spread": 0.01, "refresh_threshold": 0.0, "max_spread": 0.5}',
            "--from", str(start), "--to", str(end), "--markets", markets[0]]


def test_a_recording_whose_quiet_passes_change_nothing_is_said_so(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    args = _recorded(Path(env["TRADER_DB"]))
    done = run_cli([*args, "--verify-quiet-passes"], env, timeout=300)
    assert done.returncode == 0, done.stderr
    quiet = json.loads(done.stdout)["quiet_passes"]
    assert quiet["mode"] == "verify" and quiet["checked"] > 1_000 and quiet["acted"] == 0
    assert f"the {quiet['checked']:,} timed passes a backtest would skip as quiet were run, and none acted" in \
        done.stderr
    skipping = run_cli(args, env, timeout=300)  # and without the flag, the same run skips them
    assert skipping.returncode == 0, skipping.stderr
    skipped = json.loads(skipping.stdout)
    assert skipped["quiet_passes"] == {"mode": "skip", "skipped": quiet["checked"]}
    verified = json.loads(done.stdout)
    assert {k: verified[k] for k in ("decisions", "orders", "fills", "pnl", "refusals")} == \
        {k: skipped[k] for k in ("decisions", "orders", "fills", "pnl", "refusals")}


def test_a_part_that_forgets_its_due_time_is_found_and_named_in_words(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    env = isolated_env(tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    args = _recorded(Path(env["TRADER_DB"]))
    monkeypatch.setattr(DataAge, "next_due", lambda self, now, before: None)  # the books growing stale, forgotten
    assert main([*args, "--verify-quiet-passes"]) == 1
    said = capsys.readouterr().err
    assert "timed passes a backtest would skip as quiet acted (the results above ran every pass" in said
    assert "a pass the protocol would have skipped (nothing due before" in said
    assert "refused for STALE_DATA" in said  # what the pass did that a skipped one would not have

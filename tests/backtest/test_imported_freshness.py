"""A recording without the live engine's freshness markers (an imported archive) is replayed as the
connection that received it kept its books: a row of book data vouches for every book of the run,
as live's market channel does (engine/venues/polymarket/market_ws.py), so a quiet token whose market's other
token keeps moving stays fresh; a pause of the whole stream past the data age limit still makes
every book stale, and the risk gate refuses then (STALE_DATA)."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

from contracts.settings import load_settings
from engine.backtest.runner import BacktestSpec, run_sync

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _recording import write_recording  # noqa: E402

PARAMS = {"size": 20, "half_spread": 0.01, "refresh_threshold": 0.0, "max_spread": 0.5}
QUIET_MS = 40_000  # past the default data age limit (10 s)


def test_a_quiet_token_stays_fresh_while_its_market_streams_and_goes_stale_when_the_stream_pauses(
        tmp_path: Path) -> None:
    path = tmp_path / "imported.db"
    markets, start, _ = write_recording(path, markets=1, events=1_200, events_per_decision=10**9, seed=5)
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM ticks WHERE kind = 'decide'")  # as an import writes none
        conn.execute("UPDATE ticks SET at = ? + (at - ?) * 100", (start, start))
        end = conn.execute("SELECT MAX(at) FROM ticks").fetchone()[0]
        no_token = conn.execute("SELECT no_token FROM markets").fetchone()[0]
        quiet = start + (end - start) // 3  # the NO book alone is quiet; the YES book keeps moving
        conn.execute("DELETE FROM ticks WHERE token_id = ? AND at BETWEEN ? AND ?", (no_token, quiet, quiet + QUIET_MS))
        paused = start + (end - start) * 2 // 3  # then nothing at all arrives
        conn.execute("DELETE FROM ticks WHERE at BETWEEN ? AND ?", (paused, paused + QUIET_MS))
        streaming = conn.execute("SELECT COUNT(*) FROM ticks WHERE at BETWEEN ? AND ?",
                                 (quiet, quiet + QUIET_MS)).fetchone()[0]
    assert streaming > 10, "the YES book must keep moving while the NO book is quiet"
    settings = load_settings({"TRADER_ENV_FILE": str(tmp_path / "none"), "TRADER_DB": str(path)})
    run_sync(BacktestSpec("market_making", PARAMS, start, end, tuple(markets), seed=3), path, settings,
             work_dir=tmp_path / "work")
    with sqlite3.connect(tmp_path / "work" / "backtest.db") as conn:
        stale = [at for (at,) in conn.execute("SELECT at FROM decisions WHERE reason = 'STALE_DATA'")]
        placed = conn.execute("SELECT COUNT(*) FROM orders WHERE created_at BETWEEN ? AND ?",
                              (quiet, quiet + QUIET_MS)).fetchone()[0]
    assert not [at for at in stale if at < paused], "the quiet NO book was vouched for by its market's stream"
    assert placed > 0, "and the market kept being quoted meanwhile"
    assert [at for at in stale if paused < at <= paused + QUIET_MS], "a pause of the whole stream is stale"

"""A backtest's scratch ledger does not pay for crash safety (its writer never waits for the disk:
nothing of a replay reaches a venue, and a crash loses a run that is started again) and holds the
executor's and the paper venue's rows in memory within a batch, written once at its end
(storage/sqlite/write_behind.py), and stores exactly what a durable ledger stores: the same run with the
live engine's writer (synchronous=FULL, each step's rows written as it takes it) leaves the same orders,
fills, positions and cash rows, row for row, and the same PnL and counts."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from contracts.settings import load_settings
from engine.backtest import runner
from engine.backtest.runner import BacktestSpec, run_sync
from storage.sqlite.db import Database

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _recording import write_recording  # noqa: E402

PARAMS = {"size": 20, "half_spread": 0.01, "refresh_threshold": 0.0, "max_spread": 0.5}
LEDGER = ("orders", "fills", "positions", "cash_ledger", "paper_orders", "paper_trades")
# What a market's end writes besides (engine/backtest/resolutions.py): the ledger's resolution and claims, the
# paper venue's redemption and the transaction that follows it.
SETTLED = (*LEDGER, "resolutions", "claims", "paper_settlements", "settlement_txs")


def _run(tmp: Path, recording: Path, sync: str, monkeypatch: pytest.MonkeyPatch, *, held: bool,
         latency: str = "zero", tables: tuple[str, ...] = LEDGER) -> tuple[Any, dict, list[tuple[str, bool]]]:
    """(the result, every ledger table's rows, the scratch writers' synchronous settings and whether
    they held rows in memory)."""
    opened: list[tuple[str, bool]] = []

    class Spied(Database):
        def __init__(self, path: Path, **kwargs: Any) -> None:
            if path.name == "backtest.db":
                opened.append((kwargs.get("writer_sync", "NORMAL"), kwargs.get("write_behind", False)))
            super().__init__(path, **kwargs)

    monkeypatch.setattr(runner, "Database", Spied)
    monkeypatch.setattr(runner, "SCRATCH_SYNC", sync)
    monkeypatch.setattr(runner, "SCRATCH_WRITE_BEHIND", held)
    with sqlite3.connect(recording) as conn:
        markets = [r[0] for r in conn.execute("SELECT condition_id FROM markets ORDER BY condition_id")]
        start, end = conn.execute("SELECT MIN(at), MAX(at) FROM ticks").fetchone()
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "TRADER_DB": str(recording)})
    work = tmp / f"{sync}-{held}"
    result = run_sync(BacktestSpec("market_making", PARAMS, start, end, tuple(markets), seed=3, latency=latency),
                      recording, settings, work_dir=work)
    with sqlite3.connect(work / "backtest.db") as conn:
        rows = {table: conn.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall() for table in tables}
    return result, rows, opened


@pytest.mark.parametrize("latency", ["zero", "constant"])
def test_the_scratch_ledger_never_waits_for_the_disk_and_stores_what_a_durable_one_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, latency: str) -> None:
    recording = tmp_path / "recorded.db"
    write_recording(recording, markets=2, events=4_000, events_per_decision=20)
    unsynced, held = runner.SCRATCH_SYNC, runner.SCRATCH_WRITE_BEHIND
    durable, durable_rows, durable_sync = _run(tmp_path, recording, "FULL", monkeypatch, held=False,
                                               latency=latency)
    result, rows, sync = _run(tmp_path, recording, unsynced, monkeypatch, held=held,
                              latency=latency)
    assert sync == [("OFF", True)] and durable_sync == [("FULL", False)]  # the run's own scratch writer
    assert durable_rows["orders"] and durable_rows["fills"], "the run must trade to prove anything"
    assert any(r[6] for r in durable_rows["paper_orders"]), "and its paper orders must fill"
    assert rows == durable_rows  # every order, fill, position and cash row, as stored
    assert (result.metrics, result.curve.values, result.fill_count, result.order_count) == (
        durable.metrics, durable.curve.values, durable.fill_count, durable.order_count)


def test_a_markets_end_settles_and_pays_the_same_rows_held_in_memory_as_written_at_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A resolution inside the run (its claims, the redemption the collections send, the payment booked) writes
    through the held rows' seam the same rows, row for row, as each step written at once."""
    recording = tmp_path / "recorded.db"
    markets, start, end = write_recording(recording, markets=2, events=4_000, events_per_decision=20)
    with sqlite3.connect(recording) as conn:
        for market, outcome in zip(markets, ("no", "yes"), strict=True):  # a winner and a loser, one or other held
            conn.execute("INSERT INTO market_resolutions VALUES (?, ?, ?, NULL, 'feed', 0, 'recorder')",
                         (market, start + (end - start) // 2, outcome))
        conn.execute("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                     "VALUES ('redeem_check_s', '5', 1, 0, 't')")
    _, durable_rows, _ = _run(tmp_path, recording, "FULL", monkeypatch, held=False, tables=SETTLED)
    _, rows, _ = _run(tmp_path, recording, runner.SCRATCH_SYNC, monkeypatch, held=runner.SCRATCH_WRITE_BEHIND,
                      tables=SETTLED)
    assert durable_rows["claims"] and durable_rows["paper_settlements"], "the run must be paid to prove anything"
    assert [r for r in durable_rows["cash_ledger"] if r[3] == "redemption"]
    assert rows == durable_rows

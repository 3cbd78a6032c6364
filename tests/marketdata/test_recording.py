"""The recorder (batches off the hot path, replayable rows, retention), history import against
the simulator (windows, resume), the history-source backtest and the backtest CLI."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from py_clob_client_v2.client import ClobClient

from contracts.domain import Side
from contracts.settings import load_settings
from engine.backtest.replay import apply, recorded_events
from engine.backtest.runner import BacktestError, BacktestSpec, run_sync
from engine.feeds.books import BookCache
from engine.feeds.market_data_events import TradePrint
from engine.marketdata import recorder as recorder_module
from engine.marketdata.recorder import Recorder
from engine.venues.polymarket.discovery import refresh_markets
from engine.venues.polymarket.history import import_history
from simulator.testing import SimHandle, approved_simulator
from storage.engine_stores.tick_store import prune_ticks
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.helpers import isolated_env, run_cli

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _recording import write_recording  # noqa: E402

SH = 1_000_000


def _rows(path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def test_recorder_buffers_then_writes_replayable_rows(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    migrate(path)
    books = BookCache()
    recorder = Recorder(path, books, depth=5)
    books.add_listener(recorder.on_market_event)
    books.apply_snapshot("T", [(480_000, 10 * SH), (470_000, 5 * SH)], [(520_000, 7 * SH)], 1_000)
    books.apply_changes([("T", True, 490_000, 3 * SH)], 1_010)  # one level: a single-level change
    books.apply_changes([("T", True, 480_000, 0), ("T", False, 510_000, 2 * SH)], 1_020)  # two levels
    books.record_trade(TradePrint("T", 510_000, 2 * SH, Side.BUY, 1_030))
    recorder.mark_decision(1_040)
    assert _rows(path, "SELECT COUNT(*) FROM ticks") == [(0,)]  # nothing written on the hot path
    asyncio.run(recorder.flush())
    kinds = _rows(path, "SELECT kind, side, price, size, mid FROM ticks ORDER BY id")
    assert [k[0] for k in kinds] == ["book", "change", "change", "trade", "decide"]
    assert kinds[1][1:4] == ("BUY", 490_000, 3 * SH) and kinds[3][1:4] == ("BUY", 510_000, 2 * SH)
    # Replaying the rows rebuilds the same book.
    replayed = BookCache()
    for event in recorded_events(path, ["T"], 0, 10_000):
        if event[2] != "decide":
            apply(replayed, event)
    original, copy = books.book("T", 5), replayed.book("T", 5)
    assert original is not None and copy is not None
    assert (original.bids, original.asks) == (copy.bids, copy.asks)


def test_a_marker_keeps_since_when_every_book_was_current_and_a_replay_ages_books_as_live_did(
        tmp_path: Path) -> None:
    """Live, a healthy connection vouches for a quiet book (`confirm`) without a row; the marker keeps
    the oldest freshness of every book, so a replay's quiet book is as fresh as live's, and a book the
    feed stopped vouching for holds every book back (stricter, never fresher than live)."""
    path = tmp_path / "r.db"
    migrate(path)
    books = BookCache()
    recorder = Recorder(path, books, depth=5)
    books.add_listener(recorder.on_market_event)
    for token in ("QUIET", "BUSY"):
        books.apply_snapshot(token, [(480_000, 10 * SH)], [(520_000, 7 * SH)], 1_000)
    books.apply_changes([("BUSY", True, 490_000, 3 * SH)], 20_050)
    books.confirm(["QUIET", "BUSY"], 20_000)  # the connection's other data: no row
    recorder.mark_decision(20_100)
    books.apply_snapshot("DARK", [(480_000, 10 * SH)], [(520_000, 7 * SH)], 20_200)
    books.confirm(["QUIET", "BUSY"], 30_000)  # DARK's connection says nothing from now on
    recorder.mark_decision(45_000)
    asyncio.run(recorder.flush())
    assert _rows(path, "SELECT at, size FROM ticks WHERE kind = 'decide' ORDER BY id") == [(20_100, 20_000),
                                                                                          (45_000, 20_200)]
    replayed = BookCache()
    events = list(recorded_events(path, ["QUIET", "BUSY", "DARK"], 0, 30_000))
    for event in events:
        apply(replayed, event)
    assert replayed.updated_ms("QUIET") == 20_000  # as the first marker says (the book itself last changed at 1,000)
    for event in recorded_events(path, ["QUIET", "BUSY", "DARK"], 30_001, 50_000):
        apply(replayed, event)
    assert replayed.updated_ms("QUIET") == 20_200  # held back by DARK, older than live's 30,000


def test_recorder_keeps_rows_when_a_write_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "r.db"
    migrate(path)
    books = BookCache()
    recorder = Recorder(path, books)
    recorder.mark_decision(1)

    def broken(rows):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(recorder, "_write", broken)
    with pytest.raises(sqlite3.OperationalError):
        asyncio.run(recorder.flush())
    assert len(recorder.buffer) == 1
    monkeypatch.undo()
    asyncio.run(recorder.flush())
    assert _rows(path, "SELECT kind FROM ticks") == [("decide",)]


def test_recorder_writes_in_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "r.db"
    migrate(path)
    statements: list[str] = []
    real_connection = recorder_module.raw_connection

    def traced_connection(*args, **kwargs):
        conn = real_connection(*args, **kwargs)
        conn.set_trace_callback(statements.append)  # every statement the recorder's connection runs
        return conn

    monkeypatch.setattr(recorder_module, "raw_connection", traced_connection)
    recorder = Recorder(path, BookCache())
    for at in range(2_500):
        recorder.mark_decision(at)
    assert asyncio.run(recorder.flush()) == 2_500
    assert _rows(path, "SELECT COUNT(*), MIN(at), MAX(at) FROM ticks") == [(2_500, 0, 2_499)]
    # Transactions of TRANSACTION_ROWS rows (the write lock is held a few ms at a time: see the
    # next test), each written in multi-row INSERTs (sqlite-utils sizes them to SQLite's variable
    # limit): not a commit, nor an autocommitted INSERT, per row.
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    commits = [s for s in statements if s.strip().upper() == "COMMIT"]
    assert len(commits) == 2_500 // recorder_module.TRANSACTION_ROWS
    assert len(inserts) == len(commits)


def buffered_recorder(tmp_path: Path, rows: int) -> tuple[Path, Recorder]:
    """A recorder on a new database with `rows` decision markers (at = 0, 1, ...) buffered."""
    path = tmp_path / "r.db"
    migrate(path)
    recorder = Recorder(path, BookCache())
    for at in range(rows):
        recorder.mark_decision(at)
    return path, recorder


def test_other_writers_get_the_lock_between_the_recorders_transactions(tmp_path: Path) -> None:
    """A flush of a large buffer does not hold the database's write lock to its end: another
    writer (the engine's loop, in the desk) spinning for the lock meanwhile gets it between two of
    the recorder's commits, and sees part of the buffer written. With one transaction for the
    buffer it could only see none or all of it."""
    path, recorder = buffered_recorder(tmp_path, rows := 30 * recorder_module.TRANSACTION_ROWS)
    seen: list[int] = []
    done = threading.Event()

    def other_writer() -> None:
        conn = sqlite3.connect(path, timeout=0, isolation_level=None)  # no waiting: spin
        try:
            while not done.is_set():
                try:
                    conn.execute("BEGIN IMMEDIATE")
                except sqlite3.OperationalError:  # locked: the recorder is in a transaction
                    continue
                seen.append(conn.execute("SELECT COUNT(*) FROM ticks").fetchone()[0])
                conn.execute("COMMIT")
                time.sleep(0.0005)
        finally:
            conn.close()

    writer = threading.Thread(target=other_writer)
    writer.start()
    try:
        assert asyncio.run(recorder.flush()) == rows
    finally:
        done.set()
        writer.join(10)
    assert any(0 < count < rows for count in seen), sorted(set(seen))[:5]


def test_a_flush_that_fails_midway_keeps_what_it_committed_and_rebuffers_the_rest(tmp_path: Path) -> None:
    path, recorder = buffered_recorder(tmp_path, rows := 5 * recorder_module.TRANSACTION_ROWS)
    failing_at = 3 * recorder_module.TRANSACTION_ROWS + 7  # in the fourth transaction
    with sqlite3.connect(path) as conn:
        conn.execute(f"CREATE TRIGGER refuse BEFORE INSERT ON ticks WHEN NEW.at = {failing_at} "
                     "BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    with pytest.raises(sqlite3.IntegrityError):
        asyncio.run(recorder.flush())
    committed = 3 * recorder_module.TRANSACTION_ROWS
    assert _rows(path, "SELECT COUNT(*), MAX(at) FROM ticks") == [(committed, committed - 1)]
    assert len(recorder.buffer) == rows - committed and recorder.written == committed
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TRIGGER refuse")
    asyncio.run(recorder.flush())
    assert _rows(path, "SELECT COUNT(*), COUNT(DISTINCT at) FROM ticks") == [(rows, rows)]  # each row once


def test_retention_removes_only_old_ticks(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    migrate(path)
    with sqlite3.connect(path) as conn:
        conn.executemany("INSERT INTO ticks (at, token_id, kind) VALUES (?, 'T', 'decide')", [(i,) for i in range(50)])
    assert prune_ticks(path, before_ms=30, chunk=7) == 30
    assert _rows(path, "SELECT MIN(at), COUNT(*) FROM ticks") == [(30, 20)]


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with approved_simulator(seed=4, agents=False) as handle:
        yield handle


def test_import_history_in_windows_and_resumable(tmp_path: Path, sim: SimHandle,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "h.db"
    migrate(path)
    db = Database(path)
    settings = load_settings({"TRADER_ENV_FILE": str(tmp_path / "none"), "SIMULATOR_PORT": str(sim.port)})
    asyncio.run(refresh_markets(db, settings.gamma_host))
    token = _rows(path, "SELECT yes_token FROM markets LIMIT 1")[0][0]
    end = _rows(path, "SELECT first_seen_at FROM markets LIMIT 1")[0][0]
    start = end - 20 * 3_600_000  # 20 hours of the simulator's backfill: one window
    calls = []
    import engine.venues.polymarket.history as history

    real_fetch = history._fetch

    def failing_second(client, token_id, a, b, fidelity):
        calls.append((a, b))
        if len(calls) == 2:
            raise ConnectionError("network dropped")
        return real_fetch(client, token_id, a, b, fidelity)

    monkeypatch.setattr(history, "WINDOW_MS", 6 * 3_600_000)  # four windows
    monkeypatch.setattr(history, "_fetch", failing_second)
    with pytest.raises(ConnectionError):
        asyncio.run(import_history(db, settings.clob_host, 137, token, start, end, fidelity=60))
    first_points = _rows(path, "SELECT COUNT(*) FROM price_history")[0][0]
    assert first_points > 0 and _rows(path, "SELECT done_until FROM import_progress")[0][0] == start + 6 * 3_600_000
    report = asyncio.run(import_history(db, settings.clob_host, 137, token, start, end, fidelity=60))
    assert report.resumed_from == start + 6 * 3_600_000 and report.windows == 3 and report.done_until == end
    assert calls[2][0] == start + 6 * 3_600_000  # it resumed where it stopped, not from the start
    total = _rows(path, "SELECT COUNT(*) FROM price_history")[0][0]
    assert total > first_points
    assert report.points == total - first_points
    again = asyncio.run(import_history(db, settings.clob_host, 137, token, start, end, fidelity=60))
    assert (again.windows, again.points) == (0, 0)  # finished: nothing fetched again

    with db.write() as conn:  # one decision a point: the timed passes only (decide_on_events is on by default)
        conn.exec_driver_sql("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                             "VALUES ('decide_on_events', '0', 1, 0, 'test')")
    result = run_sync(BacktestSpec("market_making", {"size": 20, "max_spread": 0.5}, start, end, source="history"),
                      path, settings, work_dir=tmp_path / "bt")
    assert result.decisions == total and result.events == 5 * total
    assert result.metrics.start_equity > 0


def test_import_history_counts_a_shared_window_boundary_once(tmp_path: Path, sim: SimHandle,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "h.db"
    migrate(path)
    db = Database(path)
    settings = load_settings({"TRADER_ENV_FILE": str(tmp_path / "none"), "SIMULATOR_PORT": str(sim.port)})
    asyncio.run(refresh_markets(db, settings.gamma_host))
    token = _rows(path, "SELECT yes_token FROM markets LIMIT 1")[0][0]
    import engine.venues.polymarket.history as history

    # The simulator's backfill has a point every minute; start on one, and 10-minute windows
    # then end on one too, which /prices-history returns in both neighbouring windows.
    now = _rows(path, "SELECT first_seen_at FROM markets LIMIT 1")[0][0]
    sampled = history._fetch(ClobClient(settings.clob_host, 137), token, now - 3 * 3_600_000, now - 3_600_000, 1)
    start = sampled[0][0]
    end = start + 30 * 60_000
    monkeypatch.setattr(history, "WINDOW_MS", 10 * 60_000)
    report = asyncio.run(import_history(db, settings.clob_host, 137, token, start, end, fidelity=1))
    stored = _rows(path, "SELECT COUNT(*) FROM price_history")[0][0]
    assert (report.windows, stored) == (3, 31)  # a point a minute, both ends included
    assert report.points == stored
    assert _rows(path, "SELECT points FROM import_progress") == [(stored,)]


def test_backtest_cli_records_a_run(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    path = Path(env["TRADER_DB"])
    markets, start, end = write_recording(path, markets=2, events=3_000)
    ok = run_cli(["backtest", "--strategy", "market_making", "--params", json.dumps({"size": 20, "max_spread": 0.5}),
                  "--from", str(start), "--to", str(end), "--seed", "3"], env, timeout=120)
    assert ok.returncode == 0, ok.stderr
    summary = json.loads(ok.stdout)
    status, metrics, curve = _rows(path, "SELECT status, metrics, equity_curve FROM strategy_runs")[0]
    assert status == "done" and json.loads(metrics)["trades"] == summary["trades"]
    assert len(json.loads(curve)) > 10 and summary["decisions"] > 0
    assert "backtest #1" in ok.stderr  # the progress bar
    bad = run_cli(["backtest", "--strategy", "market_making", "--params", '{"size": -5}', "--from", str(start),
                   "--to", str(end)], env)
    assert bad.returncode == 1 and "size" in bad.stderr
    unknown = run_cli(["backtest", "--strategy", "nope", "--from", str(start), "--to", str(end)], env)
    assert unknown.returncode == 1 and "unknown strategy kind" in unknown.stderr
    empty = run_cli(["backtest", "--strategy", "market_making", "--from", "2021-01-01", "--to", "2021-01-02"], env)
    assert empty.returncode == 1 and "no recorded data" in empty.stderr
    assert _rows(path, "SELECT status FROM strategy_runs ORDER BY id") == [
        ("done",), ("failed",), ("failed",), ("failed",)]
    # Each run asked for as the dashboard asks (storage/research/launch_requests.py): audited by who ran it.
    launches = _rows(path, "SELECT actor, entity FROM audit_log WHERE action = 'backtest.launch' ORDER BY id")
    assert [e for _, e in launches] == [f"backtest_run:{n}" for n in (1, 2, 3, 4)]
    assert all(a.startswith("cli") for a, _ in launches)


def test_backtest_rejects_bad_ranges(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    markets, start, end = write_recording(path, markets=1, events=100)
    settings = load_settings({"TRADER_ENV_FILE": str(tmp_path / "none")})
    with pytest.raises(BacktestError, match="after its start"):
        run_sync(BacktestSpec("market_making", {}, end, start), path, settings, work_dir=tmp_path / "w")
    with pytest.raises(BacktestError, match="unknown markets"):
        run_sync(BacktestSpec("market_making", {}, start, end, ("0xnope",)), path, settings, work_dir=tmp_path / "w")


def test_the_recorder_keeps_the_venues_tick_size_changes_for_replays(tmp_path: Path) -> None:
    from engine.feeds.market_data_events import TickSizeChanged

    path = tmp_path / "r.db"
    migrate(path)
    books = BookCache()
    recorder = Recorder(path, books)
    books.add_listener(recorder.on_market_event)
    books.publish(TickSizeChanged("T", 10_000, 1_000, 5_000))
    books.publish(TickSizeChanged("T", None, 10_000, 9_000))  # the venue may leave the old tick out
    asyncio.run(recorder.flush())
    assert _rows(path, "SELECT token_id, at, old_tick, tick FROM tick_sizes ORDER BY at") == [
        ("T", 5_000, 10_000, 1_000), ("T", 9_000, None, 10_000)]


MINUTE = 60_000
NOON = 1_767_268_800_000  # 2026-01-01 12:00 UTC


def _candles(path: Path, width: int) -> list[tuple]:
    return _rows(path, f"""SELECT start_at - {NOON}, mid_open, mid_high, mid_low, mid_close, spread_sum / spreads,
                                  volume, trades FROM candles JOIN candle_tokens t ON t.id = token_key
                           WHERE t.token_id = 'T' AND width_ms = {width} ORDER BY start_at""")


def test_the_recorder_rolls_the_book_and_prints_into_candles_that_outlive_the_ticks(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    migrate(path)
    books = BookCache()
    recorder = Recorder(path, books, depth=5)
    books.add_listener(recorder.on_market_event)
    books.apply_snapshot("T", [(480_000, 10 * SH)], [(520_000, 7 * SH)], NOON + 1_000)  # mid 0.50, spread 0.04
    books.record_trade(TradePrint("T", 520_000, 2 * SH, Side.BUY, NOON + 2_000))
    books.apply_changes([("T", True, 500_000, 3 * SH)], NOON + 30_000)  # mid 0.51, spread 0.02
    asyncio.run(recorder.flush())
    books.apply_changes([("T", False, 510_000, 1 * SH)], NOON + 50_000)  # the same minute, the next flush: 0.505
    books.apply_changes([("T", True, 505_000, 1 * SH)], NOON + MINUTE + 5_000)  # the next minute: 0.5075
    books.record_trade(TradePrint("T", 505_000, 5 * SH, Side.SELL, NOON + MINUTE + 6_000))
    asyncio.run(recorder.flush())
    assert _candles(path, MINUTE) == [
        (0, 500_000, 510_000, 500_000, 505_000, (40_000 + 20_000 + 10_000) // 3, 2 * SH, 1),
        (MINUTE, 507_500, 507_500, 507_500, 507_500, 5_000, 5 * SH, 1)]
    for width in (5 * MINUTE, 60 * MINUTE, 24 * 60 * MINUTE):  # one bucket holding both minutes
        assert _candles(path, width) == [(0 if width < 24 * 60 * MINUTE else -12 * 60 * MINUTE, 500_000, 510_000,
                                          500_000, 507_500, (40_000 + 20_000 + 10_000 + 5_000) // 4, 7 * SH, 2)]
    assert prune_ticks(path, before_ms=NOON + 10 * MINUTE) > 0  # the ticks' retention ends...
    assert _rows(path, "SELECT COUNT(*) FROM ticks") == [(0,)]
    assert len(_candles(path, MINUTE)) == 2  # ...the candles stay


def test_candles_not_written_go_back_and_are_written_once(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    migrate(path)
    books = BookCache()
    recorder = Recorder(path, books)
    books.add_listener(recorder.on_market_event)
    books.apply_snapshot("T", [(480_000, 10 * SH)], [(520_000, 7 * SH)], NOON + 1_000)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON candles BEGIN SELECT RAISE(ABORT, 'disk full'); END")
    with pytest.raises(sqlite3.IntegrityError):
        asyncio.run(recorder.flush())
    books.record_trade(TradePrint("T", 520_000, 2 * SH, Side.BUY, NOON + 2_000))  # meanwhile, in the same minute
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TRIGGER refuse")
    asyncio.run(recorder.flush())
    assert _candles(path, MINUTE) == [(0, 500_000, 500_000, 500_000, 500_000, 40_000, 2 * SH, 1)]
    assert _rows(path, "SELECT COUNT(*) FROM ticks") == [(2,)]  # the ticks, written by the first flush, once


def test_ticks_recorded_before_the_candles_are_rolled_in_before_retention_prunes_them(tmp_path: Path) -> None:
    """A desk that upgraded: its old ticks (before the candles' era) are rolled into candles, up to the
    cutoff retention prunes at and never twice; a tick of the recorder's own era is not (the recorder
    rolled it)."""
    from engine.marketdata.candle_backfill import roll_old_ticks

    path = tmp_path / "r.db"
    migrate(path)
    book = json.dumps({"b": [[480_000, 10 * SH]], "a": [[520_000, 7 * SH]]})
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE candle_backfill SET before_at = ?", (NOON + 3 * MINUTE,))  # upgraded at 12:03
        conn.executemany("INSERT INTO ticks (at, token_id, kind, side, price, size, mid, data) "
                         "VALUES (?, 'T', ?, ?, ?, ?, ?, ?)", [
                             (NOON + 1_000, "book", None, None, None, 500_000, book),  # spread 0.04
                             (NOON + 2_000, "trade", "BUY", 520_000, 2 * SH, 500_000, None),
                             (NOON + 30_000, "change", "BUY", 500_000, 3 * SH, 510_000, None),  # spread 0.02
                             (NOON + MINUTE + 1_000, "change", "SELL", 510_000, SH, 505_000, None),  # 0.01
                             (NOON + 4 * MINUTE, "change", "SELL", 505_000, SH, 502_500, None)])  # the recorder's era
    assert roll_old_ticks(path, before_ms=NOON + MINUTE, pause_s=0) == 3  # retention prunes the first minute
    assert _candles(path, MINUTE) == [(0, 500_000, 510_000, 500_000, 510_000, 30_000, 2 * SH, 1)]
    assert prune_ticks(path, before_ms=NOON + MINUTE) == 3
    assert roll_old_ticks(path, before_ms=NOON + 10 * MINUTE, pause_s=0) == 1  # up to the era, and only once
    assert _candles(path, MINUTE) == [(0, 500_000, 510_000, 500_000, 510_000, 30_000, 2 * SH, 1),
                                      (MINUTE, 505_000, 505_000, 505_000, 505_000, None, 0, 0)]
    assert roll_old_ticks(path, before_ms=NOON + 10 * MINUTE, pause_s=0) == 0
    assert _rows(path, "SELECT rolled_until FROM candle_backfill") == [(NOON + 3 * MINUTE,)]

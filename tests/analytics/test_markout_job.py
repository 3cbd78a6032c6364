"""The markout job on a real SQLite file: horizons are written once the recorded history has
passed them, a fill in a resolved market gets its markout against what the token paid, a fill
that turns FAILED loses its markouts, and a fresh job (a restart) finds nothing left to redo."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from engine.analytics.markout_job import MarkoutJob
from storage.research import markout_frames
from storage.research import markout_queries as q
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

T0 = 1_800_000_000_000
SH = 1_000_000


def _seed(path: Path) -> None:
    migrate(path)
    conn = sqlite3.connect(path)  # the rows as the engine writes them (no orders needed here)
    conn.execute("""INSERT INTO markets (condition_id, question, yes_token, no_token, tick, min_size, first_seen_at,
                        updated_at) VALUES ('m', 'Will it?', 'y', 'n', 10000, 5000000, 0, 0)""")
    ticks = [(T0 - 1_000, "y", "book", 500_000), (T0 + 5_000, "y", "change", 600_000),
             (T0 + 70_000, "", "decide", None)]
    conn.executemany("INSERT INTO ticks (at, token_id, kind, mid) VALUES (?, ?, ?, ?)", ticks)
    fills = [(1, "BUY", "CONFIRMED", T0), (2, "SELL", "FAILED", T0), (3, "BUY", "MATCHED", T0 + 65_000)]
    for fill_id, side, status, at in fills:
        conn.execute("""INSERT INTO fills (id, trade_id, order_id, mode, strategy, condition_id, token_id, outcome,
                            side, price, size, fee, liquidity, status, status_rank, matched_at, updated_at)
                        VALUES (?, ?, 1, 'paper', 'a', 'm', 'y', 'YES', ?, 500000, ?, 0, 'MAKER', ?, 10, ?, ?)""",
                     (fill_id, f"t{fill_id}", side, 10 * SH, status, at, at))
    conn.commit()
    conn.close()


def _sql(path: Path, statement: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute(statement)
    conn.commit()
    conn.close()


def test_horizons_resolution_and_reversed_fills(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    _seed(path)
    db = Database(path)
    job = MarkoutJob(db)
    assert job.run(T0 + 70_000) == 4  # fill 1: 1 s, 10 s, 60 s; fill 3: 1 s (its 10 s is past the history)
    assert q.fill_markouts(db, 1) == {"1s": (500_000, 0), "10s": (600_000, SH), "60s": (600_000, SH)}
    assert q.fill_markouts(db, 2) == {}  # FAILED: reversed, no markout
    assert q.fill_markouts(db, 3) == {"1s": (600_000, SH)}
    assert MarkoutJob(db).run(T0 + 70_000) == 0  # a restart: nothing is computed twice
    _sql(path, "UPDATE markets SET resolved_outcome = 'NO', payout_yes = 0, payout_no = 1000000, closed = 1")
    assert job.run(T0 + 80_000) == 2
    assert q.fill_markouts(db, 1)["resolution"] == (0, -5 * SH)  # bought at 0.50, the token paid 0
    _sql(path, "UPDATE fills SET status = 'FAILED' WHERE id = 1")
    job.run(T0 + 90_000)
    assert q.fill_markouts(db, 1) == {}
    per_strategy, _ = markout_frames.markout_tables(db, "paper")
    assert per_strategy.loc[0, "fills_1s"] == 1 and per_strategy.loc[0, "usdc_resolution"] == -5.0
    db.dispose()

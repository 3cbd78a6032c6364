"""Spread capture on a real SQLite file: each fill's edge against the recorded mid at its match
time (the last one at or before it), summed per strategy and market; a fill with no mid yet is
counted as not measured, never as zero; reversed (FAILED) fills and other modes are left out."""

from __future__ import annotations

import math
import sqlite3

from storage.research.markout_frames import spread_capture
from storage.sqlite.db import Database

T0 = 1_800_000_000_000
SH = 1_000_000


def _seed(db: Database) -> None:
    conn = sqlite3.connect(db.path)  # the rows as the engine writes them (no orders needed here)
    with conn:
        conn.execute("""INSERT INTO markets (condition_id, question, yes_token, no_token, tick, min_size,
                            first_seen_at, updated_at) VALUES ('m', 'Will it?', 'y', 'n', 10000, 5000000, 0, 0)""")
        conn.executemany("INSERT INTO ticks (at, token_id, kind, mid) VALUES (?, ?, 'change', ?)",
                         [(T0 - 1_000, "y", 500_000), (T0 + 5_000, "y", 600_000), (T0 + 10_000, "n", 400_000)])
        fills = [  # (id, mode, strategy, token, side, price, size, status, matched_at)
            (1, "paper", "a", "y", "BUY", 480_000, 10 * SH, "CONFIRMED", T0),  # mid 0.50: +0.20
            (2, "paper", "a", "y", "SELL", 610_000, 5 * SH, "MATCHED", T0 + 5_000),  # mid 0.60 (same ms): +0.05
            (3, "paper", "a", "n", "BUY", 390_000, 10 * SH, "MATCHED", T0),  # no mid for n yet: not measured
            (4, "paper", "a", "y", "SELL", 400_000, 10 * SH, "FAILED", T0),  # reversed: left out
            (5, "live", "a", "y", "BUY", 100_000, 10 * SH, "CONFIRMED", T0),  # another mode: left out
            (6, "paper", "b", "y", "BUY", 650_000, 3 * SH, "CONFIRMED", T0 + 6_000),  # paid the spread: -0.15
            (7, "paper", "c", "n", "SELL", 400_000, SH, "CONFIRMED", T0 + 9_999),  # before n's first mid
        ]
        for fid, mode, strategy, token, side, price, size, status, at in fills:
            conn.execute("""INSERT INTO fills (id, trade_id, order_id, mode, strategy, condition_id, token_id, outcome,
                                side, price, size, fee, liquidity, status, status_rank, matched_at, updated_at)
                            VALUES (?, ?, 1, ?, ?, 'm', ?, 'YES', ?, ?, ?, 0, 'MAKER', ?, 10, ?, ?)""",
                         (fid, f"t{fid}", mode, strategy, token, side, price, size, status, at, at))
    conn.close()


def test_spread_capture_per_strategy_and_market(db: Database) -> None:
    _seed(db)
    table = spread_capture(db, "paper")
    rows = {r.strategy: r for r in table.itertuples()}
    assert list(rows) == ["a", "b", "c"]
    a, b, c = rows["a"], rows["b"], rows["c"]
    assert (a.market, a.measured, a.unmeasured, a.usdc) == ("Will it?", 2, 1, 0.25)
    assert a.bps == 250_000 * 10_000 / (4_800_000 + 3_050_000)  # of the measured fills' notional
    assert (b.measured, b.unmeasured, b.usdc) == (1, 0, -0.15)
    assert (c.measured, c.unmeasured) == (0, 1) and math.isnan(c.usdc)  # not measured is not zero
    only_b = spread_capture(db, "paper", "b")
    assert only_b["strategy"].tolist() == ["b"] and only_b["usdc"].tolist() == [-0.15]
    assert spread_capture(db, "live", "a")["usdc"].tolist() == [4.0]  # 10 bought at 0.10 against a 0.50 mid
    assert spread_capture(db, "paper", "nobody").empty

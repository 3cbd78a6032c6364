"""The last recorded mid at a time, read past rows that carry none (a book with one side empty, an
imported archive whose rows give no best prices): the right mid, found by one seek on the ticks
that have a mid (ix_ticks_token_mid), not by walking back over every row without one."""

from __future__ import annotations

import sqlite3

from storage.research.markout_queries import MID_AT, RecordedPrices
from storage.sqlite.db import Database

T0 = 1_800_000_000_000


def test_the_mid_before_a_long_run_of_rows_without_one_is_found_by_a_seek(db: Database) -> None:
    conn = sqlite3.connect(db.path)
    with conn:
        conn.execute("INSERT INTO ticks (at, token_id, kind, mid) VALUES (?, 'y', 'change', 510000)", (T0,))
        conn.executemany("INSERT INTO ticks (at, token_id, kind, side, price, size) VALUES (?, 'y', 'change', "
                         "'BUY', 480000, 1000000)", [(T0 + n,) for n in range(1, 2_000)])
        conn.execute("INSERT INTO ticks (at, token_id, kind, mid) VALUES (?, 'n', 'change', 490000)", (T0 + 5,))
        plan = " ".join(str(row[-1]) for row in conn.execute(f"EXPLAIN QUERY PLAN {MID_AT}", {"t": "y", "at": 0}))
    conn.close()
    assert "ix_ticks_token_mid" in plan, plan
    prices = RecordedPrices(db.path)
    try:
        assert prices.mid_at("y", T0 + 1_999) == 510_000  # the last mid, 1,999 rows back
        assert prices.mid_at("y", T0 - 1) is None
        assert prices.mid_at("n", T0 + 1_999) == 490_000  # another token's mids are its own
    finally:
        prices.close()

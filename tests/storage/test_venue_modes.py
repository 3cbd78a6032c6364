"""A venue's mode is a row (migration 0099): a database made by a release before it kept Kalshi's
arming on the engine_state row (kalshi_mode, kalshi_key, kalshi_host); the upgrade moves it to
Kalshi's row of venue_modes, so a Kalshi armed live before the upgrade is armed live after it, with
the account and host the arming gate checks a preflight against, and the old columns are gone."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlite_utils import Database as UtilsDatabase

from contracts.venues import KALSHI
from storage.desk import arming, desk_status
from storage.sqlite.lite import raw_connection
from storage.sqlite.migrations import m, migrate

BEFORE = "0099_venue_modes"
HOST = "https://api.elections.kalshi.com/trade-api/v2"


def _older_release(path: Path) -> None:
    conn = raw_connection(path, synchronous="FULL")
    try:
        m.apply(UtilsDatabase(conn), stop_before=BEFORE)
    finally:
        conn.close()


def test_a_kalshi_armed_live_before_the_upgrade_is_armed_live_after_it(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _older_release(path)
    with sqlite3.connect(path) as conn:  # Kalshi's arming where the release before kept it
        conn.execute("UPDATE engine_state SET kalshi_mode = 'live', kalshi_key = 'key ab12', kalshi_host = ?",
                     (HOST,))
    assert migrate(path)[0] == BEFORE
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        columns = {row[1] for row in conn.execute("PRAGMA table_info(engine_state)")}
        assert not {c for c in columns if c.startswith("kalshi_")} - {"kalshi_exchange"}  # moved, then gone
        status = desk_status.engine_status(conn, path)
        reads = arming.engine_reads(conn, KALSHI, up=True)
    assert (status.mode_of(KALSHI), status.host_of(KALSHI)) == ("live", HOST)
    assert status.armed_live() == [KALSHI]
    assert (reads.account, reads.host) == ("key ab12", HOST)  # what the gate checks a preflight against


def test_a_new_database_has_kalshi_on_paper_and_nothing_read(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    migrate(path)
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        status = desk_status.engine_status(conn, path)
        reads = arming.engine_reads(conn, KALSHI, up=False)
    assert (status.mode_of(KALSHI), status.host_of(KALSHI), status.armed_live()) == ("paper", None, [])
    assert (reads.account, reads.host) == (None, None)

"""A quiet market in a replay is as fresh as it was live: the live feed keeps a book current by its
connection's other data, which writes no row, so each recorded decision marker carries since when
every book was current (engine/marketdata/recorder.py), and the replay applies it. Without it a
backtest found a market stale after `max_data_age` of quiet and withdrew quotes live kept."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

from contracts.settings import load_settings
from engine.backtest.runner import BacktestResult, BacktestSpec, run_sync
from storage.sqlite.migrations import migrate

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _recording import _book, _market_row  # noqa: E402

START = 1_800_000_000_000
QUIET_MS = 40_000  # four times the default max_data_age (10 s)
PARAMS = {"size": 20, "half_spread": 0.02, "refresh_threshold": 0.0, "max_spread": 0.5}


def _quiet_recording(path: Path, *, vouched: bool) -> str:
    """One market's books at the start, then nothing but decision markers every 500 ms for QUIET_MS;
    `vouched`: each marker says every book was current at its time (a healthy live feed)."""
    migrate(path)
    market = _market_row(0, START)
    mid = 500_000
    book = json.dumps(_book(mid))
    rows: list[tuple[object, ...]] = [(START, market["yes_token"], "book", None, None, None, mid, book),
                                      (START, market["no_token"], "book", None, None, None, mid, book)]
    rows += [(at, "", "decide", None, None, at if vouched else None, None, None)
             for at in range(START + 500, START + QUIET_MS, 500)]
    with sqlite3.connect(path) as conn:
        conn.execute(f"INSERT INTO markets ({', '.join(market)}) VALUES ({', '.join('?' * len(market))})",
                     tuple(market.values()))
        conn.executemany("INSERT INTO ticks (at, token_id, kind, side, price, size, mid, data) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return str(market["condition_id"])


def _backtest(tmp: Path, *, vouched: bool) -> BacktestResult:
    path = tmp / "recorded.db"
    market = _quiet_recording(path, vouched=vouched)
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "TRADER_DB": str(path)})
    return run_sync(BacktestSpec("market_making", PARAMS, START, START + QUIET_MS, (market,), seed=1), path,
                    settings, work_dir=tmp / "work")


def _stale(result: BacktestResult) -> int:
    return sum(n for reason, n in result.refusals.get("refused", {}).items() if reason == "STALE_DATA")


def _withdrawn_early(result: BacktestResult) -> list[int]:
    """When quotes were withdrawn before the run's last pass (ms into the run)."""
    last_pass = START + QUIET_MS - 500
    return [o["closed_at"] - START for o in result.orders if o["closed_at"] and o["closed_at"] < last_pass]


def test_a_quiet_market_the_live_feed_vouched_for_stays_quoted_in_the_replay(tmp_path: Path) -> None:
    result = _backtest(tmp_path, vouched=True)
    assert result.orders, "the maker quoted nothing: the case proves nothing"
    assert _stale(result) == 0
    assert _withdrawn_early(result) == [], "a quote was withdrawn on a book live held fresh"


def test_a_marker_without_the_feeds_word_leaves_a_quiet_book_to_age(tmp_path: Path) -> None:
    """Older recordings (no time in the marker) replay as before: the quiet book goes stale."""
    result = _backtest(tmp_path, vouched=False)
    assert _stale(result) > 0
    assert _withdrawn_early(result), "the quotes rested on a stale book"

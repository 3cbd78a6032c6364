"""Fair values replayed as they were (issue 85 item 3), on the real backtest runner and real SQLite: each
outside or poll value the desk received (stored by the desk's own writer, storage/desk/signal_intake.py,
from a checked post) is replayed from when it was received until its time-to-live ran out or its source's
next post replaced it, so a value-betting run trades while, and only while, the desk held a value; where no
history covers a run its result says so in words; an ensemble's minimum of sources is judged on the sources
the replay held at once."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

from contracts.domain import Outcome, Side, yes_space
from contracts.outside_signals import parse_post
from contracts.settings import load_settings
from engine.backtest.runner import BacktestResult, BacktestSpec, run_sync
from storage.desk.signal_intake import record_post
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _recording import _book, _market_row  # noqa: E402

START = 1_800_000_000_000
S = 1_000
SPAN_S = 120
VB = {"max_order": 10, "min_confidence": 0, "max_position": 1000}


def _desk(path: Path, markets: int = 1) -> list[str]:
    """Markets quoted 0.49/0.51 for two minutes (a fresh book every 2 s), decided every second."""
    migrate(path)
    rows = [_market_row(i, START) for i in range(markets)]
    with sqlite3.connect(path) as conn:
        conn.executemany(f"INSERT INTO markets ({', '.join(rows[0])}) VALUES ({', '.join('?' * len(rows[0]))})",
                         [tuple(r.values()) for r in rows])
        ticks = [(START + t * S, token, "book", None, None, None, 500_000, json.dumps(_book(500_000)))
                 for t in range(0, SPAN_S + 1, 2) for row in rows for token in (row["yes_token"], row["no_token"])]
        conn.executemany("INSERT INTO ticks (at, token_id, kind, side, price, size, mid, data) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", ticks)
        conn.execute("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                     "VALUES ('tick_interval_ms', '1000', 1, 0, 't')")
    return [r["condition_id"] for r in rows]


def _post(path: Path, market: str, source: str, fair: float, at_s: float, ttl_s: int,
          confidence: float | None = 0.9) -> None:
    """A post as the signals API takes it, received `at_s` into the run (or before it, negative)."""
    now = START + int(at_s * S)
    raw: dict[str, Any] = {"market": market, "source": source, "fair_value": fair, "posted_at": now - 100,
                           "nonce": f"n{abs(int(at_s * 1000))}-{source}x", "ttl_s": ttl_s}
    if confidence is not None:
        raw["confidence"] = confidence
    db = Database(path)
    try:
        record_post(db, parse_post(raw, now), via="http", actor=f"api:{source}", now=now)
    finally:
        db.dispose()


def _run(tmp: Path, path: Path, kind: str, params: dict[str, Any], markets: list[str]) -> BacktestResult:
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "TRADER_DB": str(path)})
    spec = BacktestSpec(kind, params, START, START + SPAN_S * S, tuple(markets), seed=1, latency="zero")
    return run_sync(spec, path, settings, work_dir=tmp / f"bt-{len(list(tmp.glob('bt-*')))}")


def _sent(result: BacktestResult) -> list[tuple[float, str]]:
    """(seconds into the run, side in YES terms: a NO bought is YES sold) of each order."""
    return [((o["created_at"] - START) / S, yes_space(Outcome(o["outcome"]), Side(o["side"]), o["price"])[0].value)
            for o in result.orders]


def test_an_outside_value_is_traded_while_the_desk_held_it_and_not_after_it_expired(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    [market] = _desk(path)
    _post(path, market, "model", 0.70, at_s=30, ttl_s=40)  # held from 30 s to 70 s
    _post(path, market, "model", 0.30, at_s=90, ttl_s=3600)  # then the other way, from 90 s on
    result = _run(tmp_path, path, "value_betting", VB, [market])
    sent = _sent(result)
    buys, sells = [t for t, side in sent if side == "BUY"], [t for t, side in sent if side == "SELL"]
    assert buys and all(30 <= t < 70 for t in buys), buys  # YES under 0.70: bought while the desk held it
    assert sells and all(t >= 90 for t in sells), sells  # over 0.30: sold (then NO bought) once that came
    assert not [t for t, _ in sent if 70 <= t < 90], sent  # nothing in between: the first had expired
    history = result.history
    assert history["fair_values"].startswith("2 outside and poll fair value(s) from model replayed as the desk "
                                             "received them")
    assert history["fair_values_missing"] is False


def test_a_value_received_before_the_run_and_still_held_counts_and_one_after_it_does_not(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    [market] = _desk(path)
    _post(path, market, "model", 0.70, at_s=-600, ttl_s=640)  # received 10 minutes before, held until 40 s
    _post(path, market, "other", 0.70, at_s=SPAN_S + 10, ttl_s=3600)  # received after the run's end
    result = _run(tmp_path, path, "value_betting", VB, [market])
    assert result.orders and all((o["created_at"] - START) / S < 40 for o in result.orders)
    assert result.history["fair_values"].startswith("1 outside and poll fair value(s) from model replayed")


def test_a_run_no_history_covers_says_so_in_words_and_trades_nothing(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    [market, other] = _desk(path, markets=2)
    _post(path, other, "model", 0.70, at_s=-7200, ttl_s=3600)  # expired an hour before the run
    result = _run(tmp_path, path, "value_betting", VB, [market, other])
    assert result.orders == []
    words = result.history["fair_values"]
    assert words.startswith("no history of outside or poll fair values covers these markets in this span")
    assert "2 of 2 market(s) had no fair value at all: the strategy could not trade there" in words
    assert result.history["fair_values_missing"] is True
    # the operator's standing value is the one replayed then, said as such
    with sqlite3.connect(path) as conn:
        conn.execute("""INSERT INTO signals (condition_id, source, fair_value, version, updated_at, updated_by)
                        VALUES (?, 'operator', 700000, 1, 0, 't')""", (market,))
    again = _run(tmp_path, path, "value_betting", VB, [market, other])
    assert {o["condition_id"] for o in again.orders} == {market}
    assert "the operator's standing values as they stand today (1 of 2 market(s))" in again.history["fair_values"]
    assert "1 of 2 market(s) had no fair value at all" in again.history["fair_values"]


def test_an_ensembles_minimum_of_sources_is_judged_on_what_the_replay_held(tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    [market] = _desk(path)
    with sqlite3.connect(path) as conn:  # both sources judged well calibrated
        conn.executemany("INSERT INTO signal_sources (source, state, brier, markets, judged_at, reason) "
                         "VALUES (?, 'feeding', 100000, 20, 0, 't')", [("model",), ("poll",)])
    _post(path, market, "model", 0.70, at_s=10, ttl_s=100)
    _post(path, market, "poll", 0.72, at_s=60, ttl_s=30)  # both in force from 60 s to 90 s only
    result = _run(tmp_path, path, "ensemble", {"max_order": 10, "min_sources": 2}, [market])
    sent = [t for t, _ in _sent(result)]
    assert sent and all(60 <= t < 90 for t in sent), sent
    assert "at most 2 source(s) were in force at once in any market, its minimum 2 judged on those" in \
        result.history["fair_values"]
    alone = tmp_path / "alone.db"
    [market] = _desk(alone)
    _post(alone, market, "model", 0.70, at_s=10, ttl_s=100)
    single = _run(tmp_path, alone, "ensemble", {"max_order": 10, "min_sources": 2}, [market])
    assert single.orders == []
    assert "at most 1 source(s) were in force at once in any market, fewer than its minimum of 2: it could not " \
           "trade" in single.history["fair_values"]
    assert single.history["fair_values_missing"] is True

"""The PMXT archive's history read as it was, and hostile history refused: small files written in the
archive's two layouts (as its readers lay them out), real CLI processes, a real SQLite file.

- a tick size change is applied at its time, so a backtest quotes on the grid in force then;
- an empty side is no mid; two distinct prints in one millisecond stay two, one print read twice is one;
- a missing hour is found: the books are reset there and the session and the backtest say so;
- deeply nested JSON, decimals out of range and a span to 2^70 are refused in words, never a crash;
- a row group of another market is read in slices, never whole.
"""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from storage.research import recording_sessions as rs
from tests.helpers import run_cli
from tests.marketdata.test_pmxt_import import CID, NO, T0, YES, _at, _ticks, _v2_file, desk  # noqa: F401

D = Decimal
MS = int(T0.timestamp() * 1000)


def _row(s: float, event: str, asset: str = YES, **fields: Any) -> dict[str, Any]:
    base = {"timestamp_received": _at(s), "timestamp": _at(s), "market": CID.encode(), "event_type": event,
            "asset_id": asset, "bids": None, "asks": None, "price": None, "size": None, "side": None,
            "best_bid": None, "best_ask": None, "fee_rate_bps": None, "transaction_hash": None,
            "old_tick_size": None, "new_tick_size": None}
    return {**base, **fields}


def _import(env: dict[str, str], path: Path, markets: Path, *more: str) -> subprocess.CompletedProcess[str]:
    return run_cli(["import-history", "--pmxt", str(path), "--market", CID, "--markets-file", str(markets), *more],
                   env, timeout=120)


def test_a_backtest_quotes_on_the_tick_in_force_then_not_todays(desk: Any, tmp_path: Path) -> None:
    env, db, markets = desk  # today the market's tick is 0.001 (it has resolved since)
    rows = [_row(0, "book", bids='[["0.48", "100"]]', asks='[["0.52", "100"]]'),
            _row(0, "book", NO, bids='[["0.48", "100"]]', asks='[["0.52", "100"]]'),
            _row(30, "tick_size_change", old_tick_size=D("0.01"), new_tick_size=D("0.001")),
            _row(60, "price_change", price=D("0.496"), size=D("5"), side="BUY")]  # on the new grid
    rows += [_row(s, "price_change", asset, price=D("0.3"), size=D(s % 7 + 1), side="BUY")
             for s in range(1, 120, 2) for asset in (YES, NO)]  # a lively book far from the touch: fresh data
    done = _import(env, _v2_file(tmp_path / "polymarket_orderbook_2026-04-17T12.parquet", rows), markets,
                   "--name", "tick hour")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["tick_size_changes"] == 1
    run = run_cli(["backtest", "--session", "tick hour", "--strategy", "market_making", "--params",
                   '{"half_spread": 0.015}', "--latency", "zero"], env, timeout=120)
    assert run.returncode == 0, run.stderr
    with db.read() as conn:
        orders = json.loads(conn.exec_driver_sql("SELECT orders FROM strategy_runs").scalar_one())
    before = {o["price"] for o in orders if o["created_at"] < MS + 30_000}
    after = {o["price"] for o in orders if o["created_at"] >= MS + 30_000}
    assert before and all(p % 10_000 == 0 for p in before), before  # 0.48 / 0.52 on that half hour's 0.01 grid
    assert any(p % 10_000 for p in after), orders  # from the change on, the 0.001 grid
    assert json.loads(run.stdout)["history"]["tick_changes"] == 1


def test_hours_that_traded_on_0_01_replay_on_it_when_the_change_came_after_their_last_row(desk: Any,
                                                                                          tmp_path: Path) -> None:
    """The hour traded on 0.01 and its tick went to 0.001 (today's) only after its last book row: the
    change says what the tick was until then, so the session keeps 0.01 as in force from its start."""
    env, db, markets = desk
    rows = [_row(0, "book", bids='[["0.48", "100"]]', asks='[["0.52", "100"]]'),
            _row(0, "book", NO, bids='[["0.48", "100"]]', asks='[["0.52", "100"]]')]
    rows += [_row(s, "price_change", asset, price=D("0.3"), size=D(s % 7 + 1), side="BUY")
             for s in range(1, 120, 2) for asset in (YES, NO)]
    rows += [_row(3599, "tick_size_change", asset, old_tick_size=D("0.01"), new_tick_size=D("0.001"))
             for asset in (YES, NO)]  # after every other row of the hour
    done = _import(env, _v2_file(tmp_path / "polymarket_orderbook_2026-04-17T12.parquet", rows), markets,
                   "--name", "coarse hour")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["tick_size_changes"] == 2
    with db.read() as conn:
        kept = [tuple(r) for r in conn.exec_driver_sql("SELECT token_id, at, old_tick, tick FROM tick_sizes "
                                                       "ORDER BY token_id")]
    assert sorted(kept) == sorted([(YES, MS, None, 10_000), (NO, MS, None, 10_000)])  # in force from the start
    run = run_cli(["backtest", "--session", "coarse hour", "--strategy", "market_making", "--params",
                   '{"half_spread": 0.015}', "--latency", "zero"], env, timeout=120)
    assert run.returncode == 0, run.stderr
    with db.read() as conn:
        orders = json.loads(conn.exec_driver_sql("SELECT orders FROM strategy_runs").scalar_one())
    prices = {o["price"] for o in orders}
    assert prices and all(p % 10_000 == 0 for p in prices), prices  # on that hour's grid, not today's 0.001


def test_empty_sides_give_no_mid_and_prints_keep_their_identity(desk: Any, tmp_path: Path) -> None:
    env, db, markets = desk
    tx_a, tx_b = "0x" + "aa" * 32, "0x" + "bb" * 32
    rows = [_row(0, "book", bids="[]", asks='[["0.52", "100"]]'),
            _row(1, "price_change", price=D("0.40"), size=D("5"), side="BUY", best_bid=D("0.40"),
                 best_ask=D("1")),  # the archive's "no ask"
            _row(1.5, "price_change", price=D("0.40"), size=D("0"), side="BUY", best_bid=D("0"),
                 best_ask=D("0.52")),  # and its "no bid"
            _row(2, "last_trade_price", price=D("0.52"), size=D("5"), side="BUY", transaction_hash=tx_a,
                 fee_rate_bps=0),
            _row(2, "last_trade_price", price=D("0.52"), size=D("5"), side="BUY", transaction_hash=tx_b,
                 fee_rate_bps=0),  # another print, same millisecond, price and size
            _row(2.2, "last_trade_price", price=D("0.52"), size=D("5"), side="BUY", transaction_hash=tx_a,
                 fee_rate_bps=0, timestamp=_at(2))]  # the first one received again
    done = _import(env, _v2_file(tmp_path / "hour.parquet", rows), markets)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["left_out"] == {
        "a print read twice (the same transaction, token, time, side, price and size)": 1}
    ticks = _ticks(db)
    assert [t[6] for t in ticks if t[2] == "change"] == [None, None]  # never (0.40 + 1) / 2
    assert sorted(json.loads(t[7])["tx"] for t in ticks if t[2] == "trade") == [tx_a, tx_b]


def test_a_missing_hour_resets_the_books_and_is_stated(desk: Any, tmp_path: Path) -> None:
    env, db, markets = desk
    folder = tmp_path / "archive"
    folder.mkdir()
    book = {"bids": '[["0.48", "100"]]', "asks": '[["0.52", "100"]]'}
    _v2_file(folder / "polymarket_orderbook_2026-04-17T12.parquet", [_row(0, "book", **book)])
    _v2_file(folder / "polymarket_orderbook_2026-04-17T14.parquet", [
        _row(7200, "price_change", price=D("0.47"), size=D("5"), side="BUY"),  # before the snapshot after the gap
        _row(7260, "book", **book)])
    done = _import(env, folder, markets, "--name", "gappy")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["gaps"] == [[MS + 3_600_000, MS + 7_200_000 - 1]]
    assert "note" not in report  # the first hour had its snapshot: nothing before it to ask for
    assert report["left_out"] == {"a change after missing hours, before its token's next book snapshot": 1}
    assert [(t[0], t[2], t[7]) for t in _ticks(db)] == [
        (MS, "book", '{"b":[[480000,100000000]],"a":[[520000,100000000]]}'),
        (MS + 3_600_000, "book", '{"b":[],"a":[]}'),  # the book nobody saw for an hour is empty, not stale
        (MS + 7_260_000, "book", '{"b":[[480000,100000000]],"a":[[520000,100000000]]}')]
    assert "missing (books reset): 2026-04-17 13:00 to 2026-04-17 13:59" in rs.get_session(db, "gappy").notes
    report = tmp_path / "gappy.html"
    run = run_cli(["backtest", "--session", "gappy", "--strategy", "market_making", "--capital", "500",
                   "--report", str(report)], env, timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["start_equity"] == 500  # the run's own capital, not the desk's 10,000
    page = report.read_text()
    assert "History replayed" in page and "no trade prints: book only" in page
    assert "Missing data (books reset there): 2026-04-17 13:00 to 2026-04-17 13:59" in page
    assert "data for 2026-04-17 12:00 to 2026-04-17 12:59, 2026-04-17 14:00 to 2026-04-17 14:01" in page  # split
    assert "Daily returns" in page and "Fri Apr 17" in page  # each UTC day's return, in the report
    history = json.loads(run.stdout)["history"]
    assert history["gaps"] == [[MS + 3_600_000, MS + 7_200_000 - 1]]
    assert history["sessions"][0]["prints"] == "none" and history["sessions"][0]["layouts"] == ["v2"]


def test_an_hour_without_its_snapshot_asks_for_the_hour_before_in_words(desk: Any, tmp_path: Path) -> None:
    env, db, markets = desk
    hour = _v2_file(tmp_path / "polymarket_orderbook_2026-04-17T12.parquet",
                    [_row(1, "price_change", price=D("0.47"), size=D("5"), side="BUY")])
    refused = _import(env, hour, markets)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert "include the hour before (polymarket_orderbook_2026-04-17T11.parquet)" in refused.stderr
    assert _ticks(db) == []
    late = _v2_file(tmp_path / "polymarket_orderbook_2026-04-17T13.parquet", [
        _row(3601, "price_change", price=D("0.47"), size=D("5"), side="BUY"),  # before the hour's snapshot
        _row(3660, "book", bids='[["0.48", "100"]]', asks='[["0.52", "100"]]')])
    done = _import(env, late, markets)
    assert done.returncode == 0, done.stderr
    assert "include the hour before (polymarket_orderbook_2026-04-17T12.parquet)" in json.loads(done.stdout)["note"]


YEAR_10000 = 253_402_300_800_000  # ms: past Python's last date
BEFORE_YEAR_1 = -62_135_596_800_001  # ms: 1 ms before Python's first


def _v1_hostile(path: Path) -> Path:
    deep = "[" * 200_000 + "]" * 200_000

    def row(s: float | int, kind: str, data: str) -> dict[str, Any]:
        at = s if isinstance(s, int) else _at(s)  # an int: a time as the file's ms, past what a date holds
        return {"timestamp_received": at, "timestamp_created_at": at, "market_id": CID, "update_type": kind,
                "data": data}
    good = json.dumps({"token_id": YES, "bids": [{"price": "0.40", "size": "10"}], "asks": []})
    change = json.dumps({"token_id": YES, "change_price": "0.41", "change_side": "BUY", "change_size": "2"})
    rows = [row(0, "book_snapshot", good), row(YEAR_10000, "price_change", change),
            row(BEFORE_YEAR_1, "price_change", change),
            row(1, "book_snapshot", f'{{"token_id": "{YES}", "bids": {deep}, "asks": []}}'),
            row(2, "price_change", deep),
            row(3, "price_change", json.dumps({"token_id": YES, "change_price": "0.41", "change_side": "BUY",
                                               "change_size": "1e999999999"})),
            row(4, "price_change", json.dumps({"token_id": YES, "change_price": "0.41", "change_side": "BUY",
                                               "change_size": "7"}))]
    schema = pa.schema([("timestamp_received", pa.timestamp("ms", tz="UTC")),
                        ("timestamp_created_at", pa.timestamp("ms", tz="UTC")), ("market_id", pa.string()),
                        ("update_type", pa.string()), ("data", pa.string())])
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


def test_hostile_history_is_counted_and_left_out_never_a_crash(desk: Any, tmp_path: Path) -> None:
    env, db, markets = desk
    v2_deep = _row(10.5, "book", bids="[" * 200_000 + "]" * 200_000, asks="[]")
    v2_big = _row(10.7, "price_change", price=D("5"), size=D("1"), side="BUY")  # a price of 5
    v2_times = [_row(10.8, "price_change", price=D("0.41"), size=D("1"), side="BUY", timestamp_received=at,
                     timestamp=at) for at in (YEAR_10000, BEFORE_YEAR_1)]  # times no date can hold
    v2_print = _row(10.9, "last_trade_price", price=D("0.4"), size=D("1"), side="SELL", timestamp=YEAR_10000,
                    transaction_hash="0x" + "cd" * 32)  # received in time, its venue time not: kept
    v2 = _v2_file(tmp_path / "b.parquet", [_row(10, "book", bids='[["0.4", "1"]]', asks="[]"), v2_deep, v2_big,
                                           *v2_times, v2_print])
    for path, kept in ((_v1_hostile(tmp_path / "a.parquet"), 2), (v2, 2)):
        done = _import(env, path, markets, "--name", path.stem)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
        left_out = json.loads(done.stdout)["left_out"]
        assert left_out["JSON too large or nested too deeply to be the archive's"] == (1 if path == v2 else 2)
        assert any(why.startswith("a number out of range") for why in left_out), left_out
        assert left_out["a receive time outside 1970 to 2100 (not the archive's)"] == 2, left_out  # by name, counted
        assert json.loads(done.stdout)["ticks"] == kept


def test_a_session_whose_span_runs_to_2_70_is_refused_in_words(desk: Any, tmp_path: Path) -> None:
    env, db, _ = desk
    header = {"format": "polymarket-desk-recording-session", "version": 1,
              "session": {"name": "far", "notes": "", "started_at": 0, "stopped_at": 2**70, "markets": []},
              "markets": []}
    path = tmp_path / "far.jsonl"
    path.write_text(json.dumps(header) + "\n")
    refused = run_cli(["session", "import", str(path)], env)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr, refused.stderr
    assert "past the year 2100" in refused.stderr and rs.sessions(db) == []


READ_IN_SLICES = """
import sys
import pyarrow as pa
from pathlib import Path
from engine.venues.polymarket.pmxt import PmxtReport, read_ticks
from engine.venues.polymarket.pmxt_rows import RowState
state = RowState({sys.argv[2]: sys.argv[3]})
ticks = sum(1 for _ in read_ticks([Path(sys.argv[1])], state, PmxtReport()))
print(ticks, pa.default_memory_pool().max_memory())
"""


def test_a_row_group_of_another_market_is_read_in_slices(tmp_path: Path) -> None:
    """One row group of 200,000 rows of another market (~1 kB of JSON each), the asked market's rows
    at its end: the reader's Arrow memory stays near one slice's, not the group's ~200 MB."""
    other, mine, rows = "0x" + "11" * 32, "0x" + "ff" * 32, 200_000
    pad = "x" * 1_000
    data = pa.array([f'{{"token_id": "1", "pad": "{pad}{i}"}}' for i in range(rows)])
    at = pa.array([T0] * rows, pa.timestamp("us", tz="UTC"))
    ids = pa.array([other] * (rows - 10) + [mine] * 10)
    table = pa.table({"timestamp_received": at, "timestamp_created_at": at, "market_id": ids,
                      "update_type": pa.array(["price_change"] * rows), "data": data})
    path = tmp_path / "hour.parquet"
    pq.write_table(table, path, row_group_size=rows)
    del table, data
    done = subprocess.run([sys.executable, "-c", READ_IN_SLICES, str(path), "1", mine], capture_output=True,
                          text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    _, peak = done.stdout.split()
    assert int(peak) < 60 * 2**20, f"{int(peak) / 2**20:.0f} MiB of Arrow memory for 10 rows"

"""Where a recording learns how its markets ended (storage/research/market_resolutions.py): the recorder keeps what
the feed tells (a winner, a 50/50 whose payouts the venue is asked later, Kalshi's void or value), the first word
staying; a session file carries its markets' ends to another desk, which takes them only for the markets the file
brings; and the trader gives an end by hand or from a file (`python -m engine resolutions set`), which a backtest
then settles at. Real SQLite files, the real recorder, real CLI processes."""

from __future__ import annotations

import asyncio
import gzip
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest

from contracts.domain import MarketInfo
from engine.feeds.books import BookCache
from engine.feeds.catalog import MarketCatalog
from engine.feeds.market_data_events import MarketResolved, MarketVoided
from engine.marketdata.recorder import Recorder
from storage.research import recording_sessions as rs
from storage.research.recording_sessions import SessionError
from storage.research.session_files import export_session, import_session
from storage.sqlite.db import Database
from storage.sqlite.migrations import migrate
from tests.helpers import isolated_env, run_cli

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _recording import write_recording  # noqa: E402

ENDS = "SELECT condition_id, at, outcome, yes_pays, source FROM market_resolutions ORDER BY condition_id"


def _rows(path: Path, sql: str, *params: Any) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return [tuple(r) for r in conn.execute(sql, params)]


def test_the_recorder_keeps_each_markets_end_as_the_feed_tells_it(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    migrate(path)
    books = BookCache()
    catalog = MarketCatalog([MarketInfo(condition_id=f"0x{i}", question="q", yes_token=f"Y{i}", no_token=f"N{i}",
                                        tick=10_000, min_size=1) for i in range(4)])
    recorder = Recorder(path, books, catalog)
    books.add_listener(recorder.on_market_event)
    books.publish(MarketResolved("0x0", "N0", 1_000))  # NO won
    books.publish(MarketResolved("0x1", None, 2_000))  # no single winner: its payouts are asked of the venue later
    books.publish(MarketVoided("kalshi:A-1", 3_000))  # Kalshi's void: paid back at cost
    books.publish(MarketVoided("kalshi:B-1", 4_000, 300_000))  # settled at a value
    books.publish(MarketResolved("0x2", "ELSEWHERE", 5_000))  # a token not its market's: nothing known
    books.publish(MarketResolved("0x0", "Y0", 6_000))  # told again: the first word stays
    asyncio.run(recorder.flush())
    assert _rows(path, ENDS) == [("0x0", 1_000, "no", None, "feed"), ("0x1", 2_000, "value", None, "feed"),
                                 ("kalshi:A-1", 3_000, "void", None, "feed"),
                                 ("kalshi:B-1", 4_000, "value", 300_000, "feed")]
    assert _rows(path, "SELECT COUNT(*) FROM ticks") == [(0,)]  # an end is no tick


def test_a_session_file_carries_its_markets_ends_to_the_markets_it_brings(tmp_path: Path) -> None:
    path_a, path_b = tmp_path / "a.db", tmp_path / "b.db"
    cids, start, end = write_recording(path_a, markets=3, events=600)
    with sqlite3.connect(path_a) as conn:
        conn.execute("INSERT INTO market_resolutions VALUES (?, ?, 'yes', NULL, 'feed', 0, 'recorder')",
                     (cids[0], end - 10))
        conn.execute("INSERT INTO market_resolutions VALUES (?, ?, 'value', 500000, 'gamma', 0, 'import')",
                     (cids[1], end + 10))
        conn.execute("INSERT INTO market_resolutions VALUES (?, ?, 'no', NULL, 'feed', 0, 'recorder')",
                     (cids[2], end))  # a market the session does not cover
    db_a = Database(path_a)
    rs.start_session(db_a, name="two", markets=cids[:2], notes="", actor="test", now=start)
    rs.stop_session(db_a, name="two", actor="test", now=end)
    export = tmp_path / "two.jsonl.gz"
    export_session(db_a, "two", export)
    with gzip.open(export, "rt") as lines:
        header = json.loads(lines.readline())
    assert [r["market"] for r in header["resolutions"]] == cids[:2]
    # The desk importing it knows the second market, with an end of its own: that one stays.
    migrate(path_b)
    with sqlite3.connect(path_a) as source, sqlite3.connect(path_b) as target:
        row = source.execute("SELECT * FROM markets WHERE condition_id = ?", (cids[1],)).fetchone()
        target.execute(f"INSERT INTO markets VALUES ({','.join('?' * len(row))})", row)
        target.execute("INSERT INTO market_resolutions VALUES (?, 1, 'no', NULL, 'feed', 0, 'recorder')", (cids[1],))
    import_session(Database(path_b), export, actor="test")
    assert _rows(path_b, ENDS) == [(cids[0], end - 10, "yes", None, "feed"), (cids[1], 1, "no", None, "feed")]


@pytest.mark.parametrize(("ends", "why"), [
    ([{"market": "0x" + "ab" * 32, "at": 1, "outcome": "yes", "yes_pays": None, "source": "feed"}], "its markets"),
    ([{"market": None, "at": 1, "outcome": "maybe", "yes_pays": None, "source": "feed"}], "its markets"),
    (["yes"], "is not {market"),
])
def test_a_session_files_ends_are_checked_before_anything_is_written(tmp_path: Path, ends: list[Any],
                                                                     why: str) -> None:
    path_a, path_b = tmp_path / "a.db", tmp_path / "b.db"
    cids, start, end = write_recording(path_a, markets=1, events=200)
    db_a = Database(path_a)
    rs.start_session(db_a, name="one", markets=cids, notes="", actor="test", now=start)
    rs.stop_session(db_a, name="one", actor="test", now=end)
    export = tmp_path / "one.jsonl"
    export_session(db_a, "one", export)
    lines = export.read_text().splitlines()
    header = json.loads(lines[0])
    header["resolutions"] = ends
    hostile = tmp_path / "hostile.jsonl"
    hostile.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    migrate(path_b)
    with pytest.raises(SessionError, match=why):
        import_session(Database(path_b), hostile, actor="test")
    assert _rows(path_b, "SELECT COUNT(*) FROM ticks") == [(0,)] and _rows(path_b, ENDS) == []


def test_the_trader_gives_a_markets_end_and_a_backtest_settles_there(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    path = Path(env["TRADER_DB"])
    cids, start, end = write_recording(path, markets=2, events=3_000)
    half = start + (end - start) // 2

    def cli(*args: str) -> Any:
        done = run_cli(list(args), env, timeout=120)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    set_one = cli("resolutions", "set", cids[0], "no", "--at", str(half))
    assert set_one["set"][0]["market"] == cids[0] and set_one["replaced"] == []
    sheet = tmp_path / "ends.csv"
    sheet.write_text(f"market,outcome,at\n# the 50/50 one\n{cids[1]},0.5,{half + 1}\n{cids[0]},yes,{half}\n")
    again = cli("resolutions", "set", "--file", str(sheet))
    assert [r["before"]["outcome"] for r in again["replaced"]] == ["no"]  # the trader's word replaces, audited
    assert _rows(path, ENDS) == [(cids[0], half, "yes", None, "trader"),
                                 (cids[1], half + 1, "value", 500_000, "trader")]
    assert _rows(path, "SELECT COUNT(*) FROM audit_log WHERE action = 'resolution.set'") == [(3,)]
    assert {r["market"] for r in cli("resolutions", "list")} == set(cids)
    for args, why in [(["resolutions", "set", cids[0], "void", "--at", str(half)], "voids no market"),
                      (["resolutions", "set", "0x" + "cd" * 32, "yes", "--at", str(half)], "not markets this desk"),
                      (["resolutions", "set", cids[0], "maybe", "--at", str(half)], "not an outcome"),
                      (["resolutions", "set", cids[0], "1.5", "--at", str(half)], "between 0 and 1"),
                      (["resolutions", "set", cids[0], "yes"], "--at"),
                      (["resolutions", "set", "--file", str(tmp_path / "none.csv")], "no file")]:
        refused = run_cli(args, env)
        assert refused.returncode == 1 and why in refused.stderr and "Traceback" not in refused.stderr, args
    params = json.dumps({"size": 20, "half_spread": 0.01, "refresh_threshold": 0.0, "max_spread": 0.5})
    ran = cli("backtest", "--strategy", "market_making", "--params", params, "--from", str(start), "--to", str(end),
              "--markets", ",".join(cids))
    ended = ran["history"]["resolutions"]
    assert [(r["market"], r["outcome"], r["source"]) for r in ended["settled"]] == [
        (cids[0], "YES", "trader"), (cids[1], "a YES paid 0.5", "trader")]
    short = cli("backtest", "--strategy", "market_making", "--params", params, "--from", str(start), "--to",
                str(half - 1), "--markets", ",".join(cids))
    assert short["history"]["resolutions"]["settled"] == []
    assert all("after the run's end" in h["known"] for h in short["history"]["resolutions"]["open"])

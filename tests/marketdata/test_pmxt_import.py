"""`python -m engine import-history --pmxt`: small Parquet files written in the PMXT archive's two
layouts become a named session of this desk's recording, in time order, the asked market only;
rows that cannot be read are counted by reason, never guessed; a file that is not the archive,
or a market nobody knows, imports nothing. Real CLI processes, a real SQLite file, metadata from a
file of Gamma objects or from the simulator's Gamma."""

from __future__ import annotations

import json
import shutil
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine.venues.polymarket.pmxt import PmxtError
from simulator.testing import running_simulator
from storage.research import recording_sessions as rs
from storage.sqlite.db import Database
from tests.helpers import isolated_env, run_cli, wait_until

GAMMA = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "polymarket" / "captured"
                    / "gamma_market_closed_binary_accepting_false.json").read_text())  # as archives' markets are
CID = GAMMA["conditionId"]
YES, NO = json.loads(GAMMA["clobTokenIds"])
OTHER = "0x" + "ee" * 32
T0 = datetime(2026, 4, 17, 12, tzinfo=UTC)


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _v2_rows() -> list[dict[str, Any]]:
    """As the archive sorts them: by market, then token, then time (NO's rows come after YES's
    although they happened between them)."""
    def row(s: float, market: str, event: str, asset: str, **fields: Any) -> dict[str, Any]:
        base = {"timestamp_received": _at(s), "timestamp": _at(s - 0.1), "market": market.encode(),
                "event_type": event, "asset_id": asset, "bids": None, "asks": None, "price": None, "size": None,
                "side": None, "best_bid": None, "best_ask": None, "fee_rate_bps": None, "transaction_hash": None,
                "old_tick_size": None, "new_tick_size": None}
        return {**base, **fields}
    d = Decimal
    return [
        row(0, CID, "book", YES, bids='[["0.48", "100"], ["0.47", "50"]]', asks='[["0.52", "80"]]'),
        row(1, CID, "price_change", YES, price=d("0.49"), size=d("20"), side="BUY", best_bid=d("0.49"),
            best_ask=d("0.52")),
        row(3, CID, "last_trade_price", YES, price=d("0.52"), size=d("5"), side="BUY", fee_rate_bps=30,
            transaction_hash="0x" + "ab" * 32),
        row(4, CID, "price_change", YES, price=d("0.4905"), size=d("1"), side="BUY"),  # on the finest grid: kept
        row(5, CID, "tick_size_change", YES, old_tick_size=d("0.01"), new_tick_size=d("0.001")),
        row(0.5, CID, "price_change", NO, price=d("0.5"), size=d("3"), side="SELL"),  # before NO's first book
        row(2, CID, "book", NO, bids='[["0.48", "80"]]', asks='[["0.51", "100"]]'),
        row(2.5, CID, "price_change", NO, price=d("0.51"), size=d("0"), side="SELL"),
        row(2.7, CID, "price_change", OTHER[:10] + "x", price=d("0.5"), size=d("1"), side="BUY"),  # a stray token
        row(1.5, OTHER, "book", "123", bids='[["0.1", "1"]]', asks="[]"),  # another market: filtered out
    ]


def _v2_file(path: Path, rows: list[dict[str, Any]], row_group_size: int = 4) -> Path:
    schema = pa.schema([
        ("timestamp_received", pa.timestamp("ms", tz="UTC")), ("timestamp", pa.timestamp("ms", tz="UTC")),
        ("market", pa.binary(66)), ("event_type", pa.string()), ("asset_id", pa.string()),
        ("bids", pa.string()), ("asks", pa.string()), ("price", pa.decimal128(9, 4)),
        ("size", pa.decimal128(18, 6)), ("side", pa.string()), ("best_bid", pa.decimal128(9, 4)),
        ("best_ask", pa.decimal128(9, 4)), ("fee_rate_bps", pa.uint16()), ("transaction_hash", pa.string()),
        ("old_tick_size", pa.decimal128(9, 4)), ("new_tick_size", pa.decimal128(9, 4))])
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path, row_group_size=row_group_size)
    return path


def _v1_file(path: Path, hour: int) -> Path:
    def row(s: float, kind: str, **data: Any) -> dict[str, Any]:
        at = _at(hour * 3600 + s)
        return {"timestamp_received": at, "timestamp_created_at": at, "market_id": CID, "update_type": kind,
                "data": json.dumps({"update_type": kind, "market_id": CID, **data})}
    rows = [row(0, "book_snapshot", token_id=YES, side="YES", bids=[{"price": "0.40", "size": "10"}],
                asks=[{"price": "0.44", "size": "12"}]),
            row(1, "price_change", token_id=YES, side="YES", best_bid="0.41", best_ask="0.44",
                change_price="0.41", change_size="7", change_side="BUY", timestamp=0),
            row(2, "price_change", token_id=YES, side="YES", change_price="0.4123456", change_size="7",
                change_side="BUY"),  # off the grid
            {"timestamp_received": _at(hour * 3600 + 3), "timestamp_created_at": _at(0), "market_id": CID,
             "update_type": "price_change", "data": "{not json"}]
    schema = pa.schema([("timestamp_received", pa.timestamp("us", tz="UTC")),
                        ("timestamp_created_at", pa.timestamp("us", tz="UTC")), ("market_id", pa.string()),
                        ("update_type", pa.string()), ("data", pa.string())])
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


_INITIALISED: list[Path] = []  # the folder of a desk `python -m engine init` made, once per test process


def _initialised_desk(factory: pytest.TempPathFactory) -> Path:
    if not _INITIALISED:
        home = factory.mktemp("initialised-desk")
        assert run_cli(["init"], isolated_env(home)).returncode == 0
        _INITIALISED.append(home)
    return _INITIALISED[0]


@pytest.fixture
def desk(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Database, Path]:
    """A desk as `python -m engine init` leaves it, in this test's folder: the files of one real
    `init` (a second and a half of CPU a run), the database copied through SQLite's backup API."""
    env = isolated_env(tmp_path)
    home = _initialised_desk(tmp_path_factory)
    for name in sorted(p.name for p in home.iterdir() if not p.name.endswith(("-wal", "-shm"))):
        if name == "trader.db":
            with closing(sqlite3.connect(home / name)) as source, closing(sqlite3.connect(env["TRADER_DB"])) as copy:
                source.backup(copy)
        else:
            shutil.copy2(home / name, tmp_path / name)  # its .env (mode 600) and the lock file
    markets = tmp_path / "gamma.json"
    markets.write_text(json.dumps([GAMMA]))
    return env, Database(Path(env["TRADER_DB"])), markets


def _ticks(db: Database) -> list[tuple[Any, ...]]:
    with db.read() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(
            "SELECT at, token_id, kind, side, price, size, mid, data FROM ticks ORDER BY id")]


def test_a_v2_hour_imports_its_market_in_time_order_and_counts_what_it_left_out(desk: Any, tmp_path: Path) -> None:
    env, db, markets = desk
    hour = _v2_file(tmp_path / "polymarket_orderbook_2026-04-17T12.parquet", _v2_rows())
    done = run_cli(["import-history", "--pmxt", str(hour), "--market", CID, "--markets-file", str(markets),
                    "--name", "btc hour"], env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["session"] == "btc hour" and report["markets"] == [CID] and report["ticks"] == 6
    assert report["fees_unknown"] == [CID]  # a file of Gamma objects holds no fees: said, never assumed
    assert report["rows"] == 9 and report["left_out"] == {
        "a change before its token's first book snapshot": 1,
        "a token that is not one of its market's": 1}
    assert report["tick_size_changes"] == 1 and report["layouts"] == ["v2"]
    # How the market ended, as Gamma's record of it says (NO won, closed 2026-03-19 23:20:15): kept for backtests.
    assert report["resolutions"] == {CID: "NO at 2026-03-19 23:20 UTC (Gamma)"}
    with db.read() as conn:
        ended = conn.exec_driver_sql("SELECT at, outcome, yes_pays, source FROM market_resolutions "
                                     "WHERE condition_id = ?", (CID,)).one()
    assert tuple(ended) == (int(datetime(2026, 3, 19, 23, 20, 15, tzinfo=UTC).timestamp() * 1000), "no", None, "gamma")
    ms = int(T0.timestamp() * 1000)
    assert _ticks(db) == [  # by time across both tokens, as a replay needs them
        (ms, YES, "book", None, None, None, None,
         '{"b":[[480000,100000000],[470000,50000000]],"a":[[520000,80000000]]}'),
        (ms + 1000, YES, "change", "BUY", 490000, 20000000, 505000, None),
        (ms + 2000, NO, "book", None, None, None, None, '{"b":[[480000,80000000]],"a":[[510000,100000000]]}'),
        (ms + 2500, NO, "change", "SELL", 510000, 0, None, None),
        (ms + 3000, YES, "trade", "BUY", 520000, 5000000, None, '{"tx":"0x' + "ab" * 32 + '","fee_bps":30}'),
        (ms + 4000, YES, "change", "BUY", 490500, 1000000, None, None)]
    session = rs.get_session(db, "btc hour")
    assert (session.markets, session.started_at, session.stopped_at, session.origin) == \
        ((CID,), ms, ms + 4000, "imported")
    assert "PMXT archive" in session.notes and "left out" in session.notes
    with db.read() as conn:
        question, tick, origin = conn.exec_driver_sql(
            "SELECT question, tick, origin FROM markets WHERE condition_id = ?", (CID,)).one()
    assert (question, tick, origin) == (GAMMA["question"], 1_000, "imported")
    backtest = run_cli(["backtest", "--session", "btc hour", "--strategy", "market_making"], env, timeout=120)
    assert backtest.returncode == 0, backtest.stderr  # the imported books replay through the live core
    assert json.loads(backtest.stdout)["orders"] > 0  # the market has closed since: it is replayed as it traded


def test_a_folder_of_v1_hours_imports_as_one_session(desk: Any, tmp_path: Path) -> None:
    env, db, markets = desk
    folder = tmp_path / "archive"
    folder.mkdir()
    for hour in (0, 1):
        _v1_file(folder / f"polymarket_orderbook_2026-04-17T{12 + hour}.parquet", hour)
    done = run_cli(["import-history", "--pmxt", str(folder), "--market", CID, "--markets-file", str(markets)], env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["files"] == 2 and report["ticks"] == 4 and report["session"] == "pmxt 2026-04-17 12:00"
    assert report["left_out"] == {
        "a change that is not side BUY/SELL, a price on the grid and a size of 0 or more": 2,
        "data that is not a JSON object": 2}
    kinds = [(t[1], t[2], t[4]) for t in _ticks(db)]
    assert kinds == [(YES, "book", None), (YES, "change", 410000)] * 2
    assert "pmxt: " in done.stderr  # progress while reading


def test_what_is_not_the_archive_or_not_a_known_market_imports_nothing(desk: Any, tmp_path: Path) -> None:
    env, db, markets = desk
    stranger = tmp_path / "other.parquet"
    pq.write_table(pa.table({"a": [1, 2]}), stranger)
    hour = _v2_file(tmp_path / "hour.parquet", _v2_rows())
    cut = tmp_path / "cut.parquet"  # a download that stopped half-way
    cut.write_bytes(hour.read_bytes()[: hour.stat().st_size // 2])
    cases = [
        (["--pmxt", str(cut), "--market", CID, "--markets-file", str(markets)], "not a Parquet file"),
        (["--pmxt", str(stranger), "--market", CID, "--markets-file", str(markets)], "not a PMXT archive file"),
        (["--pmxt", str(tmp_path / "missing"), "--market", CID, "--markets-file", str(markets)], "no file or folder"),
        (["--pmxt", str(hour), "--market", OTHER, "--markets-file", str(markets)], "does not know it"),
        (["--pmxt", str(hour), "--market", "btc"], "condition ids"),
        (["--pmxt", str(hour), "--market", CID, "--from", "2026-04-17"], "drop --from"),
    ]
    for args, said in cases:
        refused = run_cli(["import-history", *args], env)
        assert refused.returncode != 0 and said in refused.stderr and "Traceback" not in refused.stderr, \
            (args, refused.stderr)
    assert _ticks(db) == [] and rs.sessions(db) == []


def test_metadata_comes_from_gamma_at_import_time(tmp_path: Path) -> None:
    with running_simulator() as sim:
        market = sim.market(neg_risk=False)
        cid, yes = market["condition_id"], market["yes_token_id"]
        env = isolated_env(tmp_path, SIMULATOR_PORT=str(sim.port))
        assert run_cli(["init"], env).returncode == 0
        rows = [{**r, "market": cid.encode(), "asset_id": yes} for r in _v2_rows()[:2]]
        hour = _v2_file(tmp_path / "hour.parquet", rows)
        done = run_cli(["import-history", "--pmxt", str(hour), "--market", cid], env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ticks"] == 2 and json.loads(done.stdout)["fees_unknown"] == []
    # Open on Gamma: no end is known, and the import says how to give one.
    assert "resolutions set" in json.loads(done.stdout)["resolutions"][cid]
    db = Database(Path(env["TRADER_DB"]))
    with db.read() as conn:
        question, rate, fees_at = conn.exec_driver_sql(
            "SELECT question, fee_rate_ppm, fees_at FROM markets WHERE condition_id = ?", (cid,)).one()
    assert question == market["question"] and fees_at is not None  # the CLOB's fees, read at import
    assert rate == int(float(market["fee_rate"]) * 1_000_000)


def test_public_trades_from_a_file_replay_beside_books_that_have_none(desk: Any, tmp_path: Path) -> None:
    env, db, markets = desk
    hour = _v1_file(tmp_path / "hour.parquet", 0)
    second = int(T0.timestamp())
    trades = tmp_path / "trades.json"
    trades.write_text(json.dumps([
        {"asset": YES, "conditionId": CID, "side": "SELL", "price": 0.41, "size": 12.5, "timestamp": second + 1},
        {"asset": YES, "conditionId": CID, "side": "BUY", "price": 0.44, "size": 3, "timestamp": second + 99},
        {"asset": NO, "conditionId": OTHER, "side": "BUY", "price": 0.5, "size": 1, "timestamp": second + 1},
        {"asset": YES, "conditionId": CID, "side": "BUY", "price": 1, "size": 1, "timestamp": second + 1}]))
    done = run_cli(["import-history", "--pmxt", str(hour), "--market", CID, "--markets-file", str(markets),
                    "--trades", str(trades)], env)
    assert done.returncode == 0, done.stderr
    left_out = json.loads(done.stdout)["left_out"]
    assert left_out["a trade outside the archive files' span"] == 1  # the books end 1 s in
    assert left_out["a token that is not one of its market's"] == 1
    assert left_out["a trade that is not side BUY/SELL, a price inside (0, 1) on the grid and a size above 0"] == 1
    ms = second * 1000
    assert [(t[0], t[2], t[3], t[4], t[5]) for t in _ticks(db)] == [
        (ms, "book", None, None, None), (ms + 1000, "change", "BUY", 410000, 7000000),
        (ms + 1000, "trade", "SELL", 410000, 12500000)]  # its second's start, after the change read first


def _now_rows(cid: str, yes: str, start: datetime) -> list[dict[str, Any]]:
    """A book a minute before the trades and a change a minute after: the files' span holds them."""
    rows = [{**r, "market": cid.encode(), "asset_id": yes} for r in _v2_rows()[:2]]
    rows[0].update(timestamp_received=start - timedelta(seconds=60), timestamp=start - timedelta(seconds=60))
    rows[1].update(timestamp_received=start + timedelta(seconds=60), timestamp=start + timedelta(seconds=60))
    return rows


def test_public_trades_are_fetched_from_the_data_api_for_the_files_span(tmp_path: Path) -> None:
    with running_simulator(mined_delay_s=0.05, confirmed_delay_s=0.05) as sim:
        market = sim.market(neg_risk=False)
        cid, yes = market["condition_id"], market["yes_token_id"]
        sim.print_trade(yes, "0.47", "6", "BUY")
        sim.print_trade(yes, "0.49", "4", "SELL")
        wait_until(lambda: len(httpx.get(f"{sim.data_api_host}/trades", params={"market": cid}).json()) == 2, 10,
                   what="the trades on the public tape")
        env = isolated_env(tmp_path, SIMULATOR_PORT=str(sim.port))
        assert run_cli(["init"], env).returncode == 0
        hour = _v2_file(tmp_path / "hour.parquet", _now_rows(cid, yes, datetime.now(UTC)))
        both = run_cli(["import-history", "--pmxt", str(hour), "--market", cid, "--public-trades", "--trades",
                        str(hour)], env)
        assert both.returncode != 0 and "choose one" in both.stderr
        done = run_cli(["import-history", "--pmxt", str(hour), "--market", cid, "--public-trades"], env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ticks"] == 4  # the book, the change and the two public trades
    assert "public trades of the span read from the Data API" in done.stderr
    trades = [(t[3], t[4], t[5]) for t in _ticks(Database(Path(env["TRADER_DB"]))) if t[2] == "trade"]
    assert sorted(trades) == [("BUY", 470000, 6000000), ("SELL", 490000, 4000000)]


def test_a_span_beyond_the_data_apis_pages_is_refused_in_words(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    from engine.venues.polymarket import pmxt_import

    with running_simulator(mined_delay_s=0.05, confirmed_delay_s=0.05) as sim:
        market = sim.market(neg_risk=False)
        for price in ("0.41", "0.42", "0.43"):
            sim.print_trade(market["yes_token_id"], price, "1", "BUY")
        wait_until(lambda: len(httpx.get(f"{sim.data_api_host}/trades").json()) == 3, 10, what="the tape")
        monkeypatch.setattr(pmxt_import, "TRADES_PAGE", 1)  # three pages of one: the last one is past the cap
        monkeypatch.setattr(pmxt_import, "TRADES_MAX_OFFSET", 1)
        long_ago = (1_700_000_000_000, 1_700_000_060_000)
        with pytest.raises(PmxtError, match="reaches back only 2 trades, all after these files' start .* --trades"):
            asyncio.run(pmxt_import.public_trades(sim.data_api_host, [market["condition_id"]], long_ago))

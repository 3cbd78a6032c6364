"""Every built-in kind backtests (issue 76): each on a small scripted recording, through the same core as
live (risk gate, paper venue, scratch ledger), trading where its idea says it should. Copy trading copies
the followed wallets' trades the desk kept, each from when the desk heard of it; value betting and the
ensemble act on a fair value only above their minimum confidence."""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from contracts.domain import Outcome, Side, yes_space
from contracts.settings import load_settings
from engine.backtest.runner import BacktestError, BacktestResult, BacktestSpec, check_data, run_sync
from storage.sqlite.migrations import migrate

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _recording import _book, _market_row  # noqa: E402

START = 1_800_000_000_000
S = 1_000  # a second, in ms
Path_ = list[tuple[int, float]]  # (seconds from the start, the YES mid)


def _recording(path: Path, paths: list[Path_]) -> list[str]:
    """Markets whose YES mids follow `paths` (a full book around each mid, the NO book its mirror),
    decided every second; returns their condition ids."""
    migrate(path)
    rows = [_market_row(i, START) for i in range(len(paths))]
    with sqlite3.connect(path) as conn:
        conn.executemany(f"INSERT INTO markets ({', '.join(rows[0])}) VALUES ({', '.join('?' * len(rows[0]))})",
                         [tuple(r.values()) for r in rows])
        ticks: list[tuple[int, str, str, None, None, None, int, str]] = []
        for row, moves in zip(rows, paths, strict=True):
            for second, price in moves:
                mid = round(price * 1_000_000)
                for token, m in ((row["yes_token"], mid), (row["no_token"], 1_000_000 - mid)):
                    ticks.append((START + second * S, token, "book", None, None, None, m, json.dumps(_book(m))))
        ticks.sort(key=lambda tick: tick[0])  # in time order, as the recorder writes them
        conn.executemany("INSERT INTO ticks (at, token_id, kind, side, price, size, mid, data) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", ticks)
        conn.execute("INSERT INTO settings (key, value, version, updated_at, updated_by) "
                     "VALUES ('tick_interval_ms', '1000', 1, 0, 'test')")
    return [r["condition_id"] for r in rows]


def _flat(seconds: int, mid: float = 0.5, every: int = 5) -> Path_:
    return [(t, mid) for t in range(0, seconds + 1, every)]


def _run(tmp: Path, kind: str, params: dict[str, Any], paths: list[Path_],
         extra: Callable[[sqlite3.Connection, list[str]], None] | None = None) -> tuple[BacktestResult, list[str]]:
    path = tmp / "recorded.db"
    markets = _recording(path, paths)
    if extra is not None:
        with sqlite3.connect(path) as conn:
            extra(conn, markets)
    end = START + max(t for p in paths for t, _ in p) * S
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "TRADER_DB": str(path)})
    spec = BacktestSpec(kind, params, START, end, tuple(markets), seed=1, latency="zero")
    return run_sync(spec, path, settings, work_dir=tmp / "bt"), markets


def _signals(rows: list[tuple[str, float, float | None]], brier: dict[str, float]
             ) -> Callable[[sqlite3.Connection, list[str]], None]:
    """Standing fair values (source, value, confidence) for the first market, and the breaker's verdicts."""
    def write(conn: sqlite3.Connection, markets: list[str]) -> None:
        for source, value, confidence in rows:
            conn.execute("""INSERT INTO signals (condition_id, source, fair_value, version, updated_at, updated_by,
                                confidence) VALUES (?, ?, ?, 1, 0, 'test', ?)""",
                         (markets[0], source, round(value * 1e6),
                          None if confidence is None else round(confidence * 1e6)))
        for source, score in brier.items():
            conn.execute("""INSERT INTO signal_sources (source, state, brier, markets, judged_at, reason)
                            VALUES (?, 'feeding', ?, 20, 0, 'test')""", (source, round(score * 1e6)))
    return write


def _yes(row: dict[str, Any]) -> tuple[str, int]:
    """An order's or a fill's side and price in YES terms (a NO bought at q is YES sold at 1 - q)."""
    side, price = yes_space(Outcome(row["outcome"]), Side(row["side"]), row["price"])
    return side.value, price


def _sides(result: BacktestResult, market: str) -> set[str]:
    return {_yes(f)[0] for f in result.fills if f["condition_id"] == market}


def test_a_ladder_rests_its_levels_and_fills_on_both_sides_as_the_mid_swings(tmp_path: Path) -> None:
    swing = [(0, 0.5), (10, 0.53), (20, 0.5), (30, 0.47), (40, 0.5), (50, 0.5)]
    result, [market] = _run(tmp_path, "ladder", {"levels": 2, "spacing": 0.01, "recenter_move": 0.1}, [swing])
    gtc = {_yes(o) for o in result.orders if o["tif"] == "GTC"}
    assert {("BUY", 490_000), ("BUY", 480_000), ("SELL", 510_000), ("SELL", 520_000)} <= gtc  # around 0.50, kept
    assert _sides(result, market) == {"BUY", "SELL"}


def test_accumulation_buys_its_target_in_slices_an_interval_apart(tmp_path: Path) -> None:
    params = {"target_shares": 30, "size": 10, "interval_s": 30, "price_cap": 0.55}
    result, _ = _run(tmp_path, "accumulate", params, [_flat(100)])
    buys = sorted(o["created_at"] for o in result.orders)
    assert len(buys) == 3 and all(b - a >= 30 * S for a, b in zip(buys, buys[1:], strict=False))
    assert sum(f["size"] for f in result.fills if f["side"] == "BUY") == 30_000_000


def test_a_breakout_buys_once_the_mid_leaves_its_windows_range(tmp_path: Path) -> None:
    jump = [*_flat(70), (75, 0.55), (80, 0.55)]
    result, [market] = _run(tmp_path, "breakout", {"window_s": 60, "margin": 0.02, "size": 20}, [jump])
    assert result.orders and all(o["created_at"] >= START + 75 * S for o in result.orders)
    assert _sides(result, market) == {"BUY"}


def test_relative_value_sells_the_rich_market_and_buys_the_cheap_one(tmp_path: Path) -> None:
    params = {"against": "other_market", "warmup_s": 0, "lookback_s": 100}
    rich = [*_flat(30, every=1), (31, 0.55), (35, 0.55)]
    result, [a, b] = _run(tmp_path, "relative_value", params, [rich, _flat(35, every=1)])
    assert all(o["created_at"] >= START + 31 * S for o in result.orders)
    assert (_sides(result, a), _sides(result, b)) == ({"SELL"}, {"BUY"})  # (a sale of YES not held buys NO)


def test_the_ensemble_trades_toward_its_calibration_weighted_fair_value(tmp_path: Path) -> None:
    signals = _signals([("operator", 0.70, None), ("model", 0.66, 0.8), ("rumour", 0.99, 0.3)], {"model": 0.1})
    result, [market] = _run(tmp_path, "ensemble", {}, [_flat(20)], signals)
    assert _sides(result, market) == {"BUY"}
    with sqlite3.connect(tmp_path / "bt" / "backtest.db") as conn:
        stated = {p for (p,) in conn.execute("SELECT probability FROM forecasts")}
    assert stated == {670_000}  # the rumour's 0.3 confidence is below the 0.6 floor: left out


@pytest.mark.parametrize(("floor", "trades"), [(None, False), (0.5, True)])
def test_value_betting_acts_on_a_fair_value_only_at_its_minimum_confidence(tmp_path: Path, floor: float | None,
                                                                          trades: bool) -> None:
    params = {} if floor is None else {"min_confidence": floor}
    result, _ = _run(tmp_path, "value_betting", params, [_flat(20)], _signals([("model", 0.7, 0.5)], {}))
    assert bool(result.orders) is trades


def test_copy_trading_copies_each_followed_trade_from_when_the_desk_heard_of_it(tmp_path: Path) -> None:
    def followed(conn: sqlite3.Connection, markets: list[str]) -> None:
        yes = conn.execute("SELECT yes_token FROM markets").fetchone()[0]
        for key, at, seen in (("heard-at-once", 10, 12), ("heard-too-late", 20, 90)):
            conn.execute("""INSERT INTO followed_trades (wallet, label, trade_key, condition_id, token_id, side, price,
                                size, at, seen_at, source) VALUES ('0xw', 'whale', ?, ?, ?, 'BUY', 500000, 20000000,
                                ?, ?, 'data_api')""", (key, markets[0], yes, START + at * S, START + seen * S))

    params = {"scale": 0.5, "delay_s": 5, "max_age_s": 60}
    result, _ = _run(tmp_path, "copy_trading", params, [_flat(100)], followed)
    [copy] = result.orders  # the late one was older than max_age_s once the desk heard of it
    assert (copy["side"], copy["size"], copy["tif"]) == ("BUY", 10_000_000, "FAK")
    assert copy["created_at"] >= START + 15 * S  # heard at 12 s, copied after its 5 s delay from 10 s


def test_a_copy_trading_run_without_followed_trades_is_refused_before_it_starts(tmp_path: Path) -> None:
    path = tmp_path / "recorded.db"
    markets = _recording(path, [_flat(20)])
    spec = BacktestSpec("copy_trading", {}, START, START + 20 * S, tuple(markets))
    with pytest.raises(BacktestError, match="the desk kept none in these markets"):
        check_data(spec, path)

"""A backtest at the live cadence (issue 58 item 3; engine/backtest/event_replay.py): with
`decide_on_events` on, a recorded book move is answered at the move's simulated time, its orders
reaching the paper venue after the latency model's trip, not at the next recorded decision; a
market whose book floods does not starve another's decision, and its own replacements are spaced
by `decision_min_gap_ms` of simulated time. With the setting off the same recordings are answered
at the next recorded decision only."""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

from contracts.settings import load_settings
from engine.backtest.runner import BacktestResult, BacktestSpec, run_sync
from storage.sqlite.migrations import migrate

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _recording import _book, _market_row  # noqa: E402

PARAMS = {"size": 20, "half_spread": 0.01, "refresh_threshold": 0.0, "max_spread": 0.5}
T0 = 1_800_000_000_000
TICK = 10_000
FIRST_PASS, NEXT_PASS = T0 + 100, T0 + 10_000  # the recorded decisions: the timed passes
LATENCY = "constant:20,20,5"  # each request acts 25 ms after it is sent


def _record(path: Path, moves: list[tuple[int, int, int]], *, on: bool, gap_ms: int = 10,
            rows_of: Callable[[list[dict]], list[tuple]] = lambda _: []) -> tuple[list[str], int]:
    """A recording of markets quoted around 0.50, decided at FIRST_PASS and NEXT_PASS only, with
    `moves` (at, market, new mid) in between: each a fresh book of that market's YES and NO; and
    the ticks `rows_of(markets)` gives (at, token, kind, side, price, size, mid, data)."""
    migrate(path)
    rows = [_market_row(i, T0) for i in range(1 + max(m for _, m, _ in moves))]
    ticks: list[tuple] = []
    for row in rows:
        ticks += _books(T0, row, 50 * TICK)
    ticks.append((FIRST_PASS, "", "decide", None, None, None, None, None))
    for at, market, mid in sorted(moves):
        ticks += _books(at, rows[market], mid)
    ticks += rows_of(rows)
    ticks.append((NEXT_PASS, "", "decide", None, None, None, None, None))
    with sqlite3.connect(path) as conn:
        conn.executemany(f"INSERT INTO markets ({', '.join(rows[0])}) VALUES ({', '.join('?' * len(rows[0]))})",
                         [tuple(r.values()) for r in rows])
        conn.executemany("INSERT INTO ticks (at, token_id, kind, side, price, size, mid, data) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", ticks)
        for key, value in (("decide_on_events", int(on)), ("decision_min_gap_ms", gap_ms)):
            conn.execute("INSERT INTO settings (key, value, version, updated_at, updated_by) VALUES (?, ?, 1, 0, 't')",
                         (key, json.dumps(value)))
    return [r["condition_id"] for r in rows], NEXT_PASS


def _books(at: int, row: dict, mid: int) -> list[tuple]:
    return [(at, row["yes_token"], "book", None, None, None, mid, json.dumps(_book(mid))),
            (at, row["no_token"], "book", None, None, None, 1_000_000 - mid, json.dumps(_book(1_000_000 - mid)))]


def _backtest(tmp: Path, moves: list[tuple[int, int, int]], *, on: bool, gap_ms: int = 10) -> list[dict]:
    """The run's orders, each with the time it was sent (created_at), acknowledged (acked_at) and
    ended (closed_at: its cancel acted)."""
    path = tmp / "recorded.db"
    markets, end = _record(path, moves, on=on, gap_ms=gap_ms)
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "TRADER_DB": str(path)})
    result: BacktestResult = run_sync(BacktestSpec("market_making", PARAMS, T0, end, tuple(markets), seed=1,
                                                   latency=LATENCY), path, settings, work_dir=tmp / "work")
    assert result.order_count > 0
    with sqlite3.connect(tmp / "work" / "backtest.db") as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT condition_id, side, price, created_at, acked_at, closed_at "
                                              "FROM orders "
                                              "ORDER BY id")]


def _answers(orders: list[dict], market: str, after: int) -> list[dict]:
    return [o for o in orders if o["condition_id"] == market and o["created_at"] >= after]


def test_a_recorded_move_is_answered_at_its_time_plus_the_latency_not_at_the_next_pass(tmp_path: Path) -> None:
    move = T0 + 5_000
    moves = [(move, 0, 51 * TICK)]  # the mid a tick up: the quotes 0.49/0.51 are now 0.50/0.52
    on = _backtest(tmp_path / "on", moves, on=True)
    market = on[0]["condition_id"]
    first = [o for o in on if o["created_at"] == FIRST_PASS]
    answers = _answers(on, market, FIRST_PASS + 1)
    # (its ask is a bid for NO: 1 - 0.52)
    assert len(first) == 2 and {o["price"] for o in answers} == {50 * TICK, 48 * TICK}
    # Decided at the move's instant: the old quotes' cancels act after their 25 ms trip, then the new
    # quotes are sent and acknowledged 25 ms later.
    assert {o["closed_at"] for o in first} == {move + 25}
    assert {(o["created_at"], o["acked_at"]) for o in answers} == {(move + 25, move + 50)}
    # Without decisions on events, the same move waits for the next recorded decision.
    off = _backtest(tmp_path / "off", moves, on=False)
    assert {o["closed_at"] for o in off if o["created_at"] == FIRST_PASS} == {NEXT_PASS + 25}
    assert {o["created_at"] for o in _answers(off, market, FIRST_PASS + 1)} == {NEXT_PASS + 25}


def test_a_flooding_market_does_not_starve_anothers_decision_and_its_replacements_are_spaced(
        tmp_path: Path) -> None:
    gap_ms, quiet_move = 200, T0 + 1_500  # (the gap longer than a decision's trips, 50 ms)
    # Market 0's mid flips every 2 ms for a second; market 1 moves once in the middle of it.
    flood = [(T0 + 1_000 + 2 * k, 0, (51 if k % 2 == 0 else 50) * TICK) for k in range(500)]
    moves = [*flood, (quiet_move, 1, 51 * TICK)]
    on = _backtest(tmp_path / "on", moves, on=True, gap_ms=gap_ms)
    busy, quiet = on[0]["condition_id"], on[2]["condition_id"]
    assert busy != quiet
    answered = _answers(on, quiet, FIRST_PASS + 1)
    # Its decision waits at most for the busy market's one decision on its way (a cancel's and a
    # placement's trips, 50 ms), then its own cancel's trip: never for the flood to end.
    assert answered and min(o["created_at"] for o in answered) <= quiet_move + 75
    # The busy market is decided all through its flood, its replacements at least the gap apart.
    replaced = sorted({o["created_at"] for o in _answers(on, busy, FIRST_PASS + 1)})
    assert len(replaced) >= 4 and replaced[-1] >= T0 + 1_700
    assert all(b - a >= gap_ms for a, b in zip(replaced, replaced[1:], strict=False))
    off = _backtest(tmp_path / "off", moves, on=False, gap_ms=gap_ms)
    assert {o["created_at"] for o in _answers(off, quiet, FIRST_PASS + 1)} == {NEXT_PASS + 25}


def test_a_market_maker_reading_the_touch_prices_is_decided_by_their_moves_not_by_depth_or_prints(
        tmp_path: Path) -> None:
    """Market 0's quoter reads only its YES touch's prices (`StrategyBase.reads_touch_prices`): a level
    behind the touch, within its reach, that changes, a print that fills nothing and its NO book's touch
    changing size decide nothing; its touch moving does. One reading the microprice (sizes) is decided
    by the same depth changes."""
    def quiet(markets: list[dict]) -> list[tuple]:
        yes, no = markets[0]["yes_token"], markets[0]["no_token"]
        return [(T0 + 1_000, yes, "change", "BUY", 47 * TICK, 70_000_000, None, None),  # 2 ticks behind the bid
                (T0 + 2_000, yes, "trade", "SELL", 49 * TICK, 1_000_000, None, None),  # 1 share: 50 queue ahead
                (T0 + 3_000, no, "change", "BUY", 49 * TICK, 90_000_000, None, None)]  # the NO touch's size

    def run(name: str, params: dict, moves: list[tuple[int, int, int]],
            rows_of: Callable[[list[dict]], list[tuple]] = quiet) -> int:
        """The run's decisions: the two timed passes, then those on events."""
        path = tmp_path / name / "recorded.db"
        path.parent.mkdir()
        markets, end = _record(path, moves, on=True, rows_of=rows_of)
        settings = load_settings({"TRADER_ENV_FILE": str(tmp_path / "none"), "TRADER_DB": str(path)})
        return run_sync(BacktestSpec("market_making", params, T0, end, tuple(markets), seed=1, latency=LATENCY),
                        path, settings, work_dir=tmp_path / name / "work").decisions

    moves = [(T0 + 4_000, 1, 50 * TICK)]  # market 1 written again as it was: nothing read moves
    alone = run("alone", PARAMS, moves, lambda _: [])  # its own orders' news decide it (their acks)
    assert run("plain", PARAMS, moves) == alone
    assert run("moved", PARAMS, [*moves, (T0 + 5_000, 0, 51 * TICK)]) > alone
    micro = {**PARAMS, "fair_value": "microprice"}
    assert run("microprice", micro, moves) > run("microprice-alone", micro, moves, lambda _: [])

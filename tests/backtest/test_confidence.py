"""A backtest says how sure its PnL and markouts are, and only as sure as the data allows (issue 85 item 4):
each fill's share of the PnL (its markout against the run's last mid, less its fee), summed by round trip (a
market's fills from flat back to flat, or held to the end: fills riding the same move are not independent),
and a bootstrap over the round trips, kept with the run (engine/backtest/confidence.py,
contracts/bootstrap.py). No interval, with why in words, when every fill is at one price, the round trips are
too few or all alike; never a p-value below what their number allows; and the Backtest page, its HTML report,
the command line's JSON and a sweep all say the same (contracts/metrics.py `interval_words`)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from contracts.bootstrap import MIN_UNITS, p_floor
from contracts.domain import Outcome, Side
from contracts.metrics import interval_words, pnl_columns
from engine.analytics.markouts import FillPoint
from engine.backtest.confidence import FillShares
from tests.backtest.test_runner import PARAMS, _plain_backtest

M = 1_000_000


def test_a_fills_share_is_its_markout_to_the_last_mid_less_its_fee_summed_by_round_trip() -> None:
    shares = FillShares({"yes": 500_000, "gone": None}.get)
    shares.add("yes", FillPoint(Side.BUY, 400_000, 10 * M, 0), 10_000, {"10s": 200_000, "60s": None}, "a")
    shares.add("yes", FillPoint(Side.SELL, 450_000, 4 * M, 5), 0, {"10s": -100_000}, "a")  # still long 6: same trip
    shares.add("gone", FillPoint(Side.BUY, 300_000, 2 * M, 9), 20_000, {}, "b")  # no mid recorded: its fee alone
    assert list(shares.pnl) == pytest.approx([1.0 - 0.01 - 0.2, -0.02])  # two round trips, one per market
    assert list(shares.markouts["10s"]) == pytest.approx([0.1, 0.0])
    assert shares.counted["10s"] == 2 and shares.counted["60s"] == 0 and shares.fills == 3


def test_a_round_trip_ends_at_flat_or_across_it_and_no_shares_count_against_yes_held() -> None:
    shares = FillShares(lambda token: 500_000)
    fills = [("yes", Side.BUY, 10), ("yes", Side.SELL, 10),  # flat: one round trip
             ("no", Side.BUY, 5), ("yes", Side.BUY, 5),  # NO is short YES: 5 NO then 5 YES is flat again
             ("yes", Side.BUY, 3), ("yes", Side.SELL, 8)]  # across flat: the crossing fill ends it
    for at, (token, side, size) in enumerate(fills):
        outcome = Outcome.YES if token == "yes" else Outcome.NO
        shares.add(token, FillPoint(side, 400_000 + at * 10_000, size * M, at), 0, {}, "m", outcome)
    assert len(shares.pnl) == 3


def _trips(values: list[tuple[Side, int, float]], markets: int = 1) -> FillShares:
    """Round trips of (side, price, size) fills, each in a market of its own when `markets` > 1."""
    shares = FillShares(lambda token: 500_000)
    for at, (side, price, size) in enumerate(values):
        shares.add("yes", FillPoint(side, price, round(size * M), at), 0, {}, f"m{at % markets}")
    return shares


def test_fills_at_one_price_too_few_round_trips_or_all_alike_have_no_interval_and_say_why() -> None:
    same = _trips([(Side.BUY, 490_000, 5)] * 14)  # 14 identical fills: +23.10 [+23.10, +23.10], p = 0.002 before
    assert same.fields(0.14, seed=1) == {
        "interval_fills": 14, "interval_units": 1, "interval_unit": "round trip",
        "interval_none": "every fill at one price (0.490): whatever the sizes, the result rests on one move from "
                         "that price, not on independent trades"}
    sizes = _trips([(Side.BUY, 480_000, 1 + k % 3) for k in range(36)], markets=36)  # 36 trips, one price
    assert sizes.fields(1.0, seed=1)["interval_none"].startswith("every fill at one price (0.480)")
    slices = _trips([(Side.BUY, 480_000 + k * 1_000, 5) for k in range(10)])  # an accumulation's 10 buys: 1 trip
    assert slices.fields(1.0, seed=1)["interval_none"] == (
        "1 independent round trip (a market's fills from flat back to flat, or held to the end): an interval "
        f"needs at least {MIN_UNITS}")
    alike = FillShares(lambda token: 500_000)
    for n in range(12):  # twelve round trips that each made exactly the same
        alike.add("yes", FillPoint(Side.BUY, 480_000 + n * 1_000, 5 * M, 2 * n), 0, {}, "m")
        alike.add("yes", FillPoint(Side.SELL, 490_000 + n * 1_000, 5 * M, 2 * n + 1), 0, {}, "m")
    assert alike.fields(0.6, seed=1)["interval_none"] == "every round trip made the same: there is no spread to measure"


def test_the_p_value_is_never_below_what_the_round_trips_allow() -> None:
    earning = FillShares(lambda token: 500_000)
    for n in range(MIN_UNITS):  # five round trips, each earning a little more than the last
        earning.add("yes", FillPoint(Side.BUY, 400_000, 5 * M, 2 * n), 0, {}, "m")
        earning.add("yes", FillPoint(Side.SELL, 450_000 + n * 1_000, 5 * M, 2 * n + 1), 0, {}, "m")
    found = earning.fields(0.6, seed=1)
    assert found["interval_units"] == MIN_UNITS and "interval_none" not in found
    # every resample earns (the bootstrap alone says 0.002), but five round trips that all earned happen by
    # luck once in sixteen: 2^-4
    assert found["pnl_low"] > 0 and found["pnl_p_value"] == pytest.approx(p_floor(MIN_UNITS)) == 0.0625
    assert p_floor(1) == 1.0 and p_floor(12) == pytest.approx(2 ** -11)


def test_a_backtest_states_its_pnls_interval_over_round_trips_and_keeps_it_with_the_run(tmp_path: Path) -> None:
    from engine.backtest.runner import BacktestSpec
    from storage.research import backtest_runs as store
    from storage.research.launch_requests import request_backtest
    from storage.sqlite.db import Database

    result = _plain_backtest(tmp_path, PARAMS, events=20_000)
    metrics = result.metrics
    pnl = metrics.end_equity - metrics.start_equity
    assert metrics.trades >= 20 and metrics.interval_fills == metrics.trades
    units = metrics.interval_units
    assert metrics.interval_unit == "round trip" and units is not None and MIN_UNITS <= units < metrics.trades
    assert metrics.pnl_low is not None and metrics.pnl_high is not None and metrics.pnl_p_value is not None
    assert metrics.pnl_low < pnl < metrics.pnl_high and p_floor(units) <= metrics.pnl_p_value <= 1
    assert metrics.markout_60s_low is not None and metrics.markout_60s_high is not None
    assert metrics.markout_60s_low <= metrics.markout_60s_usdc <= metrics.markout_60s_high
    db = Database(tmp_path / "recorded.db")
    run_id = request_backtest(db, BacktestSpec("market_making", PARAMS, 0, 1), "t", actor="test")
    store.finish(db, run_id, result)
    db.dispose()
    with sqlite3.connect(tmp_path / "recorded.db") as conn:
        (stored,) = conn.execute("SELECT metrics FROM strategy_runs WHERE id = ?", (run_id,)).fetchone()
    kept = json.loads(stored)
    assert (kept["pnl_low"], kept["pnl_high"], kept["pnl_p_value"], kept["interval_units"]) == (
        metrics.pnl_low, metrics.pnl_high, metrics.pnl_p_value, metrics.interval_units)


def test_every_view_says_the_same_interval_or_why_there_is_none() -> None:
    """The page's tile and row and the HTML report (charts/backtest_format.py), a sweep's best trial
    (charts/sweep.py) and its tables and JSON (`pnl_columns`) all word it with `interval_words`."""
    from charts.backtest_format import metric_rows, metric_tiles
    from charts.sweep import best_pnl_line

    stated = {"start_equity": 1000.0, "end_equity": 1003.7, "pnl_low": -2.1, "pnl_high": 9.4, "pnl_p_value": 0.3112,
              "interval_fills": 40, "interval_units": 12, "interval_unit": "round trip", "markout_60s_usdc": 1.23,
              "markout_60s_bps": 45.0, "markout_60s_fills": 40, "markout_60s_low": -0.5, "markout_60s_high": 3.0}
    words = interval_words(stated)
    assert words == "over 12 round trips (40 fills)"
    rows = {spec.key: value for spec, value in metric_rows(stated)}
    assert rows["pnl"] == f"+3.70 pUSD (95 %: -2.10 to +9.40, p = 0.31, {words})"
    assert rows["markout_60s"] == "+1.23 pUSD (+45 bps of 40 fills; 95 %: -0.50 to +3.00)"
    tiles = {spec.key: (label, figure, note) for spec, label, figure, note in metric_tiles(stated)}
    assert tiles["pnl"] == ("PnL (pUSD)", "+3.70", f"95 %: -2.10 to +9.40, p = 0.31, {words}")
    assert f"p = 0.311 against zero, {words})" in best_pnl_line({"number": 1, "metrics": stated}, 5)
    assert pnl_columns(stated)["pnl_sure"] == words
    why = "every fill at one price (0.490): whatever the sizes, the result rests on one move from that price, not " \
          "on independent trades"
    none = {"start_equity": 1000.0, "end_equity": 1023.1, "interval_fills": 14, "interval_units": 1,
            "interval_unit": "round trip", "interval_none": why}
    assert interval_words(none) == f"no interval: {why}"
    assert {s.key: v for s, v in metric_rows(none)}["pnl"] == f"+23.10 pUSD (no interval: {why})"
    assert best_pnl_line({"number": 2, "metrics": none}, 5) == f"Best trial 2: PnL +23.10 pUSD (no interval: {why})."
    assert pnl_columns(none) == {"pnl": pytest.approx(23.1), "pnl_low": None, "pnl_high": None, "pnl_p": None,
                                 "pnl_sure": f"no interval: {why}"}
    old = {"start_equity": 1000.0, "end_equity": 999.0, "interval_fills": 3}  # a run kept before round trips
    assert {s.key: v for s, v in metric_rows(old)}["pnl"] == "-1.00 pUSD (no interval: 3 fills)"

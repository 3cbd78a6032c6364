"""A backtest's latency model: realistic unless zero is asked for, named in the run's results,
and the fills it cost (orders picked off while their cancel was on its way) reported; a zero
run of the same recording has none. `measured` draws from the desk's live placements and says
so plainly when there are too few."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest

from contracts.latency_spec import DEFAULT
from contracts.settings import load_settings
from engine.backtest.runner import BacktestError, BacktestResult, BacktestSpec, run_sync

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _recording import write_recording  # noqa: E402

PARAMS = {"size": 20, "half_spread": 0.01, "refresh_threshold": 0.0, "max_spread": 0.5}


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, tuple[str, ...], int, int]:
    path = tmp_path_factory.mktemp("latency") / "recorded.db"
    markets, start, end = write_recording(path, markets=2, events=6_000, events_per_decision=20)
    return path, tuple(markets), start, end


def _run(recording: tuple[Path, tuple[str, ...], int, int], work: Path, latency: str | None) -> BacktestResult:
    path, markets, start, end = recording
    settings = load_settings({"TRADER_ENV_FILE": str(work / "none"), "TRADER_DB": str(path)})
    return run_sync(BacktestSpec("market_making", PARAMS, start, end, markets, seed=3, latency=latency), path,
                    settings, work_dir=work)


def test_latency_costs_fills_that_a_zero_latency_run_of_the_same_data_avoids(
        recording: tuple[Path, tuple[str, ...], int, int], tmp_path: Path) -> None:
    zero = _run(recording, tmp_path / "zero", "zero")
    slow = _run(recording, tmp_path / "slow", "constant:150,150,50")
    assert zero.latency["model"] == "zero" and zero.latency["pickoffs"] == 0
    assert slow.latency["model"] == "constant:150,150,50"
    assert slow.latency["pickoffs"] > 0 and slow.latency["shares"] > 0 and slow.latency["notional"] > 0
    assert "orders 150 ms" in str(slow.latency["described"])
    assert zero.fill_count > 0 and [(f["price"], f["size"]) for f in zero.fills] != \
        [(f["price"], f["size"]) for f in slow.fills]


def test_without_a_choice_a_backtest_runs_on_the_realistic_default(
        recording: tuple[Path, tuple[str, ...], int, int], tmp_path: Path) -> None:
    result = _run(recording, tmp_path / "default", None)
    assert result.latency["model"] == DEFAULT != "zero"


def test_the_desks_setting_is_the_default_and_measured_needs_live_round_trips(
        recording: tuple[Path, tuple[str, ...], int, int], tmp_path: Path) -> None:
    path = tmp_path / "desk.db"
    path.write_bytes(recording[0].read_bytes())
    copy = (path, *recording[1:])
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO settings (key, value, version, updated_at, updated_by) VALUES "
                     "('paper_latency', ?, 1, 0, 't')", (json.dumps("measured:20"),))
    with pytest.raises(BacktestError, match="needs at least 20 live placements .* this desk has 0"):
        _run(copy, tmp_path / "m", None)  # the same recording, copied
    with pytest.raises(BacktestError, match="not understood"):
        _run(recording, tmp_path / "bad", "quick")


def test_a_backtest_on_a_crypto_market_holds_its_takers_as_the_venue_does(tmp_path: Path) -> None:
    """The same accumulation (three fill-and-kill slices into a still book) on a market of the crypto category
    and on one outside it: each slice acts 100 ms after its decision, and on the crypto market the venue
    holds it 50 ms more before it matches; the run's latency says so."""
    from tests.backtest.test_every_kind import START, S, _flat, _recording

    params = {"target_shares": 30, "size": 10, "interval_s": 30, "price_cap": 0.55}
    waits, latency = {}, {}
    for crypto in (False, True):
        work = tmp_path / ("crypto" if crypto else "other")
        work.mkdir()
        path = work / "recorded.db"
        markets = _recording(path, [_flat(100)])
        if crypto:
            with sqlite3.connect(path) as conn:
                conn.execute("UPDATE markets SET tags = '[\"Crypto\", \"Bitcoin\"]'")
        settings = load_settings({"TRADER_ENV_FILE": str(work / "none"), "TRADER_DB": str(path)})
        spec = BacktestSpec("accumulate", params, START, START + 100 * S, tuple(markets), seed=1,
                            latency="constant:100,100,0")
        result = run_sync(spec, path, settings, work_dir=work / "bt")
        created = {o["id"]: o["created_at"] for o in result.orders}
        waits[crypto] = sorted(f["matched_at"] - created[f["order_id"]] for f in result.fills)
        latency[crypto] = result.latency
    assert len(waits[False]) == len(waits[True]) == 3
    assert all(100 <= wait < 150 for wait in waits[False]) and latency[False]["taker_holds"] == 0
    assert all(wait >= 150 for wait in waits[True]) and latency[True]["taker_holds"] == 3
    assert "3 taker orders on crypto markets held 50 ms by the venue" in str(latency[True]["described"])

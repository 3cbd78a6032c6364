"""A backtest's results hold what a long run needs in bounded memory: equity samples in typed
arrays that read like a list of pairs, and at most KEPT_ROWS fills and orders as rows, with
every fill and order still counted and every fill in the metrics and markouts."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

from contracts.settings import load_settings
from engine.backtest import runner
from engine.backtest.results import Samples, kept_rows
from engine.backtest.runner import BacktestResult, BacktestSpec, run_sync
from storage.research.backtest_recording import ReplayRows

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from _recording import write_recording  # noqa: E402

PARAMS = {"size": 20, "half_spread": 0.01, "refresh_threshold": 0.0, "max_spread": 0.5}


def test_samples_read_like_the_list_of_pairs_they_hold() -> None:
    points = [(1_000, 10.5), (2_000, 9.25), (3_500, 11.0)]
    samples = Samples(points)
    assert len(samples) == 3 and list(samples) == points
    assert samples[0] == (1_000, 10.5) and samples[-1] == (3_500, 11.0) and samples[1:] == points[1:]
    assert samples == points and samples == Samples(points) and samples != points[:2]
    samples.add(4_000, 8.0)
    assert samples[-1] == (4_000, 8.0) and dict(samples)[4_000] == 8.0


def test_kept_rows_passes_every_row_on_and_keeps_the_first() -> None:
    kept: list[dict[str, int]] = []
    rows = [{"n": n} for n in range(7)]
    assert list(kept_rows(iter(rows), kept, 3)) == rows
    assert kept == rows[:3] and kept[0] is rows[0]


def _run(tmp: Path, work: str) -> BacktestResult:
    path = tmp / "recorded.db"
    if not path.exists():
        write_recording(path, markets=2, events=6_000, events_per_decision=20)
    with sqlite3.connect(path) as conn:
        markets = [r[0] for r in conn.execute("SELECT condition_id FROM markets ORDER BY condition_id")]
        start, end = conn.execute("SELECT MIN(at), MAX(at) FROM ticks").fetchone()
    settings = load_settings({"TRADER_ENV_FILE": str(tmp / "none"), "TRADER_DB": str(path)})
    return run_sync(BacktestSpec("market_making", PARAMS, start, end, tuple(markets), seed=3), path, settings,
                    work_dir=tmp / work)


def test_a_long_run_keeps_the_first_rows_and_counts_them_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = _run(tmp_path, "whole")
    assert whole.fill_count == len(whole.fills) > 6 and whole.order_count == len(whole.orders) > 6
    monkeypatch.setattr(runner, "KEPT_ROWS", 5)
    capped = _run(tmp_path, "capped")
    assert (capped.fill_count, capped.order_count) == (whole.fill_count, whole.order_count)
    assert capped.orders == whole.orders[:5] and capped.fills == whole.fills[:5]  # with their markouts
    # Every fill still counts: the same trades, fees, closes and markouts as the run that kept them all.
    assert capped.metrics == whole.metrics and capped.curve == whole.curve and capped.exposure == whole.exposure
    assert capped.metrics.trades > 5


def test_progress_is_projected_without_counting_and_ends_at_the_events_replayed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, int]] = []
    stepped: list[int] = []  # the rows of each window of the recording read
    window = ReplayRows.window

    def counted(self: ReplayRows, *args: object) -> list:
        rows = window(self, *args)  # type: ignore[arg-type]  # the wrapped method's own arguments, passed through
        stepped.append(len(rows))
        return rows

    monkeypatch.setattr(ReplayRows, "window", counted)
    path = tmp_path / "recorded.db"
    markets, start, end = write_recording(path, markets=2, events=6_000, events_per_decision=20)
    settings = load_settings({"TRADER_ENV_FILE": str(tmp_path / "none"), "TRADER_DB": str(path)})
    result = run_sync(BacktestSpec("market_making", PARAMS, start, end, tuple(markets), seed=3), path, settings,
                      work_dir=tmp_path / "work", progress=lambda done, total: seen.append((done, total)))
    assert len(seen) > 100 and seen[-1] == (result.events, result.events)
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert all(done <= total for done, total in seen)
    # A recording of evenly spread events: the projection is close from the first step on.
    assert all(abs(total - result.events) <= result.events * 0.05 for _, total in seen)
    # Projected, not counted: the recording's rows are stepped through once, by the replay itself.
    assert sum(stepped) == result.events

"""The Brier score and calibration bins, checked by hand."""

from __future__ import annotations

import pytest

from contracts.calibration import Calibration, calibrate

M = 1_000_000


def test_each_market_counts_once_whatever_its_forecasts() -> None:
    # Market a: 0.8 and 0.6, resolved YES: ((0.2)² + (0.4)²) / 2 = 0.10. Market b: 0.3, resolved NO: 0.09.
    scored = calibrate([("a", 800_000, M), ("a", 600_000, M), ("b", 300_000, 0)])
    assert scored.brier == pytest.approx((0.10 + 0.09) / 2)
    assert [(m.condition_id, m.forecasts, m.outcome) for m in scored.markets] == [("a", 2, 1.0), ("b", 1, 0.0)]
    assert scored.markets[0].mean_probability == pytest.approx(0.7) and scored.forecasts == 3


def test_a_50_50_resolution_scores_against_half() -> None:
    assert calibrate([("c", 500_000, M // 2)]).brier == pytest.approx(0.0)
    assert calibrate([("c", 900_000, M // 2)]).brier == pytest.approx(0.16)


def test_forecasts_fall_in_ten_bins_with_the_share_that_resolved_yes() -> None:
    rows = [("a", 720_000, M), ("b", 750_000, 0), ("c", 780_000, M), ("d", 1_000_000, M), ("e", 50_000, 0)]
    bins = {(b.low, b.high): b for b in calibrate(rows).bins}
    assert set(bins) == {(0.0, 0.1), (0.7, 0.8), (0.9, 1.0)}  # 1.0 lies in the top bin
    seventies = bins[(0.7, 0.8)]
    assert (seventies.forecasts, seventies.observed) == (3, pytest.approx(2 / 3))
    assert seventies.mean_probability == pytest.approx(0.75)


def test_nothing_resolved_has_no_score_and_the_json_round_trips() -> None:
    empty = calibrate([])
    assert (empty.brier, empty.markets, empty.bins) == (None, (), ())
    scored = calibrate([("a", 800_000, M), ("b", 300_000, 0)])
    assert Calibration.from_json(scored.to_json()) == scored
    assert Calibration.from_json({}) is None
